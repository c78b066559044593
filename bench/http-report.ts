/**
 * The "## HTTP byte streams" section of docs/benchmarks.md, from the results
 * of bench/http.ts. Other benchmarks own other sections of that file: this
 * replaces its own section where it is, or appends it at the end, and leaves
 * every other line alone.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Measurement } from "./http.js";

const HEADING = "## HTTP byte streams";

export interface HttpReport {
  node: string;
  cpus: number;
  seconds: number;
  rounds: number;
  writers: number;
  bodyBytes: number;
  results: Measurement[];
}

export function writeDocSection(path: string, report: HttpReport): void {
  const section = render(report);
  const doc = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  const start = doc.indexOf(`${HEADING}\n`);
  let next: string;
  if (start < 0) {
    next = `${doc.trimEnd()}\n\n${section}`;
  } else {
    const after = doc.indexOf("\n## ", start + HEADING.length);
    next = `${doc.slice(0, start)}${section}${after < 0 ? "" : doc.slice(after + 1)}`;
  }
  writeFileSync(path, next.endsWith("\n") ? next : `${next}\n`);
}

function render(r: HttpReport): string {
  const workloads = [...new Set(r.results.map((m) => m.workload))];
  const rows = workloads.map((w) => {
    const [ours, theirs] = r.results.filter((m) => m.workload === w);
    const ratio = ours !== undefined && theirs !== undefined ? (ours.opsPerSec / theirs.opsPerSec).toFixed(2) : "–";
    return `| ${w} | ${cell(ours)} | ${cell(theirs)} | **${ratio}×** |`;
  });
  return [
    HEADING,
    "",
    "`bench/http.ts` (`node dist/bench/http.js`): `seglog serve` against the reference",
    "server `@durable-streams/server` in file-backed mode, each in its own child process",
    "on a fresh temporary directory, same machine, same run; the load generator is the",
    "parent process (node:http, keep-alive). Both fsync every acknowledged append.",
    `Node ${r.node}, ${r.cpus} CPUs shared with other work, so the servers take turns for ${r.rounds} rounds`,
    `(order flipped each round) and each one's best round is shown; ${r.seconds} s per measurement after a`,
    `warm-up, ${r.writers} concurrent clients, ${r.bodyBytes}-byte appends. Raw numbers: \`bench/results/http.json\`.`,
    "",
    "| workload | seglog serve: ops/s, MB/s, p50 / p99 ms | reference: ops/s, MB/s, p50 / p99 ms | throughput ratio |",
    "|---|---|---|---|",
    ...rows,
    "",
    "Workloads: *append, own streams* — each client appends to its own stream;",
    "*append, one stream* — all clients append to the same stream; *catch-up read* — one",
    "client reads a 4 MiB stream (4,096 appends of 1 KiB) from the start to the tail,",
    "following Stream-Next-Offset (one op = the whole stream); *tail read* — each client",
    "fetches the last 16 appends of that stream, again and again. The ratio is seglog's",
    "throughput divided by the reference's (above 1: seglog is faster).",
    "",
  ].join("\n");
}

function cell(m: Measurement | undefined): string {
  if (m === undefined) return "–";
  return `${Math.round(m.opsPerSec).toLocaleString("en-US")} ops/s, ${m.mbPerSec.toFixed(1)} MB/s, ${m.p50Ms} / ${m.p99Ms}`;
}
