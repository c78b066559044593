/**
 * HTTP load with autocannon: 64 clients appending (256-byte bodies, each
 * client on a stream of its own), `seglog serve` beside the reference server
 * @durable-streams/server in the same run, first on a quiet server, then while
 * hostile clients hang on:
 *   - 100 slow uploaders: each announces a 15 MiB body and trickles 16 KiB every
 *     100 ms; when the server ends the upload, the uploader starts another;
 *   - 1,000 stalled SSE readers of a 150 MiB stream (1 MiB appends): each asks
 *     for the stream from the start and never reads a byte; when the server cuts
 *     it off, it comes back.
 * Reported per server and phase: appends/s, p50/p99/max latency of the
 * appending clients (autocannon's), errors and non-2xx answers, and the
 * server's peak RSS (sampled from /proc every 50 ms).
 *
 * Run: `npm run build && npm run bench:http-load` (`-- --seconds 5` for a quick run).
 * Writes bench/results/http-load.json and the "## HTTP under hostile load" section of docs/benchmarks.md.
 */
import autocannon from "autocannon";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeSection } from "./doc-section.js";
import { SUBJECTS, stop, type Subject } from "./http-servers.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "15" } } });
const SECONDS = Number(values.seconds);
const CLIENTS = 64;
const BODY = "x".repeat(256);
const UPLOADERS = 100;
const UPLOAD_ANNOUNCED = 15 * 1024 * 1024;
const TRICKLE = Buffer.alloc(16 * 1024, 0x61);
const SSE_READERS = 1000;
const BIG_STREAM_MIB = 150;
/** A server whose RSS passes this is stopped and reported as such: the machine is shared. */
const RSS_CEILING = 6 * 1024 ** 3;
const MEMORY_BUDGET = 256 * 1024 * 1024;
const LOAD_HEADING = "## HTTP under hostile load";

export interface LoadResult {
  subject: string;
  phase: "quiet" | "hostile";
  appendsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  non2xx: number;
  peakRssMiB: number;
  note?: string;
}

const results: LoadResult[] = [];
for (const subject of SUBJECTS) {
  const dir = mkdtempSync(join(tmpdir(), "seglog-bench-load-"));
  const { child, base } = await subject.start(dir, ["--memory-budget", String(MEMORY_BUDGET)]);
  try {
    await prepare(base);
    results.push(await phase(subject, child, base, "quiet"));
    const hostile = startHostileClients(base);
    try {
      // Let the hostile clients connect and fill what they can before measuring.
      await sleep(3000);
      results.push(await phase(subject, child, base, "hostile"));
    } finally {
      hostile.stop();
    }
  } finally {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

const report = { bench: "http-load", node: process.version, cpus: cpus().length, seconds: SECONDS, clients: CLIENTS, memoryBudgetMiB: MEMORY_BUDGET / 1024 ** 2, results };
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/http-load.json", `${JSON.stringify(report, null, 2)}\n`);
writeSection("docs/benchmarks.md", render(), LOAD_HEADING);
console.log("wrote bench/results/http-load.json and the HTTP under hostile load section of docs/benchmarks.md");

// ---- phases -----------------------------------------------------------------------

async function prepare(base: string): Promise<void> {
  for (let c = 0; c < CLIENTS; c++) await send("PUT", `${base}/load-${c}`, "application/octet-stream");
  await send("PUT", `${base}/big`, "application/octet-stream");
  const mib = Buffer.alloc(1024 * 1024, 0x62);
  for (let i = 0; i < BIG_STREAM_MIB; i++) await send("POST", `${base}/big`, "application/octet-stream", mib);
  await send("PUT", `${base}/uploads`, "application/octet-stream");
}

async function phase(subject: Subject, child: ChildProcess, base: string, name: "quiet" | "hostile"): Promise<LoadResult> {
  let peak = 0;
  let note: string | undefined;
  const sampler = setInterval(() => {
    const rss = rssOf(child.pid!);
    peak = Math.max(peak, rss);
    if (rss > RSS_CEILING && note === undefined) {
      note = `stopped at ${(rss / 1024 ** 3).toFixed(1)} GiB RSS`;
      child.kill("SIGKILL");
    }
  }, 50);
  const url = new URL(base);
  let clients = 0;
  try {
    const run = await autocannon({
      url: url.origin,
      connections: CLIENTS,
      duration: SECONDS,
      // Each connection appends to a stream of its own.
      setupClient: (client) => {
        const id = clients++ % CLIENTS;
        client.setRequests([{ method: "POST", path: `${url.pathname}/load-${id}`, headers: { "content-type": "application/octet-stream" }, body: BODY }]);
      },
    });
    const result: LoadResult = {
      subject: subject.name,
      phase: name,
      appendsPerSec: Math.round(run.requests.average),
      p50Ms: run.latency.p50,
      p99Ms: run.latency.p99,
      maxMs: run.latency.max,
      errors: run.errors + run.timeouts,
      non2xx: run.non2xx,
      peakRssMiB: Math.round(peak / 1024 ** 2),
      ...(note === undefined ? {} : { note }),
    };
    console.log(`${subject.name.padEnd(40)} ${name.padEnd(8)} ${String(result.appendsPerSec).padStart(7)} appends/s  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  max ${result.maxMs} ms  errors ${result.errors}  non-2xx ${result.non2xx}  peak RSS ${result.peakRssMiB} MiB${note ? `  (${note})` : ""}`);
    return result;
  } finally {
    clearInterval(sampler);
  }
}

/** The slow uploaders and stalled SSE readers; each comes back when the server lets it go. */
function startHostileClients(base: string): { stop(): void } {
  const url = new URL(base);
  const port = Number(url.port);
  const sockets = new Set<Socket>();
  let stopped = false;
  const keep = (open: () => Socket): void => {
    if (stopped) return;
    const socket = open();
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => {
      sockets.delete(socket);
      if (!stopped) setTimeout(() => keep(open), 100);
    });
  };
  const sseReader = (): Socket => {
    const s = connect(port, url.hostname, () => s.write(`GET ${url.pathname}/big?offset=-1&live=sse HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`));
    s.pause(); // never reads
    return s;
  };
  const uploader = (): Socket => {
    const s = connect(port, url.hostname, () => {
      s.write(`POST ${url.pathname}/uploads HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${UPLOAD_ANNOUNCED}\r\n\r\n`);
      let sent = 0;
      const timer = setInterval(() => {
        if (s.destroyed || sent + TRICKLE.length >= UPLOAD_ANNOUNCED) return clearInterval(timer);
        sent += TRICKLE.length;
        s.write(TRICKLE);
      }, 100);
      s.on("close", () => clearInterval(timer));
    });
    s.on("data", () => undefined); // reads the answer (a 503, say), so the server can close
    return s;
  };
  for (let i = 0; i < UPLOADERS; i++) keep(uploader);
  for (let i = 0; i < SSE_READERS; i++) keep(sseReader);
  return {
    stop() {
      stopped = true;
      for (const s of sockets) s.destroy();
    },
  };
}

// ---- helpers ----------------------------------------------------------------------

async function send(method: string, url: string, contentType: string, body?: Buffer): Promise<void> {
  const res = await fetch(url, { method, headers: { "content-type": contentType }, ...(body === undefined ? {} : { body }) });
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status}`);
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function render(): string {
  const row = (r: LoadResult): string =>
    `| ${r.subject} | ${r.phase} | ${r.appendsPerSec.toLocaleString("en-US")} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.errors} / ${r.non2xx} | ${r.peakRssMiB}${r.note ? ` (${r.note})` : ""} |`;
  const ratio = (phase: string): string => {
    const [ours, theirs] = SUBJECTS.map((s) => results.find((r) => r.subject === s.name && r.phase === phase));
    return ours && theirs && theirs.appendsPerSec > 0 ? `${(ours.appendsPerSec / theirs.appendsPerSec).toFixed(1)}×` : "–";
  };
  return [
    LOAD_HEADING,
    "",
    "`bench/http-load.ts` (`npm run bench:http-load`): autocannon with " + `${CLIENTS} connections, each appending 256 bytes to a`,
    `stream of its own, for ${SECONDS} s per phase; each server in its own child process on a fresh directory,`,
    `one after the other in the same run. Hostile phase: ${UPLOADERS} slow uploaders (15 MiB announced, 16 KiB every`,
    `100 ms) and ${SSE_READERS.toLocaleString("en-US")} SSE readers of a ${BIG_STREAM_MIB} MiB stream that never read, all reconnecting`,
    `when let go. seglog runs with \`--memory-budget ${MEMORY_BUDGET}\` (the default, 256 MiB); the reference server has no such option.`,
    `Node ${process.version}, ${cpus().length} CPUs, load generator and server on the same machine.`,
    "",
    "| server | phase | appends/s | p50 ms | p99 ms | max ms | errors / non-2xx | peak RSS MiB |",
    "|---|---|---:|---:|---:|---:|---|---:|",
    ...results.map(row),
    "",
    `seglog ÷ reference, appends/s: quiet ${ratio("quiet")}, hostile ${ratio("hostile")}. A server that completed no append in a`,
    "phase shows 0 appends/s and counts the requests that timed out (autocannon's 10 s) under errors; peak RSS is sampled",
    "from /proc every 50 ms, and a server passing 6 GiB would be stopped and marked so.",
  ].join("\n");
}
