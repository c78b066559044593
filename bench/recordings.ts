/**
 * db.recordings.listSummaries over 10,000 recordings, with 1,000 events per
 * recording and with 10: the summaries come from an in-memory index, so the
 * time must not grow with the size of the recordings. Each dataset is timed on
 * the database that wrote it and again after a reopen (index restored from the
 * checkpoint), as the median and p99 of repeated calls.
 *
 * Run: `node dist/bench/recordings.js` (`--recordings N`, `--runs N`, `--dir`).
 * JSON goes to bench/results/recordings.json.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { open } from "../engine/index.js";
import type { Database, Recording } from "../engine/index.js";

const { values } = parseArgs({
  options: { recordings: { type: "string", default: "10000" }, runs: { type: "string", default: "31" }, dir: { type: "string" } },
});
const RECORDINGS = Number(values.recordings);
const RUNS = Number(values.runs);
const root = values.dir ?? join(tmpdir(), `seglog-bench-recordings-${process.pid}`);

interface Timing {
  minMs: number;
  medianMs: number;
  p99Ms: number;
}
interface Row {
  eventsPerRecording: number;
  recordings: number;
  diskMB: number;
  saveSeconds: number;
  live: Timing;
  reopened: Timing;
  /** One whole recording read back with get(), for scale. */
  getMs: number;
}

const rows: Row[] = [];
rmSync(root, { recursive: true, force: true });
for (const events of [1000, 10]) {
  const row = await benchDataset(join(root, `events-${events}`), events);
  rows.push(row);
  console.log(
    `${row.recordings} recordings x ${events} events (${row.diskMB} MB on disk, saved in ${row.saveSeconds} s): ` +
      `listSummaries min/median/p99 ${fmt(row.live)}, after reopen ${fmt(row.reopened)}; one get ${row.getMs} ms`,
  );
}
rmSync(root, { recursive: true, force: true });
const [big, small] = rows;
const ratio = Math.round((big!.reopened.medianMs / small!.reopened.medianMs) * 100) / 100;
const ratioMin = Math.round((big!.reopened.minMs / small!.reopened.minMs) * 100) / 100;
console.log(`listSummaries time, 1000-event vs 10-event recordings, after reopen: median ${ratio}x, min ${ratioMin}x`);

const results = { bench: "recordings", node: process.version, platform: `${process.platform} ${process.arch}`, rows, ratioBigToSmall: ratio, ratioBigToSmallMin: ratioMin };
const out = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "results", "recordings.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
console.log(`JSON: ${out}`);

async function benchDataset(dir: string, eventsPerRecording: number): Promise<Row> {
  const events = Array.from({ length: eventsPerRecording }, (_, i) => ({ type: i % 3 === 0 ? "click" : "mousemove", t: i * 16, x: (i * 37) % 1280, y: (i * 91) % 720, target: `#node-${i % 50}` }));
  const db = await open(dir, { durability: "buffered" });
  const started = process.hrtime.bigint();
  for (let i = 0; i < RECORDINGS; i++) await db.recordings.save(recordingOf(i, events));
  const saveSeconds = Math.round(Number(process.hrtime.bigint() - started) / 1e8) / 10;
  const live = await timeSummaries(db);
  const diskMB = Math.round((await db.stats()).diskBytes / 1e5) / 10;
  await db.close();
  const again = await open(dir);
  const reopened = await timeSummaries(again);
  const t0 = process.hrtime.bigint();
  const one = await again.recordings.get(`rec-${RECORDINGS >> 1}`);
  const getMs = Math.round(Number(process.hrtime.bigint() - t0) / 1e4) / 100;
  if (one?.events?.length !== eventsPerRecording) throw new Error("get returned the wrong recording");
  await again.close();
  return { eventsPerRecording, recordings: RECORDINGS, diskMB, saveSeconds, live, reopened, getMs };
}

function fmt(t: Timing): string {
  return `${t.minMs}/${t.medianMs}/${t.p99Ms} ms`;
}

function recordingOf(i: number, events: unknown[]): Recording {
  return { id: `rec-${i}`, title: `Checkout session ${i}`, userAgent: "Mozilla/5.0 (X11; Linux x86_64)", startedAt: 1_700_000_000_000 + i * 1000, durationMs: events.length * 16, events };
}

async function timeSummaries(db: Database): Promise<Timing> {
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    const summaries = await db.recordings.listSummaries();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (summaries.length !== RECORDINGS || summaries[0]!.id !== `rec-${RECORDINGS - 1}`) throw new Error("listSummaries returned the wrong list");
  }
  times.sort((a, b) => a - b);
  const at = (q: number): number => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))]! * 100) / 100;
  return { minMs: at(0), medianMs: at(0.5), p99Ms: at(0.99) };
}
