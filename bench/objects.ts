/**
 * Object store throughput against plain files, in the same process run: for
 * objects of 1 KiB, 64 KiB and 1 MiB, db.objects.put / get one object at a
 * time (each awaited) versus writing / reading the same bytes as one file per
 * object with node:fs. Both in two durability modes:
 *   sync      seglog durability "sync" (put resolves after fdatasync) vs
 *             open + write + fsync + close per file;
 *   buffered  seglog durability "buffered" vs writeFileSync without fsync.
 * Reads follow the writes (warm page cache for both), in a shuffled order.
 * Each case runs `--rounds` times (default 3), seglog and files taking turns,
 * so that a burst of load on a shared machine hits both; the report gives the
 * median round's MB/s, the seglog/files ratio of those medians, and p50/p99
 * latency per operation over every round.
 *
 * Run: `node dist/bench/objects.js` (`--scale 0.5` halves the object counts,
 * `--rounds N`, `--dir` where to write). JSON goes to bench/results/objects.json.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { open } from "../engine/index.js";

const { values } = parseArgs({ options: { scale: { type: "string", default: "1" }, rounds: { type: "string", default: "3" }, dir: { type: "string" } } });
const scale = Number(values.scale);
const ROUNDS = Number(values.rounds);
const root = values.dir ?? join(tmpdir(), `seglog-bench-objects-${process.pid}`);
const KiB = 1024;
const MiB = 1024 * KiB;
/** Object size → how many objects of it each subject writes and reads. */
const SIZES: [number, number][] = [
  [1 * KiB, 4096],
  [64 * KiB, 1024],
  [1 * MiB, 128],
];
type Mode = "sync" | "buffered";

interface Timing {
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
}
/** One round of one operation: its throughput and every latency. */
interface Sample {
  mbPerSec: number;
  latencies: number[];
}
type Samples = Record<"seglogPut" | "filesWrite" | "seglogGet" | "filesRead", Sample[]>;
interface Row {
  mode: Mode;
  size: number;
  count: number;
  seglogPut: Timing;
  filesWrite: Timing;
  seglogGet: Timing;
  filesRead: Timing;
}

const rows: Row[] = [];
rmSync(root, { recursive: true, force: true });
for (const mode of ["sync", "buffered"] as Mode[]) {
  for (const [size, baseCount] of SIZES) {
    const count = Math.max(8, Math.round(baseCount * scale));
    const objects = distinctObjects(size, count);
    const order = shuffled(count);
    const samples: Samples = { seglogPut: [], filesWrite: [], seglogGet: [], filesRead: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const seglogDir = join(root, `seglog-${mode}-${size}-${round}`);
      const filesDir = join(root, `files-${mode}-${size}-${round}`);
      const seglog = await benchSeglog(seglogDir, mode, objects, order);
      const files = benchFiles(filesDir, mode, objects, order);
      samples.seglogPut.push(seglog.put);
      samples.seglogGet.push(seglog.get);
      samples.filesWrite.push(files.write);
      samples.filesRead.push(files.read);
      rmSync(seglogDir, { recursive: true, force: true });
      rmSync(filesDir, { recursive: true, force: true });
    }
    const row: Row = {
      mode,
      size,
      count,
      seglogPut: combine(samples.seglogPut),
      filesWrite: combine(samples.filesWrite),
      seglogGet: combine(samples.seglogGet),
      filesRead: combine(samples.filesRead),
    };
    rows.push(row);
    print(row);
  }
}
rmSync(root, { recursive: true, force: true });

const results = { bench: "objects", node: process.version, platform: `${process.platform} ${process.arch}`, rounds: ROUNDS, rows };
const out = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "results", "objects.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
console.log(`\nJSON: ${out}`);

async function benchSeglog(dir: string, mode: Mode, objects: Uint8Array[], order: number[]): Promise<{ put: Sample; get: Sample }> {
  const db = await open(dir, { durability: mode, maxRecordBytes: 2 * MiB });
  const hashes: string[] = new Array(objects.length);
  const put = await timed(objects, async (o, i) => {
    hashes[i] = await db.objects.put(o);
  });
  let checked = 0;
  const get = await timed(order.map((i) => objects[i]!), async (o, k) => {
    const back = await db.objects.get(hashes[order[k]!]!);
    if (back.length !== o.length) throw new Error("get returned the wrong object");
    checked++;
  });
  if (checked !== objects.length) throw new Error("not every object was read");
  await db.close();
  return { put, get };
}

function benchFiles(dir: string, mode: Mode, objects: Uint8Array[], order: number[]): { write: Sample; read: Sample } {
  mkdirSync(dir, { recursive: true });
  const path = (i: number): string => join(dir, `object-${i}`);
  const write = timedSync(objects, (o, i) => {
    if (mode === "buffered") {
      writeFileSync(path(i), o);
      return;
    }
    const fd = openSync(path(i), "w");
    try {
      writeSync(fd, o, 0, o.length, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
  const read = timedSync(order.map((i) => objects[i]!), (o, k) => {
    const back = readFileSync(path(order[k]!));
    if (back.length !== o.length) throw new Error("read returned the wrong file");
  });
  return { write, read };
}

async function timed(items: Uint8Array[], op: (item: Uint8Array, i: number) => Promise<void>): Promise<Sample> {
  const latencies: number[] = [];
  let bytes = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < items.length; i++) {
    const t0 = process.hrtime.bigint();
    await op(items[i]!, i);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    bytes += items[i]!.length;
  }
  return { mbPerSec: bytes / 1e6 / (Number(process.hrtime.bigint() - start) / 1e9), latencies };
}

function timedSync(items: Uint8Array[], op: (item: Uint8Array, i: number) => void): Sample {
  const latencies: number[] = [];
  let bytes = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < items.length; i++) {
    const t0 = process.hrtime.bigint();
    op(items[i]!, i);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    bytes += items[i]!.length;
  }
  return { mbPerSec: bytes / 1e6 / (Number(process.hrtime.bigint() - start) / 1e9), latencies };
}

/** The median round's throughput; latency percentiles over every round. */
function combine(samples: Sample[]): Timing {
  const rates = samples.map((s) => s.mbPerSec).sort((a, b) => a - b);
  const sorted = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { mbPerSec: round(rates[Math.floor(rates.length / 2)]!), p50Ms: round(at(0.5), 3), p99Ms: round(at(0.99), 3) };
}

/** `count` different objects of `size` bytes (random, with the index stamped in front so none repeats). */
function distinctObjects(size: number, count: number): Uint8Array[] {
  const base = randomBytes(size);
  return Array.from({ length: count }, (_, i) => {
    const o = new Uint8Array(base);
    new DataView(o.buffer).setUint32(0, i, true);
    return o;
  });
}

function shuffled(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let x = 12345;
  for (let i = n - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const j = x % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

function print(r: Row): void {
  const size = r.size >= MiB ? `${r.size / MiB} MiB` : `${r.size / KiB} KiB`;
  const t = (x: Timing): string => `${x.mbPerSec} MB/s (p50 ${x.p50Ms} ms, p99 ${x.p99Ms} ms)`;
  console.log(`${r.mode.padEnd(8)} ${size.padStart(6)} x ${r.count}`);
  console.log(`  put   seglog ${t(r.seglogPut)}  files ${t(r.filesWrite)}  ratio ${round(r.seglogPut.mbPerSec / r.filesWrite.mbPerSec, 2)}`);
  console.log(`  get   seglog ${t(r.seglogGet)}  files ${t(r.filesRead)}  ratio ${round(r.seglogGet.mbPerSec / r.filesRead.mbPerSec, 2)}`);
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
