/**
 * The shared behaviour suite for `db.events` (docs/api.md, "Event store" and
 * "Semantics in detail"). Any way of opening a database — the disk engine, the
 * engine on an in-memory file system, other option sets — runs it through
 * `eventStoreContract(name, factory)`.
 *
 * The suite covers every EventStore method and every event-store rule once; the
 * focused files in test/stores/events/ go deeper into one area each. The helpers
 * those files share (harness, error checks, subscription reader) live here too,
 * because a contract and its helpers belong together. This file is longer than
 * the usual 500 lines for that reason: splitting the contract itself would make
 * it harder to see that every method is covered.
 *
 * Tests never look at files: everything is checked through the public API, and
 * persistence is checked by closing and opening the same directory again.
 */
import { SeglogError } from "../../engine/index.js";
import type { AppendResult, Database, ErrorCode, NewEvent, ReadOptions, RecordedEvent, Subscription } from "../../engine/index.js";
import type { EngineOptions as OpenOptions } from "../../engine/options.js";
import { useTempDir } from "../support/temp-dir.js";

// ---------------------------------------------------------------------------
// Helpers shared with test/stores/events/*.test.ts
// ---------------------------------------------------------------------------

export interface DatabaseFactory {
  open(dir: string, options?: OpenOptions): Promise<Database>;
}

export interface DatabaseHarness {
  /** The current test's fresh directory. */
  readonly dir: string;
  /** Opens a database (default: in `dir`); it is closed after the test. */
  open(options?: OpenOptions, dir?: string): Promise<Database>;
  /** Closes `db` and opens its directory again. */
  reopen(db: Database, options?: OpenOptions): Promise<Database>;
}

/** Gives every test a fresh directory and closes every database it opened. */
export function useDatabases(factory: DatabaseFactory): DatabaseHarness {
  const opened: Database[] = [];
  const dirs = new Map<Database, string>();
  const temp = useTempDir(async () => {
    for (const db of opened.splice(0)) await db.close().catch(() => undefined);
    dirs.clear();
  });
  const openDb = async (options?: OpenOptions, dir?: string): Promise<Database> => {
    const where = dir ?? temp.path;
    const db = await factory.open(where, options);
    opened.push(db);
    dirs.set(db, where);
    return db;
  };
  return {
    get dir(): string {
      return temp.path;
    },
    open: openDb,
    async reopen(db: Database, options?: OpenOptions): Promise<Database> {
      await db.close();
      return openDb(options, dirs.get(db) ?? db.dir);
    },
  };
}

/** How long a test waits for one subscription delivery before it fails. */
export const WAIT_MS = 5000;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function ev(type: string, data: unknown = null, extra: Partial<NewEvent> = {}): NewEvent {
  return { type, data, ...extra };
}

/** `count` events whose data is `{ n }` with n = first, first + 1, ... */
export function numbered(count: number, first = 0, type = "numbered"): NewEvent[] {
  return Array.from({ length: count }, (_, i) => ({ type, data: { n: first + i } }));
}

/** Events with the given ids, in order. */
export function withIds(...ids: string[]): NewEvent[] {
  return ids.map((id) => ({ type: "with-id", data: { id }, id }));
}

function describeError(err: unknown): string {
  if (err instanceof SeglogError) return `SeglogError ${err.code}: ${err.message}`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return `non-error value ${String(err)}`;
}

/**
 * Calls a Promise-returning method and checks that it rejects (never throws
 * synchronously, API.md "General") with a SeglogError of `code`.
 */
export async function rejectsWith(call: () => Promise<unknown>, code: ErrorCode): Promise<SeglogError> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (err) {
    throw new Error(`expected a rejected promise with ${code}, but the call threw synchronously: ${describeError(err)}`);
  }
  let outcome: { resolved: true; value: unknown } | { resolved: false; error: unknown };
  try {
    outcome = { resolved: true, value: await promise };
  } catch (error) {
    outcome = { resolved: false, error };
  }
  if (outcome.resolved) {
    throw new Error(`expected a rejection with ${code}, but the call resolved with ${safeJson(outcome.value)}`);
  }
  return checkError(outcome.error, code);
}

/** Calls a synchronous method and checks that it throws a SeglogError of `code`. */
export function throwsWith(call: () => unknown, code: ErrorCode): SeglogError {
  let value: unknown;
  try {
    value = call();
  } catch (err) {
    return checkError(err, code);
  }
  throw new Error(`expected a thrown ${code}, but the call returned ${safeJson(value)}`);
}

/**
 * For methods that return an AsyncIterable: the contract does not say whether a
 * bad argument throws at the call or on the first step, so either is accepted.
 */
export async function iterationFailsWith(call: () => AsyncIterable<unknown>, code: ErrorCode): Promise<SeglogError> {
  let iterable: AsyncIterable<unknown>;
  try {
    iterable = call();
  } catch (err) {
    return checkError(err, code);
  }
  return rejectsWith(() => collect(iterable), code);
}

function checkError(err: unknown, code: ErrorCode): SeglogError {
  if (!(err instanceof SeglogError)) throw new Error(`expected SeglogError ${code}, got ${describeError(err)}`);
  if (err.code !== code) throw new Error(`expected SeglogError ${code}, got ${describeError(err)}`);
  return err;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Races `promise` against a timer so that a broken implementation fails instead of hanging. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Reads a subscription step by step with bounded waits; always close() it in `finally`. */
export class SubscriptionReader {
  private readonly iterator: AsyncIterator<RecordedEvent>;

  constructor(private readonly subscription: Subscription) {
    this.iterator = subscription[Symbol.asyncIterator]();
  }

  async take(count: number, ms = WAIT_MS): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    for (let i = 0; i < count; i++) {
      const step = await withTimeout(this.iterator.next(), ms, `waiting for event ${i + 1} of ${count}`);
      if (step.done === true) throw new Error(`the subscription ended after ${out.length} of ${count} events`);
      out.push(step.value);
    }
    return out;
  }

  /** The next step must report the end of the iteration. */
  async expectEnd(ms = WAIT_MS): Promise<void> {
    const step = await withTimeout(this.iterator.next(), ms, "waiting for the subscription to end");
    expect(step.done).toBe(true);
  }

  /** Starts a step without waiting for it (to test close() while a read is pending). */
  nextPending(): Promise<IteratorResult<RecordedEvent>> {
    return this.iterator.next();
  }

  close(): void {
    this.subscription.close();
  }
}

export function positionsOf(events: RecordedEvent[]): number[] {
  return events.map((e) => e.position);
}

export function versionsOf(events: RecordedEvent[]): number[] {
  return events.map((e) => e.version);
}

export function dataOf(events: RecordedEvent[]): unknown[] {
  return events.map((e) => e.data);
}

export function expectStrictlyIncreasing(values: number[]): void {
  for (let i = 1; i < values.length; i++) {
    if (!(values[i]! > values[i - 1]!)) {
      throw new Error(`values not strictly increasing at index ${i}: ${values[i - 1]} then ${values[i]}`);
    }
  }
}

/**
 * The views of one database agree (API.md "Reads"): readAll shows exactly what
 * readStream shows for the streams listStreams names, in position order, and
 * stats().events counts it. Call it only when no stream exists without readable
 * events, since how stats().streams counts such a stream is not decided.
 */
export async function expectConsistentViews(db: Database): Promise<void> {
  const all = await db.events.readAll();
  const streams = db.events.listStreams();
  const perStream = (await Promise.all(streams.map((s) => db.events.readStream(s))))
    .flat()
    .sort((a, b) => a.position - b.position);
  expect(all).toEqual(perStream);
  expectStrictlyIncreasing(positionsOf(all));
  for (const s of streams) expect(db.events.streamExists(s)).toBe(true);
  const stats = await db.stats();
  expect(stats.events).toBe(all.length);
  expect(stats.streams).toBe(streams.length);
  expect(await collect(db.events.iterateAll())).toEqual(all);
}

/** What a reopen must give back unchanged. */
export async function snapshot(db: Database, streamIds: string[] = []): Promise<unknown> {
  const stats = await db.stats();
  return {
    all: await db.events.readAll(),
    streams: db.events.listStreams(),
    versions: streamIds.map((s) => db.events.streamVersion(s)),
    exists: streamIds.map((s) => db.events.streamExists(s)),
    hasEvents: db.events.hasEvents(),
    counts: { events: stats.events, streams: stats.streams, lastPosition: stats.lastPosition },
  };
}

/** Checks an AppendResult against the events it describes. */
export function expectResultMatches(result: AppendResult, streamId: string, events: RecordedEvent[]): void {
  expect(events.length).toBeGreaterThan(0);
  expect(result).toEqual({
    streamId,
    firstVersion: events[0]!.version,
    lastVersion: events[events.length - 1]!.version,
    firstPosition: events[0]!.position,
    lastPosition: events[events.length - 1]!.position,
  });
}

// ---------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------

export function eventStoreContract(name: string, factory: DatabaseFactory): void {
  describe(`event store contract (${name})`, () => {
    const h = useDatabases(factory);

    describe("append and readStream", () => {
      it("when events are appended to a new stream, versions are dense from 0 and the result describes them", async () => {
        const db = await h.open();
        const result = await db.events.append("order-1", numbered(3));
        const read = await db.events.readStream("order-1");
        expect(versionsOf(read)).toEqual([0, 1, 2]);
        expect(dataOf(read)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
        expect(read.every((e) => e.streamId === "order-1" && e.type === "numbered")).toBe(true);
        expectStrictlyIncreasing(positionsOf(read));
        expectResultMatches(result, "order-1", read);
      });

      it("when the database is empty, the first appended event gets position 0", async () => {
        const db = await h.open();
        const result = await db.events.append("s", numbered(2));
        expect(result.firstPosition).toBe(0);
        expect(result.lastPosition).toBeGreaterThan(0);
      });

      it("when several streams are appended to in turns, versions continue per stream and positions strictly increase across streams", async () => {
        const db = await h.open();
        const results: AppendResult[] = [];
        for (let round = 0; round < 3; round++) {
          results.push(await db.events.append("a", numbered(2, round * 2)));
          results.push(await db.events.append("b", numbered(1, round)));
        }
        expect(results.map((r) => [r.streamId, r.firstVersion, r.lastVersion])).toEqual([
          ["a", 0, 1], ["b", 0, 0], ["a", 2, 3], ["b", 1, 1], ["a", 4, 5], ["b", 2, 2],
        ]);
        for (let i = 1; i < results.length; i++) {
          expect(results[i]!.firstPosition).toBeGreaterThan(results[i - 1]!.lastPosition);
        }
        expect(versionsOf(await db.events.readStream("a"))).toEqual([0, 1, 2, 3, 4, 5]);
        expect(dataOf(await db.events.readStream("b"))).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
        const all = await db.events.readAll();
        expect(all.map((e) => e.streamId)).toEqual(["a", "a", "b", "a", "a", "b", "a", "a", "b"]);
        expectStrictlyIncreasing(positionsOf(all));
      });

      it("when an event has no id a UUID is generated, and a given id is kept", async () => {
        const db = await h.open();
        await db.events.append("s", [ev("x"), ev("y"), ev("z", 1, { id: "my-own-id" })]);
        const [a, b, c] = await db.events.readStream("s");
        expect(a!.id).toMatch(UUID);
        expect(b!.id).toMatch(UUID);
        expect(a!.id).not.toBe(b!.id);
        expect(c!.id).toBe("my-own-id");
      });

      it("when metadata and tags are omitted they read back as {} and [], and given ones round-trip", async () => {
        const db = await h.open();
        await db.events.append("s", [
          ev("plain", 1),
          ev("rich", 2, { metadata: { user: "ann", nested: { n: 1 }, list: [1, "2"] }, tags: ["red", "blue"] }),
        ]);
        const [plain, rich] = await db.events.readStream("s");
        expect(plain!.metadata).toEqual({});
        expect(plain!.tags).toEqual([]);
        expect(rich!.metadata).toEqual({ user: "ann", nested: { n: 1 }, list: [1, "2"] });
        expect(rich!.tags).toEqual(["red", "blue"]);
      });

      it("when the clock is injected, each event's timestamp is the clock's value at its append", async () => {
        let now = 1000;
        const db = await h.open({ clock: () => now });
        await db.events.append("s", numbered(2));
        now = 2500;
        await db.events.append("s", numbered(1));
        expect((await db.events.readStream("s")).map((e) => e.timestamp)).toEqual([1000, 1000, 2500]);
        const again = await h.reopen(db, { clock: () => now });
        expect((await again.events.readStream("s")).map((e) => e.timestamp)).toEqual([1000, 1000, 2500]);
      });

      it("when a stream was never appended, readStream returns []", async () => {
        const db = await h.open();
        expect(await db.events.readStream("nobody")).toEqual([]);
        await db.events.append("somebody", numbered(1));
        expect(await db.events.readStream("nobody")).toEqual([]);
        expect(await db.events.readStream("nobody", { direction: "backward" })).toEqual([]);
      });

      it("when an append of [] is made, it rejects with INVALID_ARGUMENT and writes nothing", async () => {
        const db = await h.open();
        await rejectsWith(() => db.events.append("s", []), "INVALID_ARGUMENT");
        expect(db.events.streamVersion("s")).toBe(-1);
        expect((await db.stats()).lastPosition).toBe(-1);
      });
    });

    describe("event data round trip", () => {
      const values: [string, unknown][] = [
        ["a plain object", { a: 1, b: "two", c: [1, 2, { d: null }], e: { f: true } }],
        ["an array", [1, "x", false, null, { y: 2 }]],
        ["a string", "héllo wörld 😀"],
        ["an empty string", ""],
        ["an integer", 42],
        ["a negative integer", -7],
        ["the largest safe integer", Number.MAX_SAFE_INTEGER],
        ["a float", 3.14159],
        ["true", true],
        ["false", false],
        ["null", null],
        ["a Date", new Date(1_700_000_000_123)],
        ["an object holding a Date", { at: new Date(5) }],
        ["an empty object", {}],
        ["an empty array", []],
      ];

      it("when each kind of value msgpack round-trips is appended, the same value reads back, also after reopen", async () => {
        const db = await h.open();
        await db.events.append("data", values.map(([kind, data]) => ev(kind, data)));
        const expected = values.map(([, data]) => data);
        expect(dataOf(await db.events.readStream("data"))).toEqual(expected);
        const dates = (await db.events.readStream("data")).filter((e) => e.type === "a Date");
        expect(dates[0]!.data).toBeInstanceOf(Date);
        const again = await h.reopen(db);
        expect(dataOf(await again.events.readStream("data"))).toEqual(expected);
        expect(dataOf(await again.events.readAll())).toEqual(expected);
      });

      it("when the data is a Uint8Array, it comes back as a Uint8Array with the same bytes, also nested and after reopen", async () => {
        const bytes = new Uint8Array([0, 1, 2, 127, 128, 254, 255]);
        const db = await h.open();
        await db.events.append("bin", [ev("top", bytes), ev("nested", { payload: bytes, note: "x" }), ev("empty", new Uint8Array(0))]);
        const check = async (store: Database): Promise<void> => {
          const [top, nested, empty] = await store.events.readStream("bin");
          expect(top!.data).toBeInstanceOf(Uint8Array);
          expect(Array.from(top!.data as Uint8Array)).toEqual(Array.from(bytes));
          const inner = (nested!.data as { payload: Uint8Array; note: string });
          expect(inner.payload).toBeInstanceOf(Uint8Array);
          expect(Array.from(inner.payload)).toEqual(Array.from(bytes));
          expect(inner.note).toBe("x");
          expect(empty!.data).toBeInstanceOf(Uint8Array);
          expect((empty!.data as Uint8Array).length).toBe(0);
        };
        await check(db);
        await check(await h.reopen(db));
      });

      it("when a returned event's data is changed by the caller, the stored event is not", async () => {
        const db = await h.open();
        await db.events.append("s", [ev("x", { list: [1, 2] })]);
        const [first] = await db.events.readStream("s");
        (first!.data as { list: number[] }).list.push(3);
        expect(dataOf(await db.events.readStream("s"))).toEqual([{ list: [1, 2] }]);
      });
    });

    describe("reading with options", () => {
      it("when reading a stream forward, from is an inclusive version and count limits the result", async () => {
        const db = await h.open();
        await db.events.append("s", numbered(10));
        expect(versionsOf(await db.events.readStream("s", { from: 4 }))).toEqual([4, 5, 6, 7, 8, 9]);
        expect(versionsOf(await db.events.readStream("s", { from: 4, count: 3 }))).toEqual([4, 5, 6]);
        expect(versionsOf(await db.events.readStream("s", { count: 2 }))).toEqual([0, 1]);
        expect(versionsOf(await db.events.readStream("s", { from: 9 }))).toEqual([9]);
        expect(await db.events.readStream("s", { from: 10 })).toEqual([]);
        expect(await db.events.readStream("s", { from: 500, count: 5 })).toEqual([]);
        expect(versionsOf(await db.events.readStream("s", { from: 8, count: 100 }))).toEqual([8, 9]);
      });

      it("when reading a stream backward, it starts at the last version by default and from is inclusive", async () => {
        const db = await h.open();
        await db.events.append("s", numbered(6));
        expect(versionsOf(await db.events.readStream("s", { direction: "backward" }))).toEqual([5, 4, 3, 2, 1, 0]);
        expect(versionsOf(await db.events.readStream("s", { direction: "backward", from: 3 }))).toEqual([3, 2, 1, 0]);
        expect(versionsOf(await db.events.readStream("s", { direction: "backward", count: 2 }))).toEqual([5, 4]);
        expect(versionsOf(await db.events.readStream("s", { direction: "backward", from: 2, count: 2 }))).toEqual([2, 1]);
        expect(versionsOf(await db.events.readStream("s", { direction: "backward", from: 0 }))).toEqual([0]);
        expect(versionsOf(await db.events.readStream("s", { direction: "backward", from: 100 }))).toEqual([5, 4, 3, 2, 1, 0]);
        expect(versionsOf(await db.events.readStream("s", { direction: "forward" }))).toEqual([0, 1, 2, 3, 4, 5]);
      });

      it("when reading all events, from is an inclusive position in either direction and count limits the result", async () => {
        const db = await h.open();
        await db.events.append("a", numbered(3));
        await db.events.append("b", numbered(3, 3));
        await db.events.append("a", numbered(2, 6));
        const all = await db.events.readAll();
        expect(dataOf(all)).toEqual(numbered(8).map((e) => e.data));
        const p = positionsOf(all);
        expect(await db.events.readAll({ from: p[3]! })).toEqual(all.slice(3));
        expect(await db.events.readAll({ from: p[3]!, count: 2 })).toEqual(all.slice(3, 5));
        expect(await db.events.readAll({ count: 3 })).toEqual(all.slice(0, 3));
        expect(await db.events.readAll({ direction: "backward" })).toEqual([...all].reverse());
        expect(await db.events.readAll({ direction: "backward", from: p[4]! })).toEqual(all.slice(0, 5).reverse());
        expect(await db.events.readAll({ direction: "backward", from: p[4]!, count: 2 })).toEqual([all[4], all[3]]);
        expect(await db.events.readAll({ direction: "backward", count: 1 })).toEqual([all[7]]);
        expect(await db.events.readAll({ from: p[7]! + 1 })).toEqual([]);
        expect(await db.events.readAll({ direction: "backward", from: p[7]! + 1000 })).toEqual([...all].reverse());
      });

      it("when readAll's from falls between two positions, forward starts at the next event and backward at the previous one", async () => {
        const db = await h.open();
        await db.events.append("a", numbered(5));
        const all = await db.events.readAll();
        const p = positionsOf(all);
        // Whether positions have gaps is the engine's choice (API.md "Reads"); when
        // they do, a from inside a gap must still give the events >= (forward) or
        // <= (backward) it. With dense positions only the exact-position half applies.
        if (p[3]! - p[2]! >= 2) {
          const between = p[2]! + 1;
          expect(await db.events.readAll({ from: between })).toEqual(all.slice(3));
          expect(await db.events.readAll({ from: between, direction: "backward" })).toEqual(all.slice(0, 3).reverse());
        }
        expect(await db.events.readAll({ from: p[2]! })).toEqual(all.slice(2));
        expect(await db.events.readAll({ from: p[2]!, direction: "backward" })).toEqual(all.slice(0, 3).reverse());
      });

      it("when iterating a stream or all events, the results equal readStream and readAll for the same options, also past 1000 events", async () => {
        const db = await h.open({ durability: "buffered" });
        const big = Array.from({ length: 1200 }, (_, i) => ev(i % 2 === 0 ? "even" : "odd", { i, pad: "x".repeat(i % 40) }));
        await db.events.append("big", big.slice(0, 700));
        await db.events.append("other", numbered(30));
        await db.events.append("big", big.slice(700));
        const streamOptions: (ReadOptions | undefined)[] = [
          undefined, {}, { from: 0 }, { from: 555 }, { count: 1001 }, { from: 100, count: 900 },
          { direction: "backward" }, { direction: "backward", from: 1100 }, { direction: "backward", count: 1050 },
          { from: 1199 }, { from: 5000 },
        ];
        for (const options of streamOptions) {
          const read = await db.events.readStream("big", options);
          const iterated = await collect(db.events.iterateStream("big", options));
          expect(iterated.length).toBe(read.length);
          expect(iterated).toEqual(read);
        }
        expect((await db.events.readStream("big")).length).toBe(1200);
        const all = await db.events.readAll();
        expect(all.length).toBe(1230);
        const mid = all[600]!.position;
        const allOptions: (ReadOptions | undefined)[] = [
          undefined, { from: mid }, { count: 1100 }, { direction: "backward" }, { direction: "backward", from: mid, count: 1000 },
        ];
        for (const options of allOptions) {
          expect(await collect(db.events.iterateAll(options))).toEqual(await db.events.readAll(options));
        }
        expect(await collect(db.events.iterateStream("missing"))).toEqual([]);
      });

      it("when an iteration is stopped early, the next read still works", async () => {
        const db = await h.open({ durability: "buffered" });
        await db.events.append("s", numbered(1500));
        let seen = 0;
        for await (const e of db.events.iterateStream("s")) {
          expect(e.version).toBe(seen);
          seen++;
          if (seen === 10) break;
        }
        expect(seen).toBe(10);
        expect((await db.events.readStream("s")).length).toBe(1500);
        await db.events.append("s", numbered(1));
        expect(db.events.streamVersion("s")).toBe(1500);
      });
    });

    describe("stream queries", () => {
      it("when a stream has events, streamVersion is its last version and streamExists is true; otherwise -1 and false", async () => {
        const db = await h.open();
        expect(db.events.streamVersion("s")).toBe(-1);
        expect(db.events.streamExists("s")).toBe(false);
        await db.events.append("s", numbered(4));
        expect(db.events.streamVersion("s")).toBe(3);
        expect(db.events.streamExists("s")).toBe(true);
        expect(db.events.streamVersion("S")).toBe(-1);
        expect(db.events.streamExists("S")).toBe(false);
      });

      it("when the store is empty hasEvents is false, and after an append it is true, also after reopen", async () => {
        const db = await h.open();
        expect(db.events.hasEvents()).toBe(false);
        await db.events.append("s", numbered(1));
        expect(db.events.hasEvents()).toBe(true);
        const again = await h.reopen(db);
        expect(again.events.hasEvents()).toBe(true);
      });

      it("when streams exist, listStreams returns them sorted by UTF-16 code units", async () => {
        const db = await h.open({ durability: "buffered" });
        const ids = ["b", "a", "B", "aa", "a-1", "ä", "😀", "\uffee", "10", "9", "z"];
        for (const id of ids) await db.events.append(id, numbered(1));
        // "😀" is a surrogate pair (0xD83D...) and sorts before U+FFEE in code units,
        // although its code point is larger: the default JS sort is the reference.
        expect(db.events.listStreams()).toEqual([...ids].sort());
        expect(db.events.listStreams().indexOf("😀")).toBeLessThan(db.events.listStreams().indexOf("\uffee"));
      });

      it("when listing with prefix, after and limit, they filter, page (after is exclusive) and cap the sorted list", async () => {
        const db = await h.open({ durability: "buffered" });
        const ids = ["user-3", "order-2", "user-1", "order-10", "user-2", "order-1", "usher"];
        for (const id of ids) await db.events.append(id, numbered(1));
        expect(db.events.listStreams({ prefix: "user-" })).toEqual(["user-1", "user-2", "user-3"]);
        expect(db.events.listStreams({ prefix: "us" })).toEqual(["user-1", "user-2", "user-3", "usher"]);
        expect(db.events.listStreams({ prefix: "nothing" })).toEqual([]);
        expect(db.events.listStreams({ after: "user-1" })).toEqual(["user-2", "user-3", "usher"]);
        expect(db.events.listStreams({ after: "p" })).toEqual(["user-1", "user-2", "user-3", "usher"]);
        expect(db.events.listStreams({ limit: 2 })).toEqual(["order-1", "order-10"]);
        expect(db.events.listStreams({ prefix: "order-", after: "order-1", limit: 1 })).toEqual(["order-10"]);
        const pages: string[][] = [];
        let after: string | undefined;
        for (;;) {
          const page = db.events.listStreams(after === undefined ? { limit: 3 } : { limit: 3, after });
          if (page.length === 0) break;
          pages.push(page);
          after = page[page.length - 1];
          expect(pages.length).toBeLessThan(10);
        }
        expect(pages.flat()).toEqual([...ids].sort());
        expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
      });
    });

    describe("expected version", () => {
      it("when a stream was never appended, no_stream, -1, any and omitted pass while stream_exists and 0 fail with actual -1", async () => {
        const db = await h.open();
        await db.events.append("a", numbered(1), { expectedVersion: "no_stream" });
        await db.events.append("b", numbered(1), { expectedVersion: -1 });
        await db.events.append("c", numbered(1), { expectedVersion: "any" });
        await db.events.append("d", numbered(1));
        const exists = await rejectsWith(() => db.events.append("e", numbered(1), { expectedVersion: "stream_exists" }), "WRONG_EXPECTED_VERSION");
        expect({ streamId: exists.streamId, expected: exists.expected, actual: exists.actual }).toEqual({ streamId: "e", expected: "stream_exists", actual: -1 });
        const zero = await rejectsWith(() => db.events.append("e", numbered(1), { expectedVersion: 0 }), "WRONG_EXPECTED_VERSION");
        expect({ streamId: zero.streamId, expected: zero.expected, actual: zero.actual }).toEqual({ streamId: "e", expected: 0, actual: -1 });
        expect(db.events.streamExists("e")).toBe(false);
        expect(db.events.listStreams()).toEqual(["a", "b", "c", "d"]);
      });

      it("when a stream is at version 2, only 2, any, omitted and stream_exists pass and failures carry expected and actual", async () => {
        const db = await h.open();
        await db.events.append("s", numbered(3));
        for (const expectedVersion of [1, 3, "no_stream", -1] as const) {
          const err = await rejectsWith(() => db.events.append("s", numbered(1), { expectedVersion }), "WRONG_EXPECTED_VERSION");
          expect({ streamId: err.streamId, expected: err.expected, actual: err.actual }).toEqual({ streamId: "s", expected: expectedVersion, actual: 2 });
        }
        expect(db.events.streamVersion("s")).toBe(2);
        expect((await db.events.append("s", numbered(1), { expectedVersion: 2 })).firstVersion).toBe(3);
        expect((await db.events.append("s", numbered(1), { expectedVersion: "stream_exists" })).firstVersion).toBe(4);
        expect((await db.events.append("s", numbered(1), { expectedVersion: "any" })).firstVersion).toBe(5);
        expect((await db.events.append("s", numbered(1))).firstVersion).toBe(6);
        expect(versionsOf(await db.events.readStream("s"))).toEqual([0, 1, 2, 3, 4, 5, 6]);
      });

      it("when an expected version check fails, nothing is written", async () => {
        const db = await h.open();
        await db.events.append("s", numbered(2));
        const before = await snapshot(db, ["s"]);
        await rejectsWith(() => db.events.append("s", numbered(5), { expectedVersion: 0 }), "WRONG_EXPECTED_VERSION");
        expect(await snapshot(db, ["s"])).toEqual(before);
        const again = await h.reopen(db);
        expect(await snapshot(again, ["s"])).toEqual(before);
      });
    });

    describe("appendMany", () => {
      it("when several streams are appended at once, every item is written and results come in item order", async () => {
        const db = await h.open();
        await db.events.append("b", numbered(2));
        const results = await db.events.appendMany([
          { streamId: "a", events: numbered(2), expectedVersion: "no_stream" },
          { streamId: "b", events: numbered(3, 2), expectedVersion: 1 },
          { streamId: "c", events: numbered(1) },
        ]);
        expect(results.map((r) => r.streamId)).toEqual(["a", "b", "c"]);
        expectResultMatches(results[0]!, "a", await db.events.readStream("a"));
        expectResultMatches(results[1]!, "b", await db.events.readStream("b", { from: 2 }));
        expectResultMatches(results[2]!, "c", await db.events.readStream("c"));
        expect(versionsOf(await db.events.readStream("b"))).toEqual([0, 1, 2, 3, 4]);
        const positions = (await db.events.readAll()).map((e) => e.position);
        expect(new Set(positions).size).toBe(positions.length);
        await expectConsistentViews(db);
      });

      it("when one item's expected version fails, nothing is written and the error names the first failing stream", async () => {
        const db = await h.open();
        await db.events.append("b", numbered(2));
        await db.events.append("c", numbered(1));
        const before = await snapshot(db, ["a", "b", "c"]);
        const err = await rejectsWith(
          () => db.events.appendMany([
            { streamId: "a", events: numbered(1), expectedVersion: "no_stream" },
            { streamId: "b", events: numbered(1), expectedVersion: 5 },
            { streamId: "c", events: numbered(1), expectedVersion: "no_stream" },
          ]),
          "WRONG_EXPECTED_VERSION",
        );
        expect({ streamId: err.streamId, expected: err.expected, actual: err.actual }).toEqual({ streamId: "b", expected: 5, actual: 1 });
        expect(await snapshot(db, ["a", "b", "c"])).toEqual(before);
        const again = await h.reopen(db);
        expect(await snapshot(again, ["a", "b", "c"])).toEqual(before);
      });

      it("when appendMany names one stream twice or gets an empty list, it rejects with INVALID_ARGUMENT and writes nothing", async () => {
        const db = await h.open();
        await rejectsWith(() => db.events.appendMany([]), "INVALID_ARGUMENT");
        await rejectsWith(
          () => db.events.appendMany([
            { streamId: "a", events: numbered(1) },
            { streamId: "b", events: numbered(1) },
            { streamId: "a", events: numbered(1) },
          ]),
          "INVALID_ARGUMENT",
        );
        expect(db.events.hasEvents()).toBe(false);
        expect(db.events.listStreams()).toEqual([]);
        expect((await db.stats()).lastPosition).toBe(-1);
      });
    });

    describe("idempotent appends", () => {
      it("when the same ids are appended again after the same expected version, the original result is returned and nothing is duplicated, also after reopen", async () => {
        const db = await h.open();
        const first = await db.events.append("s", withIds("e1", "e2"), { expectedVersion: "no_stream" });
        const second = await db.events.append("s", withIds("e3"), { expectedVersion: 1 });
        const before = await snapshot(db, ["s"]);
        expect(await db.events.append("s", withIds("e1", "e2"), { expectedVersion: -1 })).toEqual(first);
        expect(await db.events.append("s", withIds("e3"), { expectedVersion: 1 })).toEqual(second);
        expect(await db.events.append("s", withIds("e1", "e2"))).toEqual(first);
        expect(await snapshot(db, ["s"])).toEqual(before);
        const again = await h.reopen(db);
        expect(await again.events.append("s", withIds("e1", "e2"), { expectedVersion: -1 })).toEqual(first);
        expect(await again.events.append("s", withIds("e3"), { expectedVersion: "any" })).toEqual(second);
        expect(await snapshot(again, ["s"])).toEqual(before);
      });

      it("when the ids only partly match what is stored there, the append fails with WRONG_EXPECTED_VERSION and writes nothing", async () => {
        const db = await h.open();
        await db.events.append("s", withIds("e1", "e2"), { expectedVersion: "no_stream" });
        const before = await snapshot(db, ["s"]);
        await rejectsWith(() => db.events.append("s", withIds("e1", "other"), { expectedVersion: -1 }), "WRONG_EXPECTED_VERSION");
        await rejectsWith(() => db.events.append("s", withIds("e1", "other"), { expectedVersion: "any" }), "WRONG_EXPECTED_VERSION");
        await rejectsWith(() => db.events.append("s", withIds("e1", "e2", "e3")), "WRONG_EXPECTED_VERSION");
        expect(await snapshot(db, ["s"])).toEqual(before);
      });
    });

    describe("delete, truncate, retention", () => {
      it("when a stream is soft-deleted, it reads empty and is not listed but keeps its version, and recreating it numbers on", async () => {
        const db = await h.open();
        await db.events.append("s", numbered(3));
        await db.events.append("keep", numbered(1));
        await db.events.deleteStream("s");
        expect(await db.events.readStream("s")).toEqual([]);
        expect(db.events.streamExists("s")).toBe(false);
        expect(db.events.streamVersion("s")).toBe(2);
        expect(db.events.listStreams()).toEqual(["keep"]);
        await expectConsistentViews(db);
        const result = await db.events.append("s", numbered(2, 100), { expectedVersion: "no_stream" });
        expect([result.firstVersion, result.lastVersion]).toEqual([3, 4]);
        expect(dataOf(await db.events.readStream("s"))).toEqual([{ n: 100 }, { n: 101 }]);
        expect(versionsOf(await db.events.readStream("s"))).toEqual([3, 4]);
        await expectConsistentViews(db);
      });

      it("when a stream is hard-deleted, appends, reads, truncates and retention changes fail with STREAM_DELETED, also after reopen", async () => {
        const db = await h.open();
        await db.events.append("s", numbered(3));
        await db.events.append("keep", numbered(1));
        await db.events.deleteStream("s", { hard: true });
        const check = async (store: Database): Promise<void> => {
          expect(store.events.streamExists("s")).toBe(false);
          expect(store.events.listStreams()).toEqual(["keep"]);
          await rejectsWith(() => store.events.append("s", numbered(1)), "STREAM_DELETED");
          await rejectsWith(() => store.events.append("s", numbered(1), { expectedVersion: "no_stream" }), "STREAM_DELETED");
          await rejectsWith(() => store.events.readStream("s"), "STREAM_DELETED");
          await rejectsWith(() => store.events.truncateStream("s", 1), "STREAM_DELETED");
          await rejectsWith(() => store.events.setStreamRetention("s", { maxCount: 1 }), "STREAM_DELETED");
          expect((await store.events.readAll()).map((e) => e.streamId)).toEqual(["keep"]);
          await expectConsistentViews(store);
        };
        await check(db);
        await check(await h.reopen(db));
      });

      it("when a stream never existed, deleteStream, truncateStream and setStreamRetention fail with STREAM_NOT_FOUND", async () => {
        const db = await h.open();
        await db.events.append("other", numbered(1));
        await rejectsWith(() => db.events.deleteStream("ghost"), "STREAM_NOT_FOUND");
        await rejectsWith(() => db.events.deleteStream("ghost", { hard: true }), "STREAM_NOT_FOUND");
        await rejectsWith(() => db.events.truncateStream("ghost", 1), "STREAM_NOT_FOUND");
        await rejectsWith(() => db.events.setStreamRetention("ghost", { maxCount: 1 }), "STREAM_NOT_FOUND");
        expect(db.events.streamVersion("ghost")).toBe(-1);
        expect(db.events.listStreams()).toEqual(["other"]);
      });

      it("when a stream is truncated, versions below beforeVersion are skipped and its version is unchanged", async () => {
        const db = await h.open();
        await db.events.append("s", numbered(6));
        await db.events.truncateStream("s", 3);
        expect(versionsOf(await db.events.readStream("s"))).toEqual([3, 4, 5]);
        expect(versionsOf(await db.events.readStream("s", { direction: "backward" }))).toEqual([5, 4, 3]);
        expect(versionsOf(await db.events.readStream("s", { from: 1, count: 2 }))).toEqual([3, 4]);
        expect(db.events.streamVersion("s")).toBe(5);
        expect(db.events.streamExists("s")).toBe(true);
        await expectConsistentViews(db);
        const again = await h.reopen(db);
        expect(versionsOf(await again.events.readStream("s"))).toEqual([3, 4, 5]);
      });

      it("when retention keeps a maximum count, only the newest events are readable", async () => {
        const db = await h.open();
        await db.events.append("s", numbered(5));
        await db.events.setStreamRetention("s", { maxCount: 2 });
        expect(versionsOf(await db.events.readStream("s"))).toEqual([3, 4]);
        await db.events.append("s", numbered(1, 5));
        expect(versionsOf(await db.events.readStream("s"))).toEqual([4, 5]);
        expect(db.events.streamVersion("s")).toBe(5);
        await expectConsistentViews(db);
      });

      it("when retention has a maximum age, events older than it by the injected clock are not readable", async () => {
        let now = 1000;
        const db = await h.open({ clock: () => now });
        await db.events.append("s", numbered(1, 0));
        now = 2000;
        await db.events.append("s", numbered(1, 1));
        now = 3000;
        await db.events.append("s", numbered(1, 2));
        await db.events.setStreamRetention("s", { maxAgeMs: 1500 });
        expect(versionsOf(await db.events.readStream("s"))).toEqual([1, 2]);
        now = 4200;
        expect(versionsOf(await db.events.readStream("s"))).toEqual([2]);
        await expectConsistentViews(db);
      });
    });

    describe("subscriptions", () => {
      it("when a subscription starts from the beginning, it delivers stored events, then new ones, in position order", async () => {
        const db = await h.open({ durability: "buffered" });
        await db.events.append("a", numbered(3));
        await db.events.append("b", numbered(2, 3));
        const reader = new SubscriptionReader(db.events.subscribe());
        try {
          const caughtUp = await reader.take(5);
          expect(caughtUp).toEqual(await db.events.readAll());
          await db.events.append("b", numbered(2, 5));
          await db.events.append("a", numbered(1, 7));
          const live = await reader.take(3);
          expect(live).toEqual((await db.events.readAll()).slice(5));
          await db.events.append("marker", [ev("marker")]);
          expect((await reader.take(1))[0]!.streamId).toBe("marker");
        } finally {
          reader.close();
        }
      });

      it("when a subscription has a position checkpoint, it delivers only what comes after it", async () => {
        const db = await h.open({ durability: "buffered" });
        await db.events.append("a", numbered(6));
        const all = await db.events.readAll();
        const reader = new SubscriptionReader(db.events.subscribe({ from: all[2]!.position }));
        try {
          expect(await reader.take(3)).toEqual(all.slice(3));
          await db.events.append("a", numbered(1, 6));
          expect(dataOf(await reader.take(1))).toEqual([{ n: 6 }]);
        } finally {
          reader.close();
        }
      });

      it("when a subscription starts from the end, it delivers only events appended after it was made", async () => {
        const db = await h.open({ durability: "buffered" });
        await db.events.append("a", numbered(4));
        const reader = new SubscriptionReader(db.events.subscribe({ from: "end" }));
        try {
          await db.events.append("b", numbered(2, 100));
          expect(dataOf(await reader.take(2))).toEqual([{ n: 100 }, { n: 101 }]);
        } finally {
          reader.close();
        }
      });

      it("when a subscription names a stream with a version checkpoint, it delivers only that stream's later versions", async () => {
        const db = await h.open({ durability: "buffered" });
        await db.events.append("a", numbered(2));
        await db.events.append("b", numbered(2));
        await db.events.append("a", numbered(2, 2));
        const fromOne = new SubscriptionReader(db.events.subscribe({ streamId: "a", from: 1 }));
        const whole = new SubscriptionReader(db.events.subscribe({ streamId: "a" }));
        try {
          expect(versionsOf(await fromOne.take(2))).toEqual([2, 3]);
          expect(versionsOf(await whole.take(4))).toEqual([0, 1, 2, 3]);
          await db.events.append("b", numbered(1));
          await db.events.append("a", numbered(1, 4));
          const [next] = await fromOne.take(1);
          expect([next!.streamId, next!.version, next!.data]).toEqual(["a", 4, { n: 4 }]);
          expect(versionsOf(await whole.take(1))).toEqual([4]);
        } finally {
          fromOne.close();
          whole.close();
        }
      });

      it("when a subscription is closed, its iteration ends", async () => {
        const db = await h.open({ durability: "buffered" });
        await db.events.append("a", numbered(2));
        const reader = new SubscriptionReader(db.events.subscribe());
        try {
          await reader.take(2);
          reader.close();
          await reader.expectEnd();
        } finally {
          reader.close();
        }
      });
    });

    describe("persistence", () => {
      it("when the database is closed and opened again, every stream, version, position and event reads back the same", async () => {
        const db = await h.open();
        await db.events.append("a", [ev("x", { v: 1 }, { id: "id-1", metadata: { m: 1 }, tags: ["t"] }), ev("y", [1, 2])]);
        await db.events.append("b", numbered(3));
        await db.events.appendMany([{ streamId: "a", events: numbered(1) }, { streamId: "c", events: numbered(2) }]);
        const before = await snapshot(db, ["a", "b", "c", "d"]);
        const lastPosition = (await db.stats()).lastPosition;
        const again = await h.reopen(db);
        expect(await snapshot(again, ["a", "b", "c", "d"])).toEqual(before);
        const next = await again.events.append("a", numbered(1), { expectedVersion: 2 });
        expect(next.firstVersion).toBe(3);
        expect(next.firstPosition).toBeGreaterThan(lastPosition);
        await expectConsistentViews(again);
      });

      it("when writes are buffered, close flushes them so a reopen reads them back", async () => {
        const db = await h.open({ durability: "buffered", flushIntervalMs: 60_000 });
        for (let i = 0; i < 20; i++) await db.events.append(`s-${i % 4}`, numbered(2, i * 2));
        const before = await snapshot(db, ["s-0", "s-1", "s-2", "s-3"]);
        const again = await h.reopen(db);
        expect(await snapshot(again, ["s-0", "s-1", "s-2", "s-3"])).toEqual(before);
      });

      it("when soft deletes, hard deletes, truncations and retention are followed by a reopen, the database reads the same", async () => {
        let now = 1000;
        const clock = (): number => now;
        const db = await h.open({ clock });
        for (const s of ["soft", "hard", "trunc", "kept", "aged"]) await db.events.append(s, numbered(4));
        now = 5000;
        await db.events.append("aged", numbered(2, 4));
        await db.events.deleteStream("soft");
        await db.events.deleteStream("hard", { hard: true });
        await db.events.truncateStream("trunc", 2);
        await db.events.setStreamRetention("kept", { maxCount: 1 });
        await db.events.setStreamRetention("aged", { maxAgeMs: 1000 });
        const ids = ["soft", "hard", "trunc", "kept", "aged"];
        const before = await snapshot(db, ["soft", "trunc", "kept", "aged"]);
        const again = await h.reopen(db, { clock });
        expect(await snapshot(again, ["soft", "trunc", "kept", "aged"])).toEqual(before);
        expect(again.events.listStreams()).toEqual(ids.filter((s) => s !== "soft" && s !== "hard").sort());
        expect(versionsOf(await again.events.readStream("aged"))).toEqual([4, 5]);
        expect(again.events.streamVersion("soft")).toBe(3);
        await rejectsWith(() => again.events.readStream("hard"), "STREAM_DELETED");
        await expectConsistentViews(again);
      });
    });

    describe("stats", () => {
      it("when the store is empty, stats count no events and streams and lastPosition is -1", async () => {
        const db = await h.open();
        const stats = await db.stats();
        expect({ events: stats.events, streams: stats.streams, lastPosition: stats.lastPosition }).toEqual({ events: 0, streams: 0, lastPosition: -1 });
      });

      it("when events are deleted, stats count only readable events and streams while lastPosition stays the highest assigned", async () => {
        const db = await h.open();
        await db.events.append("a", numbered(3));
        await db.events.append("b", numbered(2));
        const last = await db.events.append("c", numbered(4));
        expect(await db.stats()).toMatchObject({ events: 9, streams: 3, lastPosition: last.lastPosition });
        await db.events.deleteStream("c");
        expect(await db.stats()).toMatchObject({ events: 5, streams: 2, lastPosition: last.lastPosition });
        await db.events.truncateStream("a", 2);
        expect(await db.stats()).toMatchObject({ events: 3, streams: 2, lastPosition: last.lastPosition });
        await db.events.deleteStream("b", { hard: true });
        expect(await db.stats()).toMatchObject({ events: 1, streams: 1, lastPosition: last.lastPosition });
        const again = await h.reopen(db);
        expect(await again.stats()).toMatchObject({ events: 1, streams: 1, lastPosition: last.lastPosition });
      });
    });
  });
}
