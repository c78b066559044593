/**
 * HTTP byte streams: `seglog serve` against the reference server,
 * @durable-streams/server in file-backed mode (it fsyncs every append, as
 * seglog's default "sync" durability does), on the same machine in the same
 * run. Each server runs in its own child process on a fresh directory; this
 * process is the load generator (node:http with keep-alive connections).
 *
 * Workloads (each timed for --seconds after a warm-up of a fifth of that):
 *   append, own streams   16 writers, one stream each, 256-byte bodies
 *   append, one stream    16 writers on the same stream, 256-byte bodies
 *   catch-up read         reading a 4 MiB stream of 1 KiB appends from the start to the tail
 *   tail read             16 readers fetching the last 16 appends of it again and again
 * The machine is shared, so the two servers take turns: --rounds rounds (default
 * 2), the order flipped each round, and each server's best round counts.
 * Reported: operations/s, MB/s, p50/p99 latency, and seglog / reference ratios.
 * Run: `npm run build && npm run bench:http` (`-- --seconds 2 --rounds 1` for a quick run).
 * Writes bench/results/http.json and the "## HTTP byte streams" section of docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeDocSection } from "./http-report.js";
import { SUBJECTS, stop } from "./http-servers.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" }, rounds: { type: "string", default: "2" } } });
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const WRITERS = 16;
const BODY = Buffer.alloc(256, "x");
const FILL_BODY = Buffer.alloc(1024, "y");
const FILL_APPENDS = 4096;

export interface Measurement {
  workload: string;
  subject: string;
  ops: number;
  opsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

type Run = { ops: number; bytes: number; latencies: number[]; seconds: number };
type Workload = { name: string; run(base: string, agent: Agent, filled: Filled): Promise<Run> };
interface Filled {
  url: string;
  offsets: string[];
}

const WORKLOADS: Workload[] = [
  { name: "append, own streams", run: (base, agent) => appendLoad(base, agent, false) },
  { name: "append, one stream", run: (base, agent) => appendLoad(base, agent, true) },
  { name: "catch-up read", run: (_base, agent, filled) => catchUpLoad(agent, filled) },
  { name: "tail read", run: (_base, agent, filled) => tailLoad(agent, filled) },
];

/** Best measurement so far per workload and subject. */
const best = new Map<string, Measurement>();
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? SUBJECTS : [...SUBJECTS].reverse();
  for (const subject of order) {
    const dir = mkdtempSync(join(tmpdir(), "seglog-bench-http-"));
    const { child, base } = await subject.start(dir);
    // A fresh connection pool per workload: a pooled socket the server closed as idle would fail the first request on it.
    const pool = (): Agent => new Agent({ keepAlive: true, maxSockets: WRITERS * 2 });
    try {
      const filled = await withAgent(pool(), (agent) => fill(agent, `${base}/filled`));
      for (const workload of WORKLOADS) {
        const run = await withAgent(pool(), (agent) => workload.run(base, agent, filled));
        const m = summarize(workload.name, subject.name, run);
        console.log(`round ${round + 1} ${workload.name.padEnd(20)} ${subject.name.padEnd(40)} ${m.opsPerSec.toFixed(0).padStart(8)} ops/s ${m.mbPerSec.toFixed(1).padStart(7)} MB/s  p50 ${m.p50Ms} ms  p99 ${m.p99Ms} ms`);
        const key = `${workload.name}\u0000${subject.name}`;
        if ((best.get(key)?.opsPerSec ?? -1) < m.opsPerSec) best.set(key, m);
      }
    } finally {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
const results = WORKLOADS.flatMap((w) => SUBJECTS.map((s) => best.get(`${w.name}\u0000${s.name}`)!));

const report = { bench: "http", node: process.version, cpus: cpus().length, seconds: SECONDS, rounds: ROUNDS, writers: WRITERS, bodyBytes: BODY.length, results };
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/http.json", `${JSON.stringify(report, null, 2)}\n`);
writeDocSection("docs/benchmarks.md", report);
console.log("wrote bench/results/http.json and the HTTP byte streams section of docs/benchmarks.md");

// ---- workloads ------------------------------------------------------------------

async function appendLoad(base: string, agent: Agent, shared: boolean): Promise<Run> {
  const streams = Array.from({ length: WRITERS }, (_, w) => (shared ? `${base}/shared` : `${base}/own-${w}`));
  for (const url of new Set(streams)) await call(agent, "PUT", url, undefined);
  return timed(WRITERS, async (w, record) => {
    const t0 = performance.now();
    await call(agent, "POST", streams[w]!, BODY);
    record(performance.now() - t0, BODY.length);
  });
}

async function catchUpLoad(agent: Agent, filled: Filled): Promise<Run> {
  return timed(1, async (_w, record) => {
    const t0 = performance.now();
    let offset = "-1";
    let bytes = 0;
    for (;;) {
      const res = await call(agent, "GET", `${filled.url}?offset=${offset}`, undefined);
      bytes += res.body.length;
      offset = res.headers["stream-next-offset"] as string;
      if (res.headers["stream-up-to-date"] === "true") break;
    }
    record(performance.now() - t0, bytes);
  });
}

async function tailLoad(agent: Agent, filled: Filled): Promise<Run> {
  const from = filled.offsets[filled.offsets.length - 17]!;
  return timed(WRITERS, async (_w, record) => {
    const t0 = performance.now();
    const res = await call(agent, "GET", `${filled.url}?offset=${from}`, undefined);
    record(performance.now() - t0, res.body.length);
  });
}

/** FILL_APPENDS appends of FILL_BODY, 16 at a time (untimed); every offset issued, in order. */
async function fill(agent: Agent, url: string): Promise<Filled> {
  await call(agent, "PUT", url, undefined);
  const offsets: string[] = [];
  for (let i = 0; i < FILL_APPENDS; i += WRITERS) {
    // Sequential batches keep the offsets in order; within a batch they are sorted.
    const batch = await Promise.all(Array.from({ length: WRITERS }, () => call(agent, "POST", url, FILL_BODY)));
    offsets.push(...batch.map((r) => r.headers["stream-next-offset"] as string).sort());
  }
  return { url, offsets };
}

// ---- measuring ------------------------------------------------------------------

async function timed(workers: number, step: (worker: number, record: (ms: number, bytes: number) => void) => Promise<void>): Promise<Run> {
  const latencies: number[] = [];
  let bytes = 0;
  const record = (ms: number, n: number): void => {
    latencies.push(ms);
    bytes += n;
  };
  // Warm up for a fifth of the time, then measure.
  for (const [seconds, keep] of [[SECONDS / 5, false], [SECONDS, true]] as const) {
    const end = performance.now() + seconds * 1000;
    latencies.length = 0;
    bytes = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: workers }, async (_, w) => {
      while (performance.now() < end) await step(w, record);
    }));
    if (keep) return { ops: latencies.length, bytes, latencies: [...latencies], seconds: (performance.now() - t0) / 1000 };
  }
  throw new Error("unreachable");
}

function summarize(workload: string, subject: string, r: Run): Measurement {
  const sorted = r.latencies.sort((a, b) => a - b);
  const at = (q: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100;
  return { workload, subject, ops: r.ops, opsPerSec: r.ops / r.seconds, mbPerSec: r.bytes / r.seconds / 1e6, p50Ms: at(0.5), p99Ms: at(0.99) };
}

// ---- HTTP and processes -----------------------------------------------------------

async function withAgent<T>(agent: Agent, fn: (agent: Agent) => Promise<T>): Promise<T> {
  try {
    return await fn(agent);
  } finally {
    agent.destroy();
  }
}

function call(agent: Agent, method: string, url: string, body: Buffer | undefined): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (body !== undefined) headers["content-length"] = String(body.length);
    const req = request(url, { method, agent, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (chunk: Buffer) => parts.push(chunk));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        if (status >= 300) reject(new Error(`${method} ${url}: ${status} ${Buffer.concat(parts).toString()}`));
        else resolve({ status, headers: res.headers, body: Buffer.concat(parts) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
