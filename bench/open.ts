/**
 * Open time against database size: fills a database to 250k, 500k and 1M events
 * (about 200 bytes of msgpack data each, over 1,000 streams), closes it, and
 * times open() until the first read returns. Run: `npm run bench:open`
 * (`-- --events 1000000` sets the largest size; `--dir` where to build).
 * `--sizes 1000000,10000000` measures exactly those sizes instead. `--tags` gives
 * every event two tags, `course=<n % 1,000>` and `student=<n % 10,000>`, so the
 * query index holds 11,000 tag lists besides the type and category ones: the
 * same keys at every size, so what grows is only the events.
 * The open reads the checkpoint and rescans only what follows it, so the time
 * should stay flat as sealed segments pile up.
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { open } from "../engine/index.js";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    sizes: { type: "string" },
    tags: { type: "boolean", default: false },
    dir: { type: "string" },
    runs: { type: "string", default: "5" },
  },
});
const largest = Number(values.events);
const runs = Number(values.runs);
const dir = values.dir ?? join(tmpdir(), `seglog-bench-open-${process.pid}`);
const STREAMS = 1000;
const BATCH = 100;
const data = { customer: "c-000123", sku: "SKU-12345-XL", qty: 3, price: 1999, note: "n".repeat(120), tags: ["a", "b"] };

const sizes = values.sizes !== undefined ? values.sizes.split(",").map(Number) : [largest / 4, largest / 2, largest].map(Math.round);
const COURSES = 1000;
const STUDENTS = 10_000;
rmSync(dir, { recursive: true, force: true });
const rows: { events: number; segments: number; diskMB: number; medianMs: number; minMs: number }[] = [];
let written = 0;
for (const size of sizes) {
  const db = await open(dir, { durability: "buffered" });
  const plain = Array.from({ length: BATCH }, () => ({ type: "ItemAdded", data }));
  while (written < size) {
    const events = values.tags ? plain.map((e, k) => ({ ...e, tags: [`course=${(written + k) % COURSES}`, `student=${(written + k) % STUDENTS}`] })) : plain;
    await db.events.append(`stream-${(written / BATCH) % STREAMS}`, events);
    written += BATCH;
  }
  const stats = await db.stats();
  await db.close();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    const reopened = await open(dir);
    await reopened.events.readStream("stream-0", { count: 1 });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await reopened.close();
  }
  times.sort((a, b) => a - b);
  rows.push({ events: written, segments: stats.segments, diskMB: Math.round(stats.diskBytes / 1e5) / 10, medianMs: round(times[Math.floor(runs / 2)]!), minMs: round(times[0]!) });
  console.log(`${written} events, ${stats.segments} segments, ${rows.at(-1)!.diskMB} MB: open until first read median ${rows.at(-1)!.medianMs} ms (min ${rows.at(-1)!.minMs} ms)`);
}
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ bench: "open", node: process.version, tags: values.tags, rows }));

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
