/**
 * Append latency while compaction runs: p50/p99 of single sync appends, awaited
 * one by one, first on a quiet database, then while db.compact() rewrites
 * sealed segments full of garbage. Run: `node dist/bench/compaction-latency.js`
 * (`--events N` sets the size of the garbage-filled history, default 300000).
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { open } from "../engine/index.js";
import type { Database } from "../engine/index.js";

const { values } = parseArgs({ options: { events: { type: "string", default: "300000" } } });
const historyEvents = Number(values.events);
const dir = join(tmpdir(), `seglog-bench-compaction-${process.pid}`);
rmSync(dir, { recursive: true, force: true });

const data = { customer: "c-000123", sku: "SKU-12345-XL", qty: 3, price: 1999, note: "n".repeat(120) };
const filler = await open(dir, { durability: "buffered", segmentBytes: 8 * 1024 * 1024, maxRecordBytes: 1024 * 1024 });
const batch = Array.from({ length: 100 }, () => ({ type: "ItemAdded", data }));
for (let n = 0; n < historyEvents; n += 100) await filler.events.append(`stream-${(n / 100) % 1000}`, batch);
// Half the streams become garbage.
for (let s = 0; s < 1000; s += 2) await filler.events.deleteStream(`stream-${s}`);
await filler.close();

const db = await open(dir, { durability: "sync", segmentBytes: 8 * 1024 * 1024, maxRecordBytes: 1024 * 1024 });
const quiet = await measure(db, () => false, 2000);
let compacting = true;
const started = process.hrtime.bigint();
const compaction = db.compact().finally(() => (compacting = false));
const during = await measure(db, () => compacting, 1);
const report = await compaction;
const compactionMs = Number(process.hrtime.bigint() - started) / 1e6;
await db.close();
rmSync(dir, { recursive: true, force: true });

console.log(`history: ${historyEvents} events, ${report.segmentsRewritten} segments rewritten, ${report.recordsDropped} records dropped in ${Math.round(compactionMs)} ms`);
console.log(`sync single appends without compaction: ${fmt(quiet)}`);
console.log(`sync single appends during compaction:  ${fmt(during)}`);
console.log(JSON.stringify({ bench: "compaction-latency", node: process.version, historyEvents, report, quiet, during }));

async function measure(db: Database, keepGoing: () => boolean, minAppends: number): Promise<{ appends: number; p50: number; p99: number; max: number }> {
  const samples: number[] = [];
  do {
    const t0 = process.hrtime.bigint();
    await db.events.append("latency", [{ type: "Tick", data }]);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  } while (samples.length < minAppends || keepGoing());
  samples.sort((a, b) => a - b);
  const at = (q: number) => Math.round(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]! * 1000) / 1000;
  return { appends: samples.length, p50: at(0.5), p99: at(0.99), max: at(1) };
}

function fmt(m: { appends: number; p50: number; p99: number; max: number }): string {
  return `${m.appends} appends, p50 ${m.p50} ms, p99 ${m.p99} ms, max ${m.max} ms`;
}
