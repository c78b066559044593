/**
 * Replication into NATS JetStream (seglog/replication) on a local 3-node cluster
 * (bench/nats-cluster.ts: three nats-server processes on 127.0.0.1, streams R3),
 * all in one run:
 *   - forwarding throughput: N events written first, then replication started;
 *     events per second until JetStream holds them all;
 *   - lag under load: 64 appenders ("sync", ack "local") for a few seconds while
 *     replication runs; a JetStream consumer timestamps every message it receives,
 *     lag = receive time - the append's resolve time; p50/p99;
 *   - append latency and throughput with ack "local" vs "replicated", 1 and 64 appenders.
 * Client, servers and seglog share the machine's cores.
 * Run: `npm run bench:replication` (`-- --events 20000 --seconds 2` for a quick run).
 * Writes bench/results/replication.json and the "## Replication into NATS JetStream" section of docs/benchmarks.md.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { execSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { open, type Database } from "../engine/index.js";
import { replicate, type Replication } from "../engine/integrations/replication/index.js";
import { writeSection } from "./doc-section.js";
import { NatsCluster } from "./nats-cluster.js";

const { values } = parseArgs({ options: { events: { type: "string", default: "100000" }, seconds: { type: "string", default: "6" } } });
const EVENTS = Number(values.events);
const SECONDS = Number(values.seconds);
const HEADING = "## Replication into NATS JetStream";
const root = mkdtempSync(join(tmpdir(), "seglog-bench-replication-"));
const cluster = await NatsCluster.start(join(root, "nats"), 3);
await cluster.ready();
const nc = await connect({ servers: cluster.servers });
const jsm = await jetstreamManager(nc, { checkAPI: false });
let streams = 0;

async function startReplication(db: Database, ack: "local" | "replicated"): Promise<{ r: Replication; stream: string }> {
  const stream = `BENCH${++streams}`;
  for (let tries = 0; ; tries++) {
    try {
      return { r: await replicate(db, { servers: cluster.servers, stream, ack }), stream };
    } catch (err) {
      if (tries > 40) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const payload = () => ({ sku: "sku-0001", quantity: 1, note: "x".repeat(120) });

async function forwarding(): Promise<{ events: number; seconds: number; eventsPerSec: number }> {
  const db = await open(join(root, "forwarding"), { durability: "buffered" });
  const batch = 100;
  for (let i = 0; i < EVENTS; i += batch) await db.events.append(`s${i % 1000}`, Array.from({ length: batch }, () => ({ type: "T", data: payload() })));
  await db.close();
  const reopened = await open(join(root, "forwarding"));
  const started = performance.now();
  const { r } = await startReplication(reopened, "local");
  while (r.status().lagEvents > 0) await new Promise((done) => setTimeout(done, 5));
  const seconds = (performance.now() - started) / 1000;
  await r.close();
  await reopened.close();
  return { events: EVENTS, seconds: round(seconds), eventsPerSec: Math.round(EVENTS / seconds) };
}

async function load(writers: number, ack: "local" | "replicated", measureLag: boolean) {
  const db = await open(join(root, `load-${writers}-${ack}-${streams}`));
  const { r, stream } = await startReplication(db, ack);
  const resolvedAt = new Map<string, number>();
  const lags: number[] = [];
  let consumerDone: Promise<void> | undefined;
  let stopConsumer = () => undefined as void;
  if (measureLag) {
    const ci = await jsm.consumers.add(stream, { ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.New, inactive_threshold: 60_000_000_000 });
    const consumer = await jetstream(nc).consumers.get(stream, ci.name);
    const messages = await consumer.consume({ max_messages: 4096 });
    stopConsumer = () => void messages.stop();
    consumerDone = (async () => {
      for await (const m of messages) {
        const id = m.headers?.get("Seglog-Key");
        const at = id === undefined ? undefined : resolvedAt.get(id);
        if (at !== undefined) lags.push(performance.now() - at);
      }
    })();
  }
  const latencies: number[] = [];
  let count = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, k) => {
      while (performance.now() < end) {
        const t = performance.now();
        const result = await db.events.append(`w${k}-${count % 50}`, [{ type: "T", data: payload() }]);
        const done = performance.now();
        latencies.push(done - t);
        if (measureLag) resolvedAt.set(`${result.lastPosition}.0`, done);
        count++;
      }
    }),
  );
  const seconds = SECONDS;
  while (r.status().lagEvents > 0) await new Promise((done) => setTimeout(done, 5));
  if (measureLag) {
    await new Promise((done) => setTimeout(done, 500));
    stopConsumer();
    await consumerDone;
  }
  await r.close();
  await db.close();
  return {
    writers,
    ack,
    appendsPerSec: Math.round(count / seconds),
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
    ...(measureLag ? { lagP50Ms: round(percentile(lags, 0.5)), lagP99Ms: round(percentile(lags, 0.99)), lagSamples: lags.length } : {}),
  };
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

const forward = await forwarding();
const lagRun = await load(64, "local", true);
const runs = [await load(1, "local", false), await load(1, "replicated", false), lagRun, await load(64, "replicated", false)];
await nc.close();
await cluster.stop();
rmSync(root, { recursive: true, force: true });

const commit = execSync("git rev-parse --short HEAD").toString().trim();
const natsVersion = execSync(`${"nats-server"} --version 2>/dev/null || /usr/sbin/nats-server --version`).toString().trim();
writeFileSync("bench/results/replication.json", `${JSON.stringify({ bench: "replication", commit, node: process.version, cpus: cpus().length, nats: natsVersion, events: EVENTS, seconds: SECONDS, forward, runs }, null, 2)}\n`);
const lines = [
  HEADING,
  "",
  `Commit ${commit}, Node ${process.version}, ${cpus().length} cores, ${natsVersion}: a 3-node cluster on 127.0.0.1 (streams R3, file storage),`,
  "seglog durability \"sync\", events of ~160 bytes of msgpack data. Client, seglog and the three servers share the cores.",
  "Written by `npm run bench:replication` (bench/replication.ts).",
  "",
  `- Forwarding: ${forward.events.toLocaleString("en-US")} events already in the log, replication started: ${forward.eventsPerSec.toLocaleString("en-US")} events/s until JetStream acknowledged all (${forward.seconds} s).`,
  `- Lag under load (64 appenders, ack "local"): from an append resolving to a JetStream consumer receiving it, p50 ${lagRun.lagP50Ms} ms, p99 ${lagRun.lagP99Ms} ms (${lagRun.lagSamples} messages).`,
  "",
  "| appenders | ack | appends/s | p50 ms | p99 ms |",
  "|---|---|---|---|---|",
  ...runs.map((r) => `| ${r.writers} | ${r.ack} | ${r.appendsPerSec.toLocaleString("en-US")} | ${r.p50Ms} | ${r.p99Ms} |`),
  "",
  'With ack "replicated" an append answers once JetStream (a majority of 3) acknowledged it: one NATS round trip plus the',
  "RAFT commit on top of the local fsync; concurrent appenders share those round trips as they share fsyncs.",
];
writeSection("docs/benchmarks.md", lines.join("\n"), HEADING);
console.log(lines.join("\n"));
