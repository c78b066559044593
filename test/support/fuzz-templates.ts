/**
 * Template databases for the open() fuzz suite, built once through the public API
 * and kept as bytes in memory, with what they must show after each operation.
 *
 * A template is built twice from the same script, clock and random seed (so both
 * builds write the same bytes): the first build only learns the keys (object
 * hashes come from the engine), the second dumps the whole database after every
 * operation with those keys. Each dump is stored under the log end the operation
 * left behind (newest segment number and size), so that a fuzz case that cuts the
 * newest segment back to a group boundary knows exactly what the database must
 * show: the dump taken when the log last ended there.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { open, SeglogError } from "../../engine/index.js";
import { CHECKPOINT_FILE, listSegments, scanRecords, type ScannedRecord } from "./damage.js";
import { canon, fuzzTempRoot, Rng } from "./fuzz.js";
import { dumpDatabase, emptyKeys, WrittenValues, type Dump, type KnownKeys } from "./store-dump.js";

type Database = Awaited<ReturnType<typeof open>>;

export interface TemplateOptions {
  segmentBytes: number;
  maxRecordBytes: number;
}

export interface Template {
  name: string;
  options: TemplateOptions;
  /** The closed database: file name → bytes (no LOCK). */
  files: Map<string, Buffer>;
  /** Segment file names in log order. */
  segments: string[];
  /** The records of each segment, by the test's own scanner (damage.ts). */
  records: Map<string, ScannedRecord[]>;
  /** Every checkpoint the build wrote before the final one (at rolls and compactions). */
  olderCheckpoints: Buffer[];
  /** `${segment}:${end}` → the dump taken when the log last ended there (and its canon). */
  states: Map<string, { dump: Dump; canon: string }>;
  keys: KnownKeys;
  written: WrittenValues;
  /** The clock after the build: cases open with it (retention by age never changes what they see). */
  now: number;
}

export interface BuildContext {
  readonly rng: Rng;
  readonly keys: KnownKeys;
  /** Runs one operation; a SeglogError rejection is allowed (it writes nothing). */
  op(fn: (db: Database) => Promise<unknown>): Promise<unknown>;
}

const START_TIME = 1_700_000_000_000;

export async function buildTemplate(
  name: string,
  options: TemplateOptions,
  keys: Omit<KnownKeys, "objects">,
  script: (ctx: BuildContext) => Promise<void>,
): Promise<Template> {
  const learned = await runBuild(name, options, { ...keys, objects: [] }, script, false);
  return runBuild(name, options, { ...keys, objects: learned.keys.objects }, script, true);
}

async function runBuild(
  name: string,
  options: TemplateOptions,
  keys: KnownKeys,
  script: (ctx: BuildContext) => Promise<void>,
  withDumps: boolean,
): Promise<Template> {
  const dir = fs.mkdtempSync(path.join(fuzzTempRoot(), `seglog-fuzz-template-${name}-`));
  let now = START_TIME;
  const db = await open(dir, { ...options, clock: () => now });
  const states = new Map<string, { dump: Dump; canon: string }>();
  const written = new WrittenValues();
  const olderCheckpoints: Buffer[] = [];
  const objects = new Set(keys.objects);
  const record = async (): Promise<void> => {
    const checkpoint = path.join(dir, CHECKPOINT_FILE);
    if (fs.existsSync(checkpoint)) {
      const bytes = fs.readFileSync(checkpoint);
      if (!olderCheckpoints.some((b) => b.equals(bytes))) olderCheckpoints.push(bytes);
    }
    if (!withDumps) return;
    const newest = listSegments(dir).at(-1)!;
    const key = `${Number(path.basename(newest).slice(0, 20))}:${fs.statSync(newest).size}`;
    const dump = await dumpDatabase(db, keys);
    written.addDump(dump);
    states.set(key, { dump, canon: canon(dump) });
  };
  const ctx: BuildContext = {
    rng: new Rng(hash(name)),
    keys,
    async op(fn) {
      now += 1000;
      let result: unknown;
      try {
        result = await fn(db);
      } catch (err) {
        if (!(err instanceof SeglogError)) throw err;
      }
      if (typeof result === "string" && /^[0-9a-f]{64}$/.test(result)) objects.add(result);
      await record();
      return result;
    },
  };
  try {
    await record();
    await script(ctx);
  } finally {
    await db.close();
  }
  const files = new Map<string, Buffer>();
  for (const file of fs.readdirSync(dir).sort()) if (file !== "LOCK") files.set(file, fs.readFileSync(path.join(dir, file)));
  const segmentFiles = listSegments(dir);
  const records = new Map<string, ScannedRecord[]>();
  for (const file of segmentFiles) records.set(path.basename(file), await scanRecords(file));
  fs.rmSync(dir, { recursive: true, force: true });
  const finalCheckpoint = files.get(CHECKPOINT_FILE);
  return {
    name,
    options,
    files,
    segments: segmentFiles.map((f) => path.basename(f)),
    records,
    olderCheckpoints: olderCheckpoints.filter((b) => finalCheckpoint === undefined || !b.equals(finalCheckpoint)),
    states,
    keys: { ...keys, objects: [...objects].sort() },
    written,
    now: now + 1000,
  };
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// ---- content -----------------------------------------------------------------

function text(rng: Rng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + rng.int(26));
  return s;
}

/** Event data of every kind the API promises to round-trip. */
function data(rng: Rng): unknown {
  switch (rng.int(9)) {
    case 0:
      return { n: rng.int(1_000_000), s: text(rng, rng.range(0, 200)) };
    case 1:
      return rng.bytes(rng.range(0, 200));
    case 2:
      return [rng.int(100), -rng.int(1_000_000_000), 1.5, null, true, false, text(rng, 20)];
    case 3:
      return { nested: { deep: { list: [1, 2, { x: text(rng, 10) }] } }, when: new Date(1_600_000_000_000 + rng.int(1_000_000_000)) };
    case 4:
      return text(rng, rng.range(0, 300));
    case 5:
      return rng.int(2 ** 31) * 1024 + 0.25;
    case 6:
      return { "ünï-çødé": "✓ 日本語 🎉", empty: {}, arr: [], neg: -0.5 };
    case 7:
      return null;
    default:
      return { bytes: rng.bytes(rng.range(1, 64)), list: [text(rng, 5), text(rng, 5)] };
  }
}

let eventCounter = 0;

function event(rng: Rng, idPrefix: string): { id?: string; type: string; data: unknown; metadata?: Record<string, unknown>; tags?: string[] } {
  const e: { id?: string; type: string; data: unknown; metadata?: Record<string, unknown>; tags?: string[] } = {
    type: rng.pick(["Created", "Updated", "Shipped", "Ünïcødé"]),
    data: data(rng),
  };
  // Mostly explicit ids (the same in both builds); some generated.
  if (rng.chance(0.85)) e.id = `${idPrefix}-${eventCounter++}`;
  if (rng.chance(0.5)) e.metadata = { user: `u${rng.int(10)}`, n: rng.int(100) };
  if (rng.chance(0.4)) e.tags = [text(rng, 3), text(rng, 4)];
  return e;
}

function events(rng: Rng, prefix: string, n: number): ReturnType<typeof event>[] {
  return Array.from({ length: n }, () => event(rng, prefix));
}

/** Distinct picks from a list. */
function some<T>(rng: Rng, items: readonly T[], n: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(rng.int(pool.length), 1)[0]!);
  return out;
}

/** Ends every template the same way: a multi-event append, then an appendMany across two streams. */
async function atomicTail(ctx: BuildContext, streams: string[], prefix: string): Promise<void> {
  const { rng } = ctx;
  await ctx.op((db) => db.events.append(streams[0]!, events(rng, `${prefix}-tail`, 4)));
  await ctx.op((db) =>
    db.events.appendMany([
      { streamId: streams[1]!, events: events(rng, `${prefix}-tailm`, 2) },
      { streamId: streams[2]!, events: events(rng, `${prefix}-tailm`, 2) },
    ]),
  );
}

// ---- the templates -----------------------------------------------------------------

const EVENT_STREAMS = ["acct-1", "acct-2", "order-7", "ünï-ß/λ", "x"];

/** Events only: single and multi-event appends, appendMany, expected versions; several segments. */
export function eventsTemplate(): Promise<Template> {
  eventCounter = 0;
  return buildTemplate("events", { segmentBytes: 4096, maxRecordBytes: 1024 }, { ...emptyKeys(), streams: EVENT_STREAMS }, async (ctx) => {
    eventCounter = 0;
    const { rng } = ctx;
    for (let i = 0; i < 45; i++) {
      const r = rng.next();
      const s = rng.pick(EVENT_STREAMS);
      if (r < 0.5) await ctx.op((db) => db.events.append(s, events(rng, "ev", 1)));
      else if (r < 0.7) await ctx.op((db) => db.events.append(s, events(rng, "ev", rng.range(2, 5))));
      else if (r < 0.85) {
        const items = some(rng, EVENT_STREAMS, rng.range(2, 3)).map((streamId) => ({ streamId, events: events(rng, "evm", rng.range(1, 3)) }));
        await ctx.op((db) => db.events.appendMany(items));
      } else await ctx.op((db) => db.events.append(s, events(rng, "evx", 1), { expectedVersion: db.events.streamVersion(s) }));
    }
    await atomicTail(ctx, EVENT_STREAMS, "ev");
  });
}

const STORE_STREAMS = ["log-a", "log-b", "log-c"];
const CASSETTES = ["/api/a", "/api/b?q=1", "/ü/é"];
const RECORDINGS = ["r1", "r2", "r3"];
const CONTEXTS = ["c1", "c2", "c3"];
const BYTE_STREAMS = ["bs1", "bs2"];

/** Every store on one log: events, objects, chunk lists, cassettes, recordings, contexts and deltas, byte streams. */
export function storesTemplate(): Promise<Template> {
  const keys = { streams: STORE_STREAMS, cassettes: CASSETTES, recordings: RECORDINGS, contexts: CONTEXTS, byteStreams: BYTE_STREAMS };
  return buildTemplate("stores", { segmentBytes: 4096, maxRecordBytes: 2048 }, keys, async (ctx) => {
    eventCounter = 0;
    const { rng } = ctx;
    const hashes: string[] = [];
    let version = 0;
    for (const b of BYTE_STREAMS) await ctx.op((db) => db.streams.create(b, { contentType: "application/octet-stream" }));
    for (let i = 0; i < 100; i++) {
      const kind = rng.weighted<string>([
        [20, "event"], [10, "put"], [5, "chunks"], [3, "objdel"], [10, "cassette"], [2, "casdel"], [8, "save"], [2, "recdel"],
        [1, "clear"], [8, "context"], [10, "delta"], [2, "bytime"], [2, "threshold"], [2, "ctxdel"], [1, "deltasdel"],
        [2, "create"], [14, "bsappend"], [1, "bsdelete"],
      ]);
      const c = rng.pick(CONTEXTS);
      const b = rng.pick(BYTE_STREAMS);
      switch (kind) {
        case "event":
          await ctx.op((db) => db.events.append(rng.pick(STORE_STREAMS), events(rng, "st", rng.range(1, 3))));
          break;
        case "put": {
          const h = await ctx.op((db) => db.objects.put(rng.bytes(rng.range(1, 600))));
          if (typeof h === "string") hashes.push(h);
          break;
        }
        case "chunks": {
          const chunks = Array.from({ length: rng.range(1, 3) }, () => ({ timestamp: START_TIME + rng.int(1e6), data: rng.bytes(rng.range(0, 200)) }));
          const h = await ctx.op((db) => db.objects.putChunks(chunks));
          if (typeof h === "string") hashes.push(h);
          break;
        }
        case "objdel":
          if (hashes.length > 0) await ctx.op((db) => db.objects.delete(rng.pick(hashes)));
          break;
        case "cassette":
          await ctx.op((db) => db.cassettes.writeEntry(rng.pick(CASSETTES), { method: "GET", status: 200 + rng.int(300), body: text(rng, rng.range(0, 300)), at: new Date(START_TIME) }));
          break;
        case "casdel":
          await ctx.op((db) => db.cassettes.delete(rng.pick(CASSETTES)));
          break;
        case "save":
          await ctx.op((db) =>
            db.recordings.save({ id: rng.pick(RECORDINGS), title: text(rng, 12), n: rng.int(100), events: Array.from({ length: rng.range(0, 8) }, () => ({ t: rng.int(1000), s: text(rng, 20) })) }),
          );
          break;
        case "recdel":
          await ctx.op((db) => db.recordings.delete(rng.pick(RECORDINGS)));
          break;
        case "clear":
          await ctx.op((db) => db.recordings.clear());
          break;
        case "context":
          await ctx.op((db) => db.contexts.setContext(c, { state: text(rng, rng.range(0, 100)), n: rng.int(50), list: [1, 2, 3] }, version++));
          break;
        case "delta":
          await ctx.op((db) => db.contexts.setDelta(c, { change: text(rng, rng.range(0, 80)), bytes: rng.bytes(8) }, version++));
          break;
        case "bytime":
          await ctx.op((db) => db.contexts.deleteDeltasByTime(c, START_TIME + (i - 20) * 1000));
          break;
        case "threshold":
          await ctx.op((db) => db.contexts.deleteDeltasExceedingThreshold(c, 2));
          break;
        case "ctxdel":
          await ctx.op((db) => db.contexts.deleteContext(c));
          break;
        case "deltasdel":
          await ctx.op((db) => db.contexts.deleteDeltasForContext(c));
          break;
        case "create":
          await ctx.op((db) => db.streams.create(b, { contentType: "application/octet-stream" }));
          break;
        case "bsappend":
          await ctx.op((db) => db.streams.append(b, rng.bytes(rng.range(1, 300))));
          break;
        case "bsdelete":
          await ctx.op((db) => db.streams.delete(b));
          break;
      }
    }
    // A closed stream too (its close record is the last record of that stream).
    await ctx.op((db) => db.streams.close("bs2"));
    await atomicTail(ctx, STORE_STREAMS, "st");
  });
}

const COMPACT_STREAMS = ["a", "b", "c", "d", "e"];

/** Deletes, truncation and retention, then a compaction (rewritten segments, snapshot records), then more appends. */
export function compactedTemplate(): Promise<Template> {
  return buildTemplate("compacted", { segmentBytes: 4096, maxRecordBytes: 1024 }, { ...emptyKeys(), streams: COMPACT_STREAMS }, async (ctx) => {
    eventCounter = 0;
    const { rng } = ctx;
    const hashes: string[] = [];
    for (let i = 0; i < 50; i++) {
      if (i === 12) await ctx.op((db) => db.events.deleteStream("b"));
      if (i === 24) await ctx.op((db) => db.events.deleteStream("c", { hard: true }));
      if (i === 28) await ctx.op((db) => db.events.truncateStream("a", 5));
      if (i === 32) await ctx.op((db) => db.events.setStreamRetention("d", { maxCount: 3 }));
      if (i % 10 === 3) {
        const h = await ctx.op((db) => db.objects.put(rng.bytes(rng.range(50, 300))));
        if (typeof h === "string") hashes.push(h);
      }
      if (i === 40) await ctx.op((db) => db.objects.delete(hashes[0]!));
      const s = rng.pick(COMPACT_STREAMS.filter((x) => x !== "c"));
      await ctx.op((db) => db.events.append(s, events(rng, "cp", rng.range(1, 2))));
    }
    await ctx.op((db) => db.compact());
    for (let i = 0; i < 35; i++) {
      if (i === 10) await ctx.op((db) => db.events.truncateStream("e", 2));
      await ctx.op((db) => db.events.append(rng.pick(["a", "b", "d", "e"]), events(rng, "cq", 1)));
    }
    await atomicTail(ctx, ["a", "d", "e"], "cp");
  });
}

/** One large segment: the checkpoint's tail check covers only its last 4 KiB. */
export function singleSegmentTemplate(): Promise<Template> {
  return buildTemplate("single", { segmentBytes: 65536, maxRecordBytes: 4096 }, { ...emptyKeys(), streams: EVENT_STREAMS }, async (ctx) => {
    eventCounter = 0;
    const { rng } = ctx;
    for (let i = 0; i < 40; i++) {
      await ctx.op((db) => db.events.append(rng.pick(EVENT_STREAMS), [{ id: `big-${i}`, type: "Big", data: { i, text: text(rng, rng.range(100, 1200)) } }]));
    }
    await atomicTail(ctx, EVENT_STREAMS, "sg");
  });
}

/** Almost empty: one event, then one atomic append of three. */
export function tinyTemplate(): Promise<Template> {
  return buildTemplate("tiny", { segmentBytes: 4096, maxRecordBytes: 1024 }, { ...emptyKeys(), streams: ["only"] }, async (ctx) => {
    await ctx.op((db) => db.events.append("only", [{ id: "t-0", type: "One", data: { n: 0 } }]));
    await ctx.op((db) => db.events.append("only", [1, 2, 3].map((n) => ({ id: `t-${n}`, type: "Three", data: { n } }))));
  });
}
