/**
 * Bad-input fuzzing of the public API (issue 7, point 5).
 *
 * Every public method of every store, of the Database and open() itself, is
 * called with random arguments: every JavaScript type, edge numbers (NaN, -1,
 * 1.5, 2^53 and past), edge strings (empty, 300 KB, lone surrogates, NUL,
 * "__proto__"), bigint, symbols, functions, byte arrays and other typed arrays,
 * Dates (valid and invalid), Maps, Sets, class instances, sparse arrays, cyclic
 * and 2,000-deep objects, Proxies whose traps throw, getters that throw or change
 * their answer between two reads, objects whose toString/valueOf throw, and
 * mostly-valid arguments with one field spoiled so that calls reach the deeper
 * checks. For each call:
 *
 * - it returns or resolves, or throws or rejects with a SeglogError;
 * - a method that returns a Promise never throws synchronously, and returns a
 *   real Promise; async iterables and subscriptions end or fail with a
 *   SeglogError, and close() ends a waiting subscription;
 * - nothing hangs;
 * - a rejected call (and every read) leaves the database exactly as it was: every
 *   store's contents, stats() (disk bytes included) and health();
 * - after a rejected write the database still takes a write (a canary append);
 * - at the end of each batch of calls, close and reopen show exactly what the
 *   database showed before the close, and verify() is ok.
 *
 * An exception thrown by the caller's own code (a throwing getter, Proxy trap or
 * toString: HostileError) may reach the caller, as a rejection for Promise
 * methods; the engine may also wrap it in a SeglogError. Either way the call must
 * change nothing. CALLER_ERRORS_MAY_PASS = false makes that strict.
 *
 * Cases are grouped in batches on a fresh copy of one base database; a batch is
 * replayed with SEGLOG_SEED=<batch seed> npm test -- test/fuzz/api.fuzz.test.ts
 * (SEGLOG_FUZZ_CASES sets the number of calls, SEGLOG_FUZZ_BASE_SEED the seeds).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as util from "node:util";
import { open, SeglogError } from "../../engine/index.js";
import { canon, caseSeeds, describeError, FuzzViolation, fuzzCases, fuzzTempRoot, Rng, runCases, show, violation, withTimeout } from "../support/fuzz.js";
import { anyValue, binaryValue, edgeNumber, edgeString, HostileError, mutate } from "../support/hostile-values.js";
import { drawSize, patternBytes } from "../support/size-classes.js";
import { CALL_TIMEOUT_MS, dumpDatabase, firstDifference, type KnownKeys } from "../support/store-dump.js";

type Database = Awaited<ReturnType<typeof open>>;

const CASES = fuzzCases(5000);
const BATCH = 50;
const CALLER_ERRORS_MAY_PASS = true;
/** SEGLOG_FUZZ_TRACE=1 prints every call of a batch and its outcome (with SEGLOG_SEED, to study one). */
const TRACE = process.env.SEGLOG_FUZZ_TRACE === "1";
const NOW = 1_700_000_000_000;
const OPTIONS = { segmentBytes: 32768, maxRecordBytes: 16384, clock: () => NOW };
/** Payload sizes: every size class up to the record limit, where an object is exactly at it (16384 − 32) and one over it. */
const OBJECT_LIMIT = OPTIONS.maxRecordBytes - 32;
const LIMITS = { maxPayload: OBJECT_LIMIT + 1, segmentBytes: OPTIONS.segmentBytes };
function sized(rng: Rng): Uint8Array {
  return patternBytes(drawSize(() => rng.next(), LIMITS), rng.int(2 ** 31));
}

// ---- the base database ---------------------------------------------------------

const STREAMS = ["s0", "s1", "soft", "hard", "trunc", "ret", "new-1", "ü-ß"];
const EVENT_IDS = ["base-s0-0", "base-s0-1", "base-s1-0", "e-1", "e-2"];
const PATHS = ["/p/a", "/p/b", "/p/new"];
const RECORDINGS = ["r0", "r1", "r-new"];
const CONTEXTS = ["c0", "c1", "c-new"];
const BYTE_STREAMS = ["b0", "bjson", "bclosed", "bttl", "b-new"];

interface Base {
  files: Map<string, Buffer>;
  hashes: string[];
  offsets: string[];
}

let root: string;
let base: Base;
const tally = new Map<string, number>();
function count(what: string): void {
  tally.set(what, (tally.get(what) ?? 0) + 1);
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(fuzzTempRoot(), "seglog-api-fuzz-"));
  base = await buildBase(path.join(root, "base"));
}, 120_000);

afterAll(() => {
  if (root !== undefined) fs.rmSync(root, { recursive: true, force: true });
  if (tally.size > 0) process.stdout.write(`api fuzz outcomes:\n${[...tally].sort().map(([k, v]) => `  ${k}: ${v}`).join("\n")}\n`);
});

async function buildBase(dir: string): Promise<Base> {
  const db = await open(dir, OPTIONS);
  const hashes: string[] = [];
  const offsets: string[] = [];
  try {
    const ev = db.events;
    await ev.append("s0", [0, 1, 2, 3, 4].map((i) => ({ id: `base-s0-${i}`, type: "T", data: { i, b: new Uint8Array([i]) }, metadata: { m: i }, tags: ["t"] })));
    await ev.append("s1", [0, 1, 2].map((i) => ({ id: `base-s1-${i}`, type: "U", data: [i, "x"] })));
    await ev.append("soft", [{ type: "T", data: 1 }, { type: "T", data: 2 }]);
    await ev.deleteStream("soft");
    await ev.append("hard", [{ type: "T", data: null }]);
    await ev.deleteStream("hard", { hard: true });
    await ev.append("trunc", [0, 1, 2, 3, 4, 5].map((i) => ({ type: "T", data: i })));
    await ev.truncateStream("trunc", 3);
    await ev.append("ret", [0, 1, 2, 3, 4].map((i) => ({ type: "T", data: i })));
    await ev.setStreamRetention("ret", { maxCount: 2 });
    hashes.push(await db.objects.put(new Uint8Array([1, 2, 3])), await db.objects.put(new Uint8Array(300).fill(7)));
    hashes.push(await db.objects.putChunks([{ timestamp: NOW, data: new Uint8Array([9]) }, { timestamp: NOW + 1, data: new Uint8Array(0) }]));
    await db.cassettes.writeEntry("/p/a", { method: "GET", status: 200 });
    await db.cassettes.writeEntry("/p/a", { method: "POST", status: 201, body: "x" });
    await db.cassettes.writeEntry("/p/b", { method: "GET", status: 404 });
    await db.recordings.save({ id: "r0", title: "zero", events: [{ t: 1 }, { t: 2 }] });
    await db.recordings.save({ id: "r1", n: 1 });
    await db.contexts.setContext("c0", { state: "a" }, 1);
    await db.contexts.setDelta("c0", { d: 2 }, 2);
    await db.contexts.setDelta("c0", { d: 3 }, 3);
    await db.contexts.setDelta("c1", { d: 1 }, 1);
    await db.streams.create("b0", { contentType: "application/octet-stream" });
    offsets.push(await db.streams.append("b0", new Uint8Array([1, 2, 3])));
    offsets.push(await db.streams.append("b0", "text"));
    await db.streams.create("bjson", { contentType: "application/json" });
    offsets.push(await db.streams.append("bjson", "[1, 2]"));
    await db.streams.create("bclosed", { contentType: "text/plain" });
    offsets.push(await db.streams.append("bclosed", "last"));
    await db.streams.close("bclosed");
    await db.streams.create("bttl", { ttlSeconds: 3600 });
  } finally {
    await db.close();
  }
  const files = new Map<string, Buffer>();
  for (const name of fs.readdirSync(dir)) if (name !== "LOCK") files.set(name, fs.readFileSync(path.join(dir, name)));
  return { files, hashes, offsets };
}

// ---- argument generators -----------------------------------------------------

/** Event data: mostly values msgpack round-trips, sometimes anything. */
function data(rng: Rng): unknown {
  if (rng.chance(0.25)) return anyValue(rng);
  if (rng.chance(0.1)) return rng.chance(0.5) ? "x".repeat(drawSize(() => rng.next(), LIMITS)) : sized(rng);
  return plainData(rng);
}

/**
 * Data of the kinds API.md promises to round-trip (plain objects, arrays,
 * strings, numbers, booleans, null, Uint8Array, Date), with awkward but valid
 * content: odd keys, key order, NUL, astral characters, 2^53 - 1, negative and
 * fractional numbers, empty containers, and own "__proto__" keys (JSON.parse makes
 * them; msgpack would rename them on the way back, so the engine must refuse them).
 */
function plainData(rng: Rng, depth = 0): unknown {
  const leaf = (): unknown =>
    rng.pick<() => unknown>([
      () => rng.int(1000) - 500,
      () => rng.pick([1.5, -0.25, 2 ** 53 - 1, -(2 ** 31), 1e300, 0.1]),
      () => rng.pick(["", "text", "a\u0000b", "日本語🎉", "é́", "x".repeat(300)]),
      () => rng.chance(0.5),
      () => null,
      () => (rng.chance(0.7) ? new Uint8Array(rng.bytes(rng.range(0, 40))) : sized(rng)),
      () => new Date(NOW - rng.int(1e9)),
    ])();
  if (depth > 3 || rng.chance(0.3)) return leaf();
  if (rng.chance(0.4)) return Array.from({ length: rng.range(0, 4) }, () => plainData(rng, depth + 1));
  const o: Record<string, unknown> = {};
  // defineProperty, so that "__proto__" becomes an own key (as JSON.parse makes it), not the prototype.
  for (let i = rng.range(0, 4); i > 0; i--) Object.defineProperty(o, rng.pick(PLAIN_KEYS), { value: plainData(rng, depth + 1), enumerable: true, writable: true, configurable: true });
  return o;
}

const PLAIN_KEYS = ["a", "b", "", "0", "10", "constructor", "toString", "ünï", "key with spaces", "x.y", "🎉", "__proto__"];

function newEvent(rng: Rng): unknown {
  const e: Record<string, unknown> = { type: rng.chance(0.93) ? rng.pick(["T", "Ü", "Created"]) : edgeString(rng), data: rng.chance(0.85) ? plainData(rng) : data(rng) };
  if (rng.chance(0.3)) e.metadata = rng.chance(0.9) ? { k: rng.int(9), nested: { a: [1] }, p: plainData(rng) } : anyValue(rng);
  if (rng.chance(0.3)) e.tags = rng.chance(0.9) ? ["a", "b"] : anyValue(rng);
  if (rng.chance(0.25)) e.id = rng.chance(0.9) ? rng.pick(EVENT_IDS) : anyValue(rng);
  return mutate(rng, e, 0.15);
}

function eventList(rng: Rng): unknown {
  return mutate(rng, Array.from({ length: rng.weighted([[1, 0], [6, 1], [3, 3]] as const) }, () => newEvent(rng)), 0.15);
}

function expectedVersion(rng: Rng): unknown {
  if (rng.chance(0.75)) return rng.pick<unknown>([undefined, "any", "no_stream", "stream_exists", -1, 0, 1, 2, 4, 5]);
  return rng.pick<unknown>([-2, 1.5, NaN, "x", null, 2 ** 53, Infinity, "ANY", anyValue(rng)]);
}

/** An options object with some of `fields`, each valid or not; sometimes not an object at all. */
function options(rng: Rng, fields: Record<string, () => unknown>, pObject = 0.85): unknown {
  if (!rng.chance(pObject)) return rng.chance(0.5) ? undefined : anyValue(rng);
  const o: Record<string, unknown> = {};
  for (const [k, make] of Object.entries(fields)) if (rng.chance(0.5)) o[k] = make();
  return mutate(rng, o, 0.2);
}

function readOptions(rng: Rng): unknown {
  return options(rng, {
    from: () => (rng.chance(0.7) ? rng.range(0, 8) : edgeNumber(rng)),
    count: () => (rng.chance(0.7) ? rng.range(0, 5) : edgeNumber(rng)),
    direction: () => (rng.chance(0.8) ? rng.pick(["forward", "backward"]) : edgeString(rng)),
  });
}

function streamId(rng: Rng): unknown {
  return rng.chance(0.8) ? rng.pick(STREAMS) : anyValue(rng);
}

function hash(rng: Rng, known: string[]): unknown {
  return rng.weighted<() => unknown>([
    [5, () => rng.pick(known)],
    [1, () => "0".repeat(64)],
    [1, () => rng.pick(known).toUpperCase()],
    [1, () => rng.pick(known).slice(0, 63)],
    [2, () => anyValue(rng)],
  ])();
}

function key(rng: Rng, pool: string[]): unknown {
  return rng.chance(0.75) ? rng.pick(pool) : anyValue(rng);
}

function bytes(rng: Rng): unknown {
  return rng.chance(0.7) ? sized(rng) : rng.chance(0.5) ? binaryValue(rng) : anyValue(rng);
}

function document(rng: Rng): unknown {
  const doc = rng.chance(0.5) ? { a: rng.int(9), text: "t", list: [1, { b: null }], when: new Date(NOW) } : plainData(rng);
  return mutate(rng, typeof doc === "object" && doc !== null && !Array.isArray(doc) && !(doc instanceof Uint8Array) && !(doc instanceof Date) ? doc : { doc }, 0.4);
}

function version(rng: Rng): unknown {
  return rng.chance(0.7) ? rng.range(0, 6) : edgeNumber(rng);
}

function listOptions(rng: Rng): unknown {
  return options(rng, {
    contextId: () => key(rng, CONTEXTS),
    version: () => version(rng),
    insertedAfter: () => (rng.chance(0.7) ? NOW - 1 : edgeNumber(rng)),
    insertedBefore: () => (rng.chance(0.7) ? NOW + 1 : edgeNumber(rng)),
    limit: () => (rng.chance(0.7) ? rng.range(0, 3) : edgeNumber(rng)),
    offset: () => (rng.chance(0.7) ? rng.range(0, 3) : edgeNumber(rng)),
  });
}

function offset(rng: Rng): unknown {
  return rng.weighted<() => unknown>([
    [4, () => rng.pick(base.offsets)],
    [2, () => "-1"],
    [1, () => "0000000000000000_0000000000000000"],
    [1, () => "0000000000000009_0000000000000001"],
    [1, () => "now"],
    [2, () => anyValue(rng)],
  ])();
}

function byteData(rng: Rng): unknown {
  return rng.weighted<() => unknown>([[4, () => (rng.chance(0.6) ? new Uint8Array(rng.bytes(rng.range(0, 50))) : sized(rng))], [3, () => rng.pick(["x", "[3]", "[]", "{\"a\":1}", "not json", ""])], [3, () => anyValue(rng)]])();
}

function meta(rng: Rng): unknown {
  return options(rng, {
    contentType: () => (rng.chance(0.7) ? rng.pick(["application/octet-stream", "application/json", "text/plain; charset=utf-8"]) : edgeString(rng)),
    ttlSeconds: () => (rng.chance(0.7) ? rng.range(0, 100) : edgeNumber(rng)),
    expiresAt: () => (rng.chance(0.7) ? NOW + rng.range(-10, 10) * 1000 : edgeNumber(rng)),
  });
}

function onProgress(rng: Rng): unknown {
  return rng.weighted<() => unknown>([
    [3, () => () => undefined],
    [2, () => () => {
      throw new HostileError("onProgress");
    }],
    [1, () => anyValue(rng)],
  ])();
}

// ---- the methods ---------------------------------------------------------------

type Kind = "promise" | "sync" | "iterable" | "subscription";

interface Method {
  name: string;
  kind: Kind;
  /** Writes (a rejection must change nothing; a resolution may). Reads must never change anything. */
  writes: boolean;
  args(rng: Rng, s: BatchState): unknown[];
  call(db: Database, args: unknown[]): unknown;
}

interface BatchState {
  hashes: string[];
}

/** Calls go through an untyped view: the point is to pass what the types forbid. */
type Loose = (...args: unknown[]) => unknown;
function m(name: string, kind: Kind, writes: boolean, args: (rng: Rng, s: BatchState) => unknown[]): Method {
  const [store, fn] = name.includes(".") ? name.split(".") : [undefined, name];
  return {
    name,
    kind,
    writes,
    args,
    call: (db, a) => {
      const target = (store === undefined ? db : (db as unknown as Record<string, unknown>)[store!]) as Record<string, Loose>;
      return target[fn!]!.apply(target, a);
    },
  };
}

const METHODS: Method[] = [
  m("events.append", "promise", true, (r) => [streamId(r), eventList(r), options(r, { expectedVersion: () => expectedVersion(r) })]),
  // Well-formed appends of every size class, so that accepted writes (and their read-back) are common.
  m("events.append", "promise", true, (r) => [
    r.pick(STREAMS.filter((x) => x !== "hard")),
    Array.from({ length: r.range(1, 3) }, () => ({ type: "Sized", data: r.chance(0.7) ? sized(r) : { blob: sized(r), n: r.int(99) } })),
    r.chance(0.5) ? undefined : { expectedVersion: "any" },
  ]),
  m("events.appendMany", "promise", true, (r) => {
    const streams = [...STREAMS].sort(() => r.next() - 0.5);
    const items = Array.from({ length: r.weighted([[1, 0], [4, 1], [5, 2], [2, 3]] as const) }, (_, i) =>
      mutate(r, { streamId: r.chance(0.9) ? streams[i] : streamId(r), events: eventList(r), expectedVersion: r.chance(0.6) ? undefined : expectedVersion(r) }, 0.15),
    );
    return [mutate(r, items, 0.15)];
  }),
  m("events.readStream", "promise", false, (r) => [streamId(r), readOptions(r)]),
  m("events.readAll", "promise", false, (r) => [readOptions(r)]),
  m("events.iterateStream", "iterable", false, (r) => [streamId(r), readOptions(r)]),
  m("events.iterateAll", "iterable", false, (r) => [readOptions(r)]),
  m("events.streamVersion", "sync", false, (r) => [streamId(r)]),
  m("events.streamExists", "sync", false, (r) => [streamId(r)]),
  m("events.hasEvents", "sync", false, (r) => (r.chance(0.8) ? [] : [anyValue(r)])),
  m("events.listStreams", "sync", false, (r) => [options(r, { prefix: () => (r.chance(0.7) ? r.pick(["s", "", "x"]) : anyValue(r)), after: () => (r.chance(0.7) ? "s0" : anyValue(r)), limit: () => (r.chance(0.7) ? r.range(0, 3) : edgeNumber(r)) })]),
  m("events.deleteStream", "promise", true, (r) => [streamId(r), options(r, { hard: () => (r.chance(0.7) ? r.chance(0.5) : anyValue(r)), expectedVersion: () => expectedVersion(r) })]),
  m("events.truncateStream", "promise", true, (r) => [streamId(r), r.chance(0.7) ? r.range(0, 8) : edgeNumber(r)]),
  m("events.setStreamRetention", "promise", true, (r) => [streamId(r), options(r, { maxCount: () => (r.chance(0.7) ? r.range(0, 4) : edgeNumber(r)), maxAgeMs: () => (r.chance(0.7) ? r.pick([0, 1000, 10 ** 9]) : edgeNumber(r)) }, 0.9)]),
  m("events.subscribe", "subscription", false, (r) => [options(r, { streamId: () => streamId(r), from: () => (r.chance(0.6) ? r.pick<unknown>([0, 2, -1, "end", 100]) : anyValue(r)) })]),
  m("objects.put", "promise", true, (r) => [bytes(r)]),
  m("objects.get", "promise", false, (r, s) => [hash(r, s.hashes)]),
  m("objects.has", "sync", false, (r, s) => [hash(r, s.hashes)]),
  m("objects.delete", "promise", true, (r, s) => [hash(r, s.hashes)]),
  m("objects.list", "sync", false, () => []),
  m("objects.putChunks", "promise", true, (r) => [mutate(r, Array.from({ length: r.range(0, 3) }, () => mutate(r, { timestamp: r.chance(0.8) ? NOW : edgeNumber(r), data: bytes(r) }, 0.2)), 0.2)]),
  m("objects.getChunks", "promise", false, (r, s) => [hash(r, s.hashes)]),
  m("cassettes.writeEntry", "promise", true, (r) => [key(r, PATHS), document(r)]),
  m("cassettes.readEntries", "iterable", false, (r) => [key(r, PATHS)]),
  m("cassettes.exists", "sync", false, (r) => [key(r, PATHS)]),
  m("cassettes.delete", "promise", true, (r) => [key(r, PATHS)]),
  m("cassettes.list", "sync", false, (r) => [options(r, { prefix: () => (r.chance(0.7) ? "/p" : anyValue(r)) })]),
  m("recordings.save", "promise", true, (r) => [mutate(r, { id: key(r, RECORDINGS), title: "t", events: r.chance(0.7) ? [{ a: 1 }, data(r)] : anyValue(r) }, 0.4)]),
  m("recordings.get", "promise", false, (r) => [key(r, RECORDINGS)]),
  m("recordings.list", "promise", false, () => []),
  m("recordings.listSummaries", "promise", false, () => []),
  m("recordings.delete", "promise", true, (r) => [key(r, RECORDINGS)]),
  m("recordings.clear", "promise", true, (r) => (r.chance(0.9) ? [] : [anyValue(r)])),
  m("contexts.setContext", "promise", true, (r) => [key(r, CONTEXTS), document(r), version(r)]),
  m("contexts.getContext", "promise", false, (r) => [key(r, CONTEXTS)]),
  m("contexts.setDelta", "promise", true, (r) => [key(r, CONTEXTS), document(r), version(r)]),
  m("contexts.getDeltas", "promise", false, (r) => [key(r, CONTEXTS), r.chance(0.7) ? r.range(-1, 4) : edgeNumber(r)]),
  m("contexts.listContexts", "promise", false, (r) => [listOptions(r)]),
  m("contexts.listContextsWithDeltaCounts", "promise", false, (r) => [listOptions(r)]),
  m("contexts.listDeltas", "promise", false, (r) => [listOptions(r)]),
  m("contexts.deleteContext", "promise", true, (r) => [key(r, CONTEXTS)]),
  m("contexts.deleteDeltasByTime", "promise", true, (r) => [key(r, CONTEXTS), r.chance(0.7) ? NOW + r.range(-2, 2) : edgeNumber(r)]),
  m("contexts.deleteDeltasExceedingThreshold", "promise", true, (r) => [key(r, CONTEXTS), r.chance(0.7) ? r.range(0, 3) : edgeNumber(r)]),
  m("contexts.deleteDeltasForContext", "promise", true, (r) => [key(r, CONTEXTS)]),
  m("streams.create", "promise", true, (r) => [key(r, BYTE_STREAMS), meta(r)]),
  m("streams.append", "promise", true, (r) => [key(r, BYTE_STREAMS), byteData(r), options(r, { seq: () => (r.chance(0.7) ? r.pick(["1", "2", "a"]) : anyValue(r)) })]),
  m("streams.close", "promise", true, (r) => [key(r, BYTE_STREAMS)]),
  m("streams.delete", "promise", true, (r) => [key(r, BYTE_STREAMS)]),
  m("streams.read", "promise", false, (r) => [key(r, BYTE_STREAMS), offset(r), options(r, { maxBytes: () => (r.chance(0.7) ? r.range(1, 5) : edgeNumber(r)) })]),
  m("streams.readMessages", "promise", false, (r) => [key(r, BYTE_STREAMS), offset(r), options(r, { maxMessages: () => (r.chance(0.7) ? r.range(1, 3) : edgeNumber(r)) })]),
  m("streams.currentOffset", "sync", false, (r) => [key(r, BYTE_STREAMS)]),
  m("streams.getMetadata", "sync", false, (r) => [key(r, BYTE_STREAMS)]),
  // The fourth argument (seglog's addition) is an AbortSignal, nothing, or anything else (INVALID_ARGUMENT).
  m("streams.waitForData", "promise", false, (r) => {
    const args: unknown[] = [key(r, BYTE_STREAMS), offset(r), r.chance(0.7) ? r.range(0, 30) : edgeNumber(r)];
    if (r.chance(0.3)) args.push(r.chance(0.5) ? AbortSignal.abort() : new AbortController().signal);
    else if (r.chance(0.2)) args.push(anyValue(r));
    return args;
  }),
  m("streams.ensure", "promise", true, (r) => [
    key(r, BYTE_STREAMS),
    options(r, {
      contentType: () => (r.chance(0.7) ? "application/octet-stream" : edgeString(r)),
      data: () => byteData(r),
      closed: () => (r.chance(0.7) ? r.chance(0.5) : anyValue(r)),
      fork: () => mutate(r, { from: key(r, BYTE_STREAMS), offset: offset(r), subOffset: r.chance(0.7) ? r.range(0, 3) : edgeNumber(r) }, 0.3),
    }),
  ]),
  m("streams.write", "promise", true, (r) => [
    key(r, BYTE_STREAMS),
    r.chance(0.2) ? undefined : byteData(r),
    options(r, {
      seq: () => (r.chance(0.7) ? r.pick(["1", "2", "a"]) : anyValue(r)),
      close: () => (r.chance(0.7) ? r.chance(0.3) : anyValue(r)),
      producer: () => mutate(r, { id: "p", epoch: r.range(0, 2), seq: r.range(0, 3) }, 0.4),
    }),
  ]),
  m("streams.touch", "sync", false, (r) => [key(r, BYTE_STREAMS)]),
  m("streams.list", "sync", false, (r) => [options(r, { prefix: () => (r.chance(0.7) ? "b" : anyValue(r)) })]),
  m("compact", "promise", true, (r) => [options(r, { onProgress: () => onProgress(r) })]),
  m("verify", "promise", false, (r) => (r.chance(0.9) ? [] : [anyValue(r)])),
  m("stats", "promise", false, (r) => (r.chance(0.9) ? [] : [anyValue(r)])),
  m("health", "sync", false, (r) => (r.chance(0.9) ? [] : [anyValue(r)])),
];

/** Extra arguments sometimes, fewer sometimes: callers from JavaScript do both. */
function shapeArgs(rng: Rng, args: unknown[]): unknown[] {
  if (rng.chance(0.05)) return args.slice(0, rng.int(args.length + 1));
  if (rng.chance(0.05)) return [...args, anyValue(rng)];
  return args;
}

// ---- running a call --------------------------------------------------------------

type Result = { ok: true; value: unknown } | { ok: false; error: SeglogError | HostileError };

/** A rejection or throw that is allowed: a SeglogError, or (by the policy above) the caller's own HostileError. */
function allowed(what: string, err: unknown): SeglogError | HostileError {
  if (err instanceof FuzzViolation) throw err;
  if (err instanceof SeglogError) return err;
  if (err instanceof HostileError && CALLER_ERRORS_MAY_PASS) return err;
  return violation(`${what} threw something other than a SeglogError: ${describeError(err)}`);
}

/** Promises left waiting (waitForData with a long timeout): they must settle by the close. */
const waiting: { what: string; promise: Promise<unknown> }[] = [];

async function invoke(method: Method, db: Database, args: unknown[]): Promise<Result> {
  const what = `${method.name}(${args.map((a) => show(a, 60)).join(", ")})`;
  let returned: unknown;
  try {
    returned = method.call(db, args);
  } catch (err) {
    const e = allowed(what, err);
    if (method.kind === "promise") violation(`${what} threw synchronously instead of returning a rejected Promise: ${describeError(err)}`);
    return { ok: false, error: e };
  }
  if (method.kind === "sync") return { ok: true, value: returned };
  if (method.kind === "promise") {
    if (!(returned instanceof Promise)) violation(`${what} returned ${show(returned, 80)}, not a Promise`);
    if (method.name === "streams.waitForData") return waitBriefly(what, returned);
    try {
      return { ok: true, value: await withTimeout(returned, CALL_TIMEOUT_MS, what) };
    } catch (err) {
      return { ok: false, error: allowed(what, err) };
    }
  }
  const iterable = returned as AsyncIterable<unknown> & { close?: () => void };
  if (typeof iterable?.[Symbol.asyncIterator] !== "function") violation(`${what} returned something that is not an AsyncIterable`);
  return method.kind === "iterable" ? drain(what, iterable) : drainSubscription(what, iterable as AsyncIterable<unknown> & { close(): void });
}

async function waitBriefly(what: string, p: Promise<unknown>): Promise<Result> {
  const pending = Symbol("pending");
  try {
    const r = await Promise.race([p, new Promise((done) => setTimeout(() => done(pending), 50))]);
    if (r === pending) {
      waiting.push({ what, promise: p });
      return { ok: true, value: "still waiting" };
    }
    return { ok: true, value: r };
  } catch (err) {
    return { ok: false, error: allowed(what, err) };
  }
}

async function drain(what: string, iterable: AsyncIterable<unknown>): Promise<Result> {
  const items: unknown[] = [];
  try {
    const it = iterable[Symbol.asyncIterator]();
    for (let i = 0; i < 200; i++) {
      const r = await withTimeout(it.next(), CALL_TIMEOUT_MS, `${what}.next()`);
      if (r.done) return { ok: true, value: items };
      items.push(r.value);
    }
    await withTimeout(Promise.resolve(it.return?.()), CALL_TIMEOUT_MS, `${what}.return()`);
    return { ok: true, value: items };
  } catch (err) {
    return { ok: false, error: allowed(what, err) };
  }
}

/** Catch-up events, then (once it waits for new ones) close(): the waiting next() must end. */
async function drainSubscription(what: string, sub: AsyncIterable<unknown> & { close(): void }): Promise<Result> {
  const items: unknown[] = [];
  const pending = Symbol("pending");
  try {
    const it = sub[Symbol.asyncIterator]();
    for (;;) {
      const next = it.next();
      const r = await Promise.race([next, new Promise<typeof pending>((done) => setTimeout(() => done(pending), 20))]);
      if (r === pending) {
        sub.close();
        const end = await withTimeout(next, CALL_TIMEOUT_MS, `${what}: next() after close()`);
        if (!end.done) items.push(end.value);
        return { ok: true, value: items };
      }
      if (r.done) return { ok: true, value: items };
      items.push(r.value);
      if (items.length > 500) violation(`${what} delivered more than 500 events from a small database`);
    }
  } catch (err) {
    return { ok: false, error: allowed(what, err) };
  } finally {
    sub.close();
  }
}

// ---- accepted values read back as they were written ----------------------------------

/** Whether API.md promises that `v` reads back as the same value (see plainData). */
function promised(v: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (v === null || typeof v === "boolean" || typeof v === "string") return true;
  if (typeof v === "number") return !Object.is(v, -0);
  if (typeof v !== "object" || util.types.isProxy(v)) return false;
  if (v instanceof Date) return !Number.isNaN(v.getTime());
  if (v instanceof Uint8Array) return true;
  const own = Reflect.ownKeys(v);
  if (own.some((k) => typeof k === "symbol" || (k !== "length" && Object.getOwnPropertyDescriptor(v, k)?.get !== undefined))) return false;
  if (Array.isArray(v)) return own.length === v.length + 1 && v.every((x, i) => i in v && promised(x, depth + 1));
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.entries(v).every(([k, x]) => k !== "__proto__" && promised(x, depth + 1));
}

/** Key order does not matter, byte arrays of any Uint8Array class are the same. */
function normal(v: unknown): unknown {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (v instanceof Date || v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(normal);
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, normal((v as Record<string, unknown>)[k])]));
}

function sameValue(written: unknown, read: unknown, what: string): void {
  if (canon(normal(written)) !== canon(normal(read))) violation(`${what} reads back as ${show(read, 200)}, written as ${show(written, 200)}`);
}

/** After an accepted write of promised values, the values read back are the ones written. */
async function checkReadBack(db: Database, method: Method, args: unknown[], value: unknown): Promise<void> {
  if (method.name === "events.append") {
    const events = args[1] as Record<string, unknown>[];
    // With an id on every event the call may have been a duplicate, answered with the first call's result.
    if (events.every((e) => e.id !== undefined)) return;
    const r = value as { streamId: string; firstVersion: number };
    // Retention may hide some of them: compare those that read back, by version.
    for (const e of await db.events.readStream(r.streamId, { from: r.firstVersion, count: events.length })) {
      const i = e.version - r.firstVersion;
      const w = events[i]!;
      for (const field of ["type", "data", "metadata", "tags", "id"] as const) {
        if (w[field] === undefined || !promised(w[field])) continue;
        sameValue(w[field], (e as unknown as Record<string, unknown>)[field], `event ${i}.${field} of events.append`);
      }
    }
  } else if (method.name === "cassettes.writeEntry" && promised(args[1])) {
    const entries: unknown[] = [];
    for await (const e of db.cassettes.readEntries(args[0] as string)) entries.push(e);
    sameValue(args[1], entries.at(-1), "the last entry of cassettes.writeEntry");
  } else if (method.name === "contexts.setContext" && promised(args[1])) {
    sameValue(args[1], (await db.contexts.getContext(args[0] as string)).context, "contexts.setContext's context");
  } else if (method.name === "recordings.save" && promised(args[0])) {
    sameValue(args[0], await db.recordings.get((args[0] as { id: string }).id), "recordings.save's recording");
  }
}

// ---- the state a rejected call must not change ------------------------------------

function keysOf(s: BatchState): KnownKeys {
  return { streams: STREAMS, objects: s.hashes, cassettes: PATHS, recordings: RECORDINGS, contexts: CONTEXTS, byteStreams: BYTE_STREAMS };
}

interface Fingerprint {
  dump: unknown;
  canon: string;
}

/**
 * Everything the database shows, stats() included (so bytes written to disk show
 * up) but for garbageBytes: the byte-stream store counts an expired stream as
 * garbage lazily, when a read first meets it, so that number moves on reads.
 */
async function fingerprint(db: Database, s: BatchState): Promise<Fingerprint> {
  const health = db.health();
  const { garbageBytes: _lazy, ...stats } = await db.stats();
  const dump = { health, stats, store: await dumpDatabase(db, keysOf(s)) };
  return { dump, canon: canon(dump) };
}

/**
 * A compaction that fails (its onProgress threw) may have sealed the active
 * segment (a new empty one) and swapped the segments it had rewritten already:
 * the files change, what reads show must not.
 */
function withoutFiles(f: Fingerprint): Fingerprint {
  const d = f.dump as { stats: Record<string, unknown> };
  const { diskBytes: _bytes, segments: _segments, ...stats } = d.stats;
  const dump = { ...d, stats };
  return { dump, canon: canon(dump) };
}

function sameState(before: Fingerprint, after: Fingerprint, what: string): void {
  if (before.canon === after.canon) return;
  violation(`${what} changed the database: ${firstDifference(before.dump, after.dump) ?? "(no difference found)"}`);
}

// ---- batches ---------------------------------------------------------------------

describe("the public API with random arguments", () => {
  test("every call returns or fails with a SeglogError, Promise methods reject, and a rejected call changes nothing", async () => {
    const batches = Math.max(1, Math.ceil(CASES / BATCH));
    const seeds = caseSeeds("api", batches);
    const result = await runCases("api fuzz", "test/fuzz/api.fuzz.test.ts", seeds, (seed, describeCase) => runBatch(seed, describeCase));
    process.stdout.write(`api fuzz: ${result.ran} batches of ${BATCH} calls (${result.ran * BATCH} cases) in ${result.ms} ms\n`);
  }, 600_000);
});

async function runBatch(seed: number, describeCase: (text: string) => void): Promise<void> {
  const rng = new Rng(seed);
  const dir = fs.mkdtempSync(path.join(root, "batch-"));
  const state: BatchState = { hashes: [...base.hashes] };
  const log: string[] = [];
  const say = (line: string): void => {
    log.push(line);
    if (TRACE) process.stdout.write(`[${seed}] ${log.length}: ${line}\n`);
    describeCase(`call ${log.length} of the batch: ${line}`);
  };
  let db: Database | undefined;
  try {
    for (const [name, bytes] of base.files) fs.writeFileSync(path.join(dir, name), bytes);
    db = await open(dir, OPTIONS);
    let before = await fingerprint(db, state);
    for (let i = 0; i < BATCH; i++) {
      if (rng.chance(0.04)) {
        say("open() with random arguments");
        await fuzzOpen(rng, dir);
        sameState(before, await fingerprint(db, state), "an open() of another database (or a read-only one of this)");
        continue;
      }
      if (rng.chance(0.06)) {
        await concurrentGroup(rng, db, state, say);
        // What the group left must survive a close and reopen exactly, and verify.
        db = await reopen(db, dir, state, await fingerprint(db, state));
        before = await fingerprint(db, state);
        continue;
      }
      if (rng.chance(0.01)) {
        say("close() and reopen");
        db = await reopen(db, dir, state, before);
        before = await fingerprint(db, state);
        continue;
      }
      const method = rng.pick(METHODS);
      const args = shapeArgs(rng, method.args(rng, state));
      say(`${method.name}(${args.map((a) => show(a, 60)).join(", ")})`);
      const result = await invoke(method, db, args);
      const outcome = result.ok ? "ok" : result.error instanceof SeglogError ? result.error.code : "caller's own error";
      count(`${method.name}: ${outcome}`);
      if (TRACE) process.stdout.write(`    → ${outcome}${result.ok ? "" : `: ${result.error.message}`}\n`);
      const health = db.health();
      if (!health.ok) violation(`after ${method.name} health() is ${JSON.stringify(health)}`);
      if (result.ok && method.name === "objects.put" && typeof result.value === "string" && !state.hashes.includes(result.value)) state.hashes.push(result.value);
      if (result.ok && method.writes) await checkReadBack(db, method, args, result.value);
      const after = await fingerprint(db, state);
      if (!result.ok || !method.writes) {
        const what = result.ok ? `${method.name}, a read,` : `a rejected ${method.name}`;
        if (method.name === "compact") sameState(withoutFiles(before), withoutFiles(after), what);
        else sameState(before, after, what);
        if (!result.ok && method.writes && rng.chance(0.3)) {
          // The database still takes writes after a rejected one.
          const canary = await invoke(METHODS[0]!, db, ["canary", [{ type: "Canary", data: { i } }]]);
          if (!canary.ok) violation(`an append after a rejected ${method.name} failed: ${describeError(canary.error)}`);
          before = await fingerprint(db, state);
          continue;
        }
      }
      before = after;
    }
    db = await reopen(db, dir, state, before);
  } finally {
    if (db !== undefined) await db.close().catch(() => undefined);
    await settleWaiting();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Several write calls issued at once, none awaiting another: random and
 * hostile arguments, failing calls among good ones, and retries of appends
 * still in flight (the same arguments again). Each call settles with a value
 * or an allowed error, nothing hangs, and the database stays healthy.
 */
async function concurrentGroup(rng: Rng, db: Database, state: BatchState, say: (line: string) => void): Promise<void> {
  const writers = METHODS.filter((x) => x.writes && x.name !== "compact");
  const calls: { method: Method; args: unknown[] }[] = [];
  for (let n = rng.range(2, 24); calls.length < n; ) {
    const method = rng.pick(writers);
    const args = shapeArgs(rng, method.args(rng, state));
    calls.push({ method, args });
    if (method.name.startsWith("events.append") && rng.chance(0.3)) calls.push({ method, args }); // a retry in flight
  }
  say(`a group of ${calls.length} calls at once: ${calls.map((c) => c.method.name).join(", ")}`);
  const results = await Promise.all(calls.map((c) => invoke(c.method, db, c.args)));
  results.forEach((r, k) => {
    count(`group ${calls[k]!.method.name}: ${r.ok ? "ok" : r.error instanceof SeglogError ? r.error.code : "caller's own error"}`);
    if (r.ok && calls[k]!.method.name === "objects.put" && typeof r.value === "string" && !state.hashes.includes(r.value)) state.hashes.push(r.value);
  });
  const health = db.health();
  if (!health.ok) violation(`after a group of concurrent calls health() is ${JSON.stringify(health)}`);
}

/** Close, reopen, and the database must show exactly what it showed, and verify ok. */
async function reopen(db: Database, dir: string, state: BatchState, before: Fingerprint): Promise<Database> {
  await withTimeout(db.close(), CALL_TIMEOUT_MS, "close()");
  await settleWaiting();
  const again = await withTimeout(open(dir, OPTIONS), CALL_TIMEOUT_MS, "reopen");
  const after = await fingerprint(again, state);
  if (after.canon !== before.canon) {
    await again.close();
    violation(`after close and reopen the database shows other data: ${firstDifference(before.dump, after.dump)}`);
  }
  const report = await again.verify();
  if (!report.ok) {
    await again.close();
    violation(`verify() after the reopen: ${JSON.stringify(report.problems).slice(0, 400)}`);
  }
  return again;
}

/** Every long wait must have settled by now (the database closed): with a value or a SeglogError. */
async function settleWaiting(): Promise<void> {
  for (const w of waiting.splice(0)) {
    try {
      await withTimeout(w.promise, CALL_TIMEOUT_MS, `${w.what} (still waiting after close())`);
    } catch (err) {
      allowed(w.what, err);
    }
  }
}

// ---- open() ----------------------------------------------------------------------

/**
 * A random string is a relative path, which open() would resolve against the
 * working directory (the repository): it is placed under `fresh` instead, with
 * its separators and dot-runs made harmless, so nothing is created outside the
 * fuzz root. Its other characters (NUL, lone surrogates, 300 KB) are kept.
 */
function inFuzzRoot(value: unknown, fresh: string): unknown {
  if (typeof value !== "string" || value === "") return value;
  return path.join(fresh, value.replace(/[\\/]/g, "_").replace(/\.\./g, "__"));
}

/** open() with a random directory and random options; anything that opens gets a short workload and a close. */
async function fuzzOpen(rng: Rng, batchDir: string): Promise<void> {
  const fresh = path.join(root, `open-${rng.int(1e9)}`);
  const file = path.join(root, `file-${rng.int(1e9)}`);
  fs.writeFileSync(file, "not a directory");
  const dir = rng.weighted<() => unknown>([
    [4, () => fresh],
    [2, () => batchDir],
    [1, () => file],
    [1, () => path.join(file, "below")],
    [1, () => `${fresh}\u0000nul`],
    [1, () => path.join(fresh, "x".repeat(300))],
    [2, () => inFuzzRoot(anyValue(rng), fresh)],
  ])();
  const opts = options(rng, {
    durability: () => (rng.chance(0.7) ? rng.pick(["sync", "buffered"]) : edgeString(rng)),
    flushIntervalMs: () => (rng.chance(0.7) ? rng.range(1, 50) : edgeNumber(rng)),
    segmentBytes: () => (rng.chance(0.7) ? rng.pick([4096, 32768, 1 << 20]) : edgeNumber(rng)),
    maxRecordBytes: () => (rng.chance(0.7) ? rng.pick([64, 1024, 16384]) : edgeNumber(rng)),
    readOnly: () => (rng.chance(0.7) ? rng.chance(0.5) : anyValue(rng)),
    clock: () =>
      rng.weighted<() => unknown>([
        [4, () => () => NOW],
        [1, () => () => NaN],
        [1, () => () => "soon"],
        [1, () => () => {
          throw new HostileError("clock");
        }],
        [1, () => anyValue(rng)],
      ])(),
  });
  const what = `open(${show(dir, 60)}, ${show(opts, 120)})`;
  let returned: unknown;
  try {
    returned = (open as (...a: unknown[]) => unknown)(dir, opts);
  } catch (err) {
    violation(`${what} threw synchronously instead of returning a rejected Promise: ${describeError(err)}`);
  }
  if (!(returned instanceof Promise)) violation(`${what} did not return a Promise`);
  let db: Database;
  try {
    db = (await withTimeout(returned, CALL_TIMEOUT_MS, what)) as Database;
  } catch (err) {
    const e = allowed(what, err);
    count(`open: ${e instanceof SeglogError ? e.code : "caller's own error"}`);
    fs.rmSync(fresh, { recursive: true, force: true });
    fs.rmSync(file, { force: true });
    return;
  }
  count("open: ok");
  try {
    // A short workload: whatever the options were, each call succeeds or fails with a SeglogError.
    for (const [method, args] of [
      [METHODS[0]!, ["w", [{ type: "T", data: { n: 1 } }]]],
      [METHODS.find((x) => x.name === "events.readAll")!, [{}]],
      [METHODS.find((x) => x.name === "stats")!, []],
      [METHODS.find((x) => x.name === "objects.put")!, [new Uint8Array([1])]],
      [METHODS.find((x) => x.name === "contexts.setContext")!, ["c", { a: 1 }, 1]],
      [METHODS.find((x) => x.name === "streams.ensure")!, ["b", { data: "x" }]],
      [METHODS.find((x) => x.name === "verify")!, []],
    ] as [Method, unknown[]][]) {
      await invoke(method, db, args);
    }
  } finally {
    await withTimeout(db.close(), CALL_TIMEOUT_MS, `close() of ${what}`).catch((err) => allowed(`close() of ${what}`, err));
    fs.rmSync(fresh, { recursive: true, force: true });
    fs.rmSync(file, { force: true });
  }
}
