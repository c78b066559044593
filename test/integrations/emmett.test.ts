/**
 * seglog behind Emmett's EventStore interface. Where Emmett's in-memory store
 * is a fair reference, the same calls run against both and must give the same
 * results; where seglog deliberately differs (inclusive `from`, checked
 * STREAM_EXISTS, idempotent messageId), the seglog behaviour is asserted alone.
 * The last test kills a consumer process and checks what its checkpoint kept.
 */
import {
  CommandHandler,
  ConcurrencyError,
  DeciderCommandHandler,
  DeciderSpecification,
  getInMemoryEventStore,
  isExpectedVersionConflictError,
  NO_CONCURRENCY_CHECK,
  STREAM_DOES_NOT_EXIST,
  STREAM_EXISTS,
  WrapEventStore,
  type Event,
  type EventStore,
  type ReadEventMetadataWithGlobalPosition,
} from "@event-driven-io/emmett";
import { open, SeglogError, type Database } from "../../engine/index.js";
import { getSeglogEventStore, readCheckpoint, type SeglogEventStore } from "../../engine/integrations/emmett/index.js";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT, spawnFixture } from "../support/child.js";
import { baseSeed, Rng } from "../support/fuzz.js";
import { makeTempDir, removeTempDir } from "../support/temp-dir.js";
import { until } from "../support/until.js";

type Added = Event<"Added", { amount: number }>;
type Removed = Event<"Removed", { amount: number }>;
type CounterEvent = Added | Removed;
type Counter = { total: number; count: number };
const evolve = (s: Counter, e: CounterEvent): Counter => ({ total: s.total + (e.type === "Added" ? e.data.amount : -e.data.amount), count: s.count + 1 });
const initialState = (): Counter => ({ total: 0, count: 0 });
const added = (amount: number): Added => ({ type: "Added", data: { amount } });

// Compiles only while the adapter is assignable to Emmett's EventStore type.
const asEmmettStore = (s: SeglogEventStore): EventStore<ReadEventMetadataWithGlobalPosition> => s;

let dir: string;
let db: Database;
let seglog: SeglogEventStore;

beforeEach(async () => {
  dir = await makeTempDir("seglog-emmett-");
  db = await open(dir);
  seglog = getSeglogEventStore(db);
});

afterEach(async () => {
  await seglog.close();
  await db.close();
  await removeTempDir(dir);
});

/** Both stores, for behaviour Emmett's in-memory store defines the same way. */
function stores(): [string, EventStore<ReadEventMetadataWithGlobalPosition>][] {
  return [
    ["seglog", asEmmettStore(seglog)],
    ["in-memory", getInMemoryEventStore()],
  ];
}

async function conflictOf(p: Promise<unknown>): Promise<ConcurrencyError> {
  try {
    await p;
  } catch (err) {
    expect(isExpectedVersionConflictError(err)).toBe(true);
    return err as ConcurrencyError;
  }
  throw new Error("expected a version conflict");
}

describe("seglog as an Emmett event store", () => {
  it("when events are appended and read, positions start at 1 and both stores agree on every result", async () => {
    const outcomes = [];
    for (const [, store] of stores()) {
      const first = await store.appendToStream("counter-1", [added(1), added(2)]);
      const second = await store.appendToStream("counter-1", [added(3)], { expectedStreamVersion: 2n });
      const read = await store.readStream<Added>("counter-1");
      const missing = await store.readStream("counter-none");
      outcomes.push({
        first: { next: first.nextExpectedStreamVersion, created: first.createdNewStream },
        second: { next: second.nextExpectedStreamVersion, created: second.createdNewStream },
        current: read.currentStreamVersion,
        exists: read.streamExists,
        events: read.events.map((e) => ({ type: e.type, data: e.data, kind: e.kind, streamName: e.metadata.streamName, streamPosition: e.metadata.streamPosition })),
        missing: { current: missing.currentStreamVersion, exists: missing.streamExists, events: missing.events.length },
      });
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(outcomes[0]!.events.map((e) => e.streamPosition)).toEqual([1n, 2n, 3n]);
    expect(outcomes[0]!.first).toEqual({ next: 2n, created: true });
  });

  it("when events are read, each carries its seglog id as messageId and a global position one past its seglog position", async () => {
    const r = await seglog.appendToStream("a-1", [added(1), added(2)]);
    await seglog.appendToStream("b-1", [added(3)]);
    const read = await seglog.readStream("a-1");
    const stored = await db.events.readStream("a-1");
    expect(read.events.map((e) => e.metadata.messageId)).toEqual(stored.map((e) => e.id));
    expect(read.events.map((e) => e.metadata.globalPosition)).toEqual(stored.map((e) => BigInt(e.position + 1)));
    expect(r.lastEventGlobalPosition).toBe(BigInt(stored[1]!.position + 1));
    expect((await seglog.readStream("b-1")).events[0]!.metadata.globalPosition).toBeGreaterThan(r.lastEventGlobalPosition);
  });

  it("when every expected-version form is used, both stores accept and refuse the same appends, and a conflict reports the real current version", async () => {
    const cases: [string, () => Promise<unknown>][] = [];
    const results: Record<string, string[]> = {};
    for (const [name, store] of stores()) {
      results[name] = [];
      cases.length = 0;
      cases.push(
        ["STREAM_EXISTS on a new stream", () => store.appendToStream("s-1", [added(1)], { expectedStreamVersion: STREAM_EXISTS })],
        ["STREAM_DOES_NOT_EXIST on a new stream", () => store.appendToStream("s-1", [added(1)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST })],
        ["STREAM_DOES_NOT_EXIST on an existing stream", () => store.appendToStream("s-1", [added(1)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST })],
        ["STREAM_EXISTS on an existing stream", () => store.appendToStream("s-1", [added(1)], { expectedStreamVersion: STREAM_EXISTS })],
        ["a stale version", () => store.appendToStream("s-1", [added(1)], { expectedStreamVersion: 1n })],
        ["the current version", () => store.appendToStream("s-1", [added(1)], { expectedStreamVersion: 2n })],
        ["0n on an existing stream", () => store.appendToStream("s-1", [added(1)], { expectedStreamVersion: 0n })],
        ["NO_CONCURRENCY_CHECK", () => store.appendToStream("s-1", [added(1)], { expectedStreamVersion: NO_CONCURRENCY_CHECK })],
        ["0n on a new stream", () => store.appendToStream("s-2", [added(1)], { expectedStreamVersion: 0n })],
      );
      for (const [label, call] of cases) {
        try {
          await call();
          results[name]!.push(`${label}: ok`);
        } catch (err) {
          results[name]!.push(`${label}: ${isExpectedVersionConflictError(err) ? `conflict, current ${(err as ConcurrencyError).current}` : String(err)}`);
        }
      }
    }
    expect(results.seglog).toEqual(results["in-memory"]);
    expect(results.seglog).toEqual([
      "STREAM_EXISTS on a new stream: conflict, current 0",
      "STREAM_DOES_NOT_EXIST on a new stream: ok",
      "STREAM_DOES_NOT_EXIST on an existing stream: conflict, current 1",
      "STREAM_EXISTS on an existing stream: ok",
      "a stale version: conflict, current 2",
      "the current version: ok",
      "0n on an existing stream: conflict, current 3",
      "NO_CONCURRENCY_CHECK: ok",
      "0n on a new stream: ok",
    ]);
    expect(await db.events.streamVersion("s-1")).toBe(3);
  });

  it("when a read names an expected version that does not match, it fails with Emmett's conflict error and the current version", async () => {
    await seglog.appendToStream("r-1", [added(1), added(2)]);
    const err = await conflictOf(seglog.readStream("r-1", { expectedStreamVersion: 5n }));
    expect(err.current).toBe("2");
    await conflictOf(seglog.readStream("r-missing", { expectedStreamVersion: STREAM_EXISTS }));
    expect((await seglog.readStream("r-1", { expectedStreamVersion: 2n })).events).toHaveLength(2);
  });

  it("when from, to and maxCount are given, they are inclusive stream positions and maxCount is the most events returned", async () => {
    await seglog.appendToStream("p-1", [1, 2, 3, 4, 5, 6].map(added));
    const positions = async (o: { from?: bigint; to?: bigint; maxCount?: bigint }): Promise<bigint[]> => (await seglog.readStream("p-1", o)).events.map((e) => e.metadata.streamPosition);
    expect(await positions({ from: 2n, to: 4n })).toEqual([2n, 3n, 4n]);
    expect(await positions({ from: 5n })).toEqual([5n, 6n]);
    expect(await positions({ to: 2n })).toEqual([1n, 2n]);
    expect(await positions({ from: 3n, maxCount: 2n })).toEqual([3n, 4n]);
    expect(await positions({ maxCount: 1n })).toEqual([1n]);
    expect(await positions({ from: 4n, to: 3n })).toEqual([]);
    expect(await positions({ from: 7n })).toEqual([]);
    // Truncated-away versions are skipped; `to` still bounds the read.
    await db.events.truncateStream("p-1", 3);
    expect(await positions({ to: 5n })).toEqual([4n, 5n]);
    expect((await seglog.readStream("p-1")).currentStreamVersion).toBe(6n);
  });

  it("when a position does not fit a safe integer, the call fails with INVALID_ARGUMENT instead of wrapping", async () => {
    const tooBig = 2n ** 53n + 1n;
    for (const call of [
      () => seglog.readStream("big-1", { from: tooBig }),
      () => seglog.appendToStream("big-1", [added(1)], { expectedStreamVersion: tooBig }),
      () => seglog.readStream("big-1", { maxCount: -1n }),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    expect(db.events.streamExists("big-1")).toBe(false);
  });

  it("when a state is aggregated up to a position (time travel), both stores give the same state and version", async () => {
    const outcomes = [];
    for (const [, store] of stores()) {
      await store.appendToStream("t-1", [added(5), { type: "Removed", data: { amount: 2 } } as Removed, added(10)]);
      const past = await store.aggregateStream<Counter, CounterEvent>("t-1", { evolve, initialState, read: { to: 2n } });
      const now = await store.aggregateStream<Counter, CounterEvent>("t-1", { evolve, initialState });
      const none = await store.aggregateStream<Counter, CounterEvent>("t-none", { evolve, initialState });
      outcomes.push({ past: [past.state, past.currentStreamVersion], now: [now.state, now.currentStreamVersion, now.streamExists], none: [none.state, none.currentStreamVersion, none.streamExists] });
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(outcomes[0]!.past).toEqual([{ total: 3, count: 2 }, 2n]);
    expect(outcomes[0]!.now).toEqual([{ total: 13, count: 3 }, 3n, true]);
  });

  it("when streamExists is asked, both stores agree before, after an append, and seglog says false after a soft delete", async () => {
    for (const [, store] of stores()) {
      expect(await store.streamExists("e-1")).toBe(false);
      await store.appendToStream("e-1", [added(1)]);
      expect(await store.streamExists("e-1")).toBe(true);
    }
    await db.events.deleteStream("e-1");
    expect(await seglog.streamExists("e-1")).toBe(false);
    const read = await seglog.readStream("e-1");
    expect([read.streamExists, read.events.length]).toEqual([false, 0]);
  });

  it("when an append carries metadata.messageId, it is the event id, and a retry of the same append is stored once", async () => {
    const events: Added[] = [1, 2].map((n) => ({ ...added(n), metadata: { messageId: `msg-${n}`, user: "u" } }) as unknown as Added);
    const first = await seglog.appendToStream("i-1", events, { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
    const retry = await seglog.appendToStream("i-1", events, { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
    expect(retry).toEqual(first);
    const read = await seglog.readStream("i-1");
    expect(read.events.map((e) => [e.metadata.messageId, (e.metadata as unknown as { user: string }).user])).toEqual([
      ["msg-1", "u"],
      ["msg-2", "u"],
    ]);
    expect(db.events.streamVersion("i-1")).toBe(1);
  });

  it("when bad input is given, the call fails with a SeglogError and nothing is stored", async () => {
    await expect(seglog.appendToStream("", [added(1)])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(seglog.appendToStream("x-1", [])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(seglog.appendToStream("x-1", [{ type: "", data: {} }])).rejects.toBeInstanceOf(SeglogError);
    await expect(seglog.appendToStream("x-1", [added(1)], { expectedStreamVersion: "SOMETIMES" as never })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(db.events.hasEvents()).toBe(false);
  });

  it("when a store is opened from a directory, it opens the database on first use and closes it on close; a database passed in stays open", async () => {
    const other = await makeTempDir("seglog-emmett-own-");
    try {
      const owned = getSeglogEventStore({ dir: other, durability: "sync" });
      await owned.appendToStream("o-1", [added(1)]);
      await owned.close();
      const reopened = await open(other);
      expect(reopened.events.streamVersion("o-1")).toBe(0);
      await reopened.close();
    } finally {
      await removeTempDir(other);
    }
    await seglog.close();
    expect(db.events.streamExists("anything")).toBe(false); // still open: no CLOSED error
  });

  it("when Emmett wraps the store (spreading it), the methods still work", async () => {
    const wrapped = WrapEventStore(seglog as never) as unknown as EventStore<ReadEventMetadataWithGlobalPosition>;
    await wrapped.appendToStream("w-1", [added(1)]);
    expect((await wrapped.readStream("w-1")).events).toHaveLength(1);
  });
});

describe("Emmett command handling on seglog", () => {
  const handle = CommandHandler<Counter, CounterEvent>({ evolve, initialState });

  it("when a command creates and then updates a stream, and a stale expected version conflicts, both stores behave the same", async () => {
    const outcomes = [];
    for (const [, store] of stores()) {
      const created = await handle(store, "cart-1", () => added(2));
      const updated = await handle(store, "cart-1", (s) => added(s.total * 10), { expectedStreamVersion: 1n });
      const stale = await handle(store, "cart-1", () => added(1), { expectedStreamVersion: 1n }).then(
        () => "ok",
        (err: unknown) => (isExpectedVersionConflictError(err) ? "conflict" : String(err)),
      );
      outcomes.push({ created: [created.newState, created.nextExpectedStreamVersion, created.createdNewStream], updated: [updated.newState, updated.nextExpectedStreamVersion], stale });
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(outcomes[0]).toEqual({ created: [{ total: 2, count: 1 }, 1n, true], updated: [{ total: 22, count: 2 }, 2n], stale: "conflict" });
  });

  it("when writers race on one stream with retry on version conflict, every command lands exactly once", async () => {
    const racing = CommandHandler<Counter, CounterEvent>({ evolve, initialState, retry: { onVersionConflict: { retries: 40, minTimeout: 1, maxTimeout: 5, factor: 1 } } as never });
    const writers = 12;
    await Promise.all(Array.from({ length: writers }, (_, i) => racing(seglog, "race-1", () => added(i + 1))));
    const state = await seglog.aggregateStream<Counter, CounterEvent>("race-1", { evolve, initialState });
    expect(state.state).toEqual({ total: (writers * (writers + 1)) / 2, count: writers });
    expect(state.currentStreamVersion).toBe(BigInt(writers));
  });

  it("when a decider is specified given-when-then and run through DeciderCommandHandler on seglog, both give the same events", async () => {
    type Add = { type: "Add"; data: { amount: number } };
    const decider = {
      decide: (command: Add, state: Counter): CounterEvent[] => {
        if (state.total + command.data.amount > 10) throw new Error("over the limit");
        return [added(command.data.amount)];
      },
      evolve,
      initialState,
    };
    const spec = DeciderSpecification.for(decider);
    spec([added(4)]).when({ type: "Add", data: { amount: 5 } }).then([added(5)]);
    spec([added(8)]).when({ type: "Add", data: { amount: 5 } }).thenThrows((e: Error) => e.message === "over the limit");
    const run = DeciderCommandHandler(decider);
    await run(seglog, "d-1", { type: "Add", data: { amount: 4 } });
    await run(seglog, "d-1", { type: "Add", data: { amount: 5 } });
    await expect(run(seglog, "d-1", { type: "Add", data: { amount: 5 } })).rejects.toThrow("over the limit");
    expect((await seglog.readStream<Added>("d-1")).events.map((e) => e.data.amount)).toEqual([4, 5]);
  });
});

describe("Emmett processors on seglog subscriptions", () => {
  it("when a consumer starts after events exist, its reactor gets them in order, then live ones, and its checkpoint is stored in seglog", async () => {
    await seglog.appendToStream("c-1", [added(1), added(2)]);
    await seglog.appendToStream("c-2", [added(3)]);
    const seen: string[] = [];
    const consumer = seglog.consumer();
    consumer.reactor<Added>({ processorId: "sum", eachMessage: async (m) => void seen.push(`${m.metadata.streamName}:${m.data.amount}`) });
    const running = consumer.start();
    await until(() => seen.length === 3);
    await seglog.appendToStream("c-1", [added(4)]);
    await until(() => seen.length === 4);
    expect(seen).toEqual(["c-1:1", "c-1:2", "c-2:3", "c-1:4"]);
    await until(async () => (await readCheckpoint(db, "sum")) === 4n);
    await consumer.stop();
    await running;
    expect(consumer.isRunning).toBe(false);
  });

  it("when a consumer restarts, it resumes after its stored checkpoint: nothing handled twice, nothing skipped", async () => {
    await seglog.appendToStream("k-1", [1, 2, 3].map(added));
    const seen: number[] = [];
    const first = seglog.consumer();
    first.reactor<Added>({ processorId: "resume", eachMessage: async (m) => void seen.push(m.data.amount) });
    const running = first.start();
    await until(async () => (await readCheckpoint(db, "resume")) === 3n);
    await first.close();
    await running;
    await seglog.appendToStream("k-1", [4, 5].map(added));
    const second = seglog.consumer();
    second.reactor<Added>({ processorId: "resume", eachMessage: async (m) => void seen.push(m.data.amount) });
    const again = second.start();
    await until(() => seen.length >= 5);
    await second.close();
    await again;
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it("when a handler throws, start() rejects with its error and the checkpoint stays before the failed message", async () => {
    await seglog.appendToStream("f-1", [1, 2, 3].map(added));
    const consumer = seglog.consumer();
    consumer.reactor<Added>({
      processorId: "failing",
      eachMessage: async (m) => {
        if (m.data.amount === 2) throw new Error("handler failed on 2");
      },
    });
    await expect(consumer.start()).rejects.toThrow("handler failed on 2");
    expect(await readCheckpoint(db, "failing")).toBe(1n);
  });

  it("when a projector with stopAfter reaches its condition, the consumer ends on its own", async () => {
    await seglog.appendToStream("g-1", [1, 2, 3].map(added));
    let total = 0;
    const consumer = seglog.consumer();
    consumer.projector<Added>({
      projection: { name: "totals", canHandle: ["Added"], handle: async (events) => void (total += events.reduce((n, e) => n + e.data.amount, 0)) },
      stopAfter: (m) => m.metadata.streamPosition === 2n,
    });
    await consumer.start();
    expect(total).toBe(3);
  });
});


describe("an Emmett processor on seglog killed with SIGKILL", () => {
  it("when the consumer process is killed at random moments and restarted, every message is handled, in order, and only the one in flight at a kill again", async () => {
    const total = 2000;
    for (let i = 0; i < total; i += 50) {
      await seglog.appendToStream(`k-${i % 7}`, Array.from({ length: 50 }, (_, n) => added(i + n)));
    }
    await seglog.close();
    await db.close();
    const logFile = path.join(dir, "handled.log");
    const rng = new Rng(baseSeed() ^ 0x5eed);
    let kills = 0;
    for (let round = 0; ; round++) {
      const child = spawnFixture(path.join(REPO_ROOT, "test", "fixtures", "emmett-consumer.mjs"), [dir, logFile, String(total)]);
      await child.waitForLine((l) => l === "started", 20_000);
      if (round < 5) {
        await new Promise((r) => setTimeout(r, rng.range(20, 250)));
        const { signal } = await child.kill();
        if (signal === "SIGKILL") kills++;
        continue;
      }
      await child.waitForLine((l) => l === "done", 60_000);
      await child.exited;
      break;
    }
    const runs = readFileSync(logFile, "utf8").trim().split("start\n").filter((r) => r !== "").map((r) => r.trim().split("\n").filter((l) => l !== "").map(BigInt));
    let last = 0n;
    let repeats = 0;
    for (const run of runs) {
      for (const p of run) {
        // A restart may hand back the message that was in flight at the kill, never an older one, and never skip one.
        if (p === last) repeats++;
        else expect(p).toBe(last + 1n);
        last = p;
      }
    }
    expect(last).toBe(BigInt(total));
    expect(repeats).toBeLessThanOrEqual(kills);
    db = await open(dir);
    seglog = getSeglogEventStore(db);
    expect(await readCheckpoint(db, "crash-reactor")).toBe(BigInt(total));
  });
});

describe("the Emmett example service", () => {
  it("when `npm run example:emmett` runs twice on one directory, each run confirms a cart, the projector's read model shows it, and the second run sees both carts", async () => {
    await seglog.close();
    await db.close();
    const exampleDir = path.join(dir, "example");
    for (const run of [1, 2]) {
      const child = spawnFixture(path.join(REPO_ROOT, "dist", "examples", "emmett-cart.js"), [exampleDir]);
      const result = await child.exited;
      expect(result.code).toBe(0);
      expect(child.lines[0]).toMatch(/^cart c\w+: Confirmed, items {"shoes":2,"socks":2}, stream version 4$/);
      expect(child.lines[1]).toMatch(/refused as the decider says: cart c\w+ is confirmed/);
      expect(child.lines[2]).toMatch(/read model cart-summary\/c\w+: {"items":4,"total":115,"status":"Confirmed"}/);
      expect(child.lines[3]).toBe(`carts projected in ${exampleDir} so far: ${run}`);
    }
    db = await open(dir);
    seglog = getSeglogEventStore(db);
  });
});
