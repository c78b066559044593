/**
 * The shared behaviour suite for `db.contexts` (docs/api.md, "Contexts and
 * deltas" and "Semantics in detail: Contexts"). Any way of opening a database
 * runs it through `contextStoreContract(name, factory)`.
 *
 * Every test injects a clock it controls, so insertedAt values are known and
 * the strict time filters can be checked at their edges.
 */
import type { Database, DeltaRecord } from "../../engine/index.js";
import type { EngineOptions as OpenOptions } from "../../engine/options.js";
import { rejectsWith, useDatabases, type DatabaseFactory } from "./event-store.contract.js";
import { checkAcrossReopen, diskBytes } from "./reopen.js";

/** A clock the test moves by hand. */
export function manualClock(start = 1000): { now: number; options: OpenOptions } {
  const clock = { now: start, options: {} as OpenOptions };
  clock.options = { clock: () => clock.now };
  return clock;
}

const versionsOf = (deltas: DeltaRecord[]): number[] => deltas.map((d) => d.version);

export function contextStoreContract(name: string, factory: DatabaseFactory): void {
  describe(`context store contract (${name})`, () => {
    const h = useDatabases(factory);

    describe("contexts", () => {
      it("when a context is set, the record carries insertedAt from the clock and getContext returns it", async () => {
        const t = manualClock(5000);
        const db = await h.open(t.options);
        const context = { user: "ann", cart: [{ sku: "a", qty: 2 }], at: new Date(7) };
        const record = await db.contexts.setContext("session-1", context, 3);
        expect(record).toEqual({ contextId: "session-1", context, version: 3, insertedAt: 5000 });
        expect(await db.contexts.getContext("session-1")).toEqual(record);
      });

      it("when a context is set again, the new one replaces it, whatever its version", async () => {
        const t = manualClock();
        const db = await h.open(t.options);
        await db.contexts.setContext("c", { v: "first" }, 5);
        t.now = 2000;
        await db.contexts.setContext("c", { v: "second" }, 2);
        expect(await db.contexts.getContext("c")).toEqual({ contextId: "c", context: { v: "second" }, version: 2, insertedAt: 2000 });
        expect((await db.contexts.listContexts()).length).toBe(1);
      });

      it("when a context was never set or was deleted, getContext rejects with NOT_FOUND", async () => {
        const db = await h.open();
        await rejectsWith(() => db.contexts.getContext("nobody"), "NOT_FOUND");
        await db.contexts.setContext("c", { a: 1 }, 0);
        await db.contexts.deleteContext("c");
        await rejectsWith(() => db.contexts.getContext("c"), "NOT_FOUND");
      });

      it("when a context is deleted, its deltas stay; deleting a missing context resolves and writes nothing", async () => {
        const db = await h.open();
        await db.contexts.setContext("c", { a: 1 }, 1);
        await db.contexts.setDelta("c", { d: 2 }, 2);
        await db.contexts.deleteContext("c");
        expect(versionsOf(await db.contexts.getDeltas("c", 0))).toEqual([2]);
        expect(await db.contexts.listContexts()).toEqual([]);
        const before = await diskBytes(db);
        await expect(db.contexts.deleteContext("c")).resolves.toBeUndefined();
        await expect(db.contexts.deleteContext("never")).resolves.toBeUndefined();
        expect(await diskBytes(db)).toBe(before);
      });

      it("when a returned context is changed by the caller, the stored one is not", async () => {
        const db = await h.open();
        await db.contexts.setContext("c", { list: [1] }, 1);
        const got = await db.contexts.getContext("c");
        (got.context.list as number[]).push(2);
        expect((await db.contexts.getContext("c")).context).toEqual({ list: [1] });
      });
    });

    describe("deltas", () => {
      it("when deltas are set, getDeltas returns the versions above the client's, ascending, with insertedAt from the clock", async () => {
        const t = manualClock(100);
        const db = await h.open(t.options);
        for (const v of [3, 1, 5, 2, 4]) {
          t.now = 100 + v;
          const record = await db.contexts.setDelta("c", { v }, v);
          expect(record).toEqual({ contextId: "c", delta: { v }, version: v, insertedAt: 100 + v });
        }
        const above2 = await db.contexts.getDeltas("c", 2);
        expect(above2).toEqual([3, 4, 5].map((v) => ({ contextId: "c", delta: { v }, version: v, insertedAt: 100 + v })));
        expect(versionsOf(await db.contexts.getDeltas("c", 0))).toEqual([1, 2, 3, 4, 5]);
        expect(versionsOf(await db.contexts.getDeltas("c", -1))).toEqual([1, 2, 3, 4, 5]);
        expect(await db.contexts.getDeltas("c", 5)).toEqual([]);
        expect(await db.contexts.getDeltas("c", 99)).toEqual([]);
        expect(await db.contexts.getDeltas("unknown", 0)).toEqual([]);
      });

      it("when a delta is set for a context that does not exist, it is stored all the same", async () => {
        const db = await h.open();
        await db.contexts.setDelta("orphan", { x: 1 }, 0);
        expect(versionsOf(await db.contexts.getDeltas("orphan", -1))).toEqual([0]);
        await rejectsWith(() => db.contexts.getContext("orphan"), "NOT_FOUND");
      });

      it("when a second delta has the same version, it replaces the first", async () => {
        const t = manualClock(10);
        const db = await h.open(t.options);
        await db.contexts.setDelta("c", { n: "old" }, 1);
        t.now = 20;
        await db.contexts.setDelta("c", { n: "new" }, 1);
        expect(await db.contexts.getDeltas("c", 0)).toEqual([{ contextId: "c", delta: { n: "new" }, version: 1, insertedAt: 20 }]);
        expect((await db.contexts.listDeltas()).length).toBe(1);
      });

      it("when deltas are deleted by time, exactly those inserted before the given time go", async () => {
        const t = manualClock();
        const db = await h.open(t.options);
        for (let v = 1; v <= 4; v++) {
          t.now = v * 10;
          await db.contexts.setDelta("c", { v }, v);
          await db.contexts.setDelta("other", { v }, v);
        }
        await db.contexts.deleteDeltasByTime("c", 30);
        expect(versionsOf(await db.contexts.getDeltas("c", 0))).toEqual([3, 4]);
        expect(versionsOf(await db.contexts.getDeltas("other", 0))).toEqual([1, 2, 3, 4]);
        const before = await diskBytes(db);
        await db.contexts.deleteDeltasByTime("c", 30);
        await db.contexts.deleteDeltasByTime("missing", 1e15);
        expect(await diskBytes(db)).toBe(before);
      });

      it("when deltas exceed a threshold, the highest `keep` versions stay, whatever order they were set in", async () => {
        const db = await h.open();
        for (const v of [7, 2, 9, 4, 1, 8]) await db.contexts.setDelta("c", { v }, v);
        await db.contexts.setDelta("other", { v: 1 }, 1);
        await db.contexts.deleteDeltasExceedingThreshold("c", 3);
        expect(versionsOf(await db.contexts.getDeltas("c", -1))).toEqual([7, 8, 9]);
        await db.contexts.deleteDeltasExceedingThreshold("c", 3);
        await db.contexts.deleteDeltasExceedingThreshold("c", 10);
        expect(versionsOf(await db.contexts.getDeltas("c", -1))).toEqual([7, 8, 9]);
        await db.contexts.deleteDeltasExceedingThreshold("c", 1);
        expect(versionsOf(await db.contexts.getDeltas("c", -1))).toEqual([9]);
        await db.contexts.deleteDeltasExceedingThreshold("c", 0);
        expect(await db.contexts.getDeltas("c", -1)).toEqual([]);
        expect(versionsOf(await db.contexts.getDeltas("other", -1))).toEqual([1]);
      });

      it("when a lower version is set after a threshold delete, it stays", async () => {
        const db = await h.open();
        for (let v = 1; v <= 5; v++) await db.contexts.setDelta("c", { v }, v);
        await db.contexts.deleteDeltasExceedingThreshold("c", 2);
        await db.contexts.setDelta("c", { v: 1 }, 1);
        expect(versionsOf(await db.contexts.getDeltas("c", -1))).toEqual([1, 4, 5]);
      });

      it("when deltas are set and a threshold delete is called without waiting, the delete counts the deltas called before it", async () => {
        const db = await h.open();
        const calls: Promise<unknown>[] = [];
        for (let v = 1; v <= 6; v++) calls.push(db.contexts.setDelta("c", { v }, v));
        calls.push(db.contexts.deleteDeltasExceedingThreshold("c", 2));
        calls.push(db.contexts.setDelta("c", { v: 0 }, 0));
        await Promise.all(calls);
        expect(versionsOf(await db.contexts.getDeltas("c", -1))).toEqual([0, 5, 6]);
      });

      it("when all deltas of a context are deleted, the context and other contexts' deltas stay", async () => {
        const db = await h.open();
        await db.contexts.setContext("c", { a: 1 }, 1);
        for (let v = 1; v <= 3; v++) {
          await db.contexts.setDelta("c", { v }, v);
          await db.contexts.setDelta("d", { v }, v);
        }
        await db.contexts.deleteDeltasForContext("c");
        expect(await db.contexts.getDeltas("c", -1)).toEqual([]);
        expect(versionsOf(await db.contexts.getDeltas("d", -1))).toEqual([1, 2, 3]);
        expect((await db.contexts.getContext("c")).context).toEqual({ a: 1 });
        const before = await diskBytes(db);
        await db.contexts.deleteDeltasForContext("c");
        await db.contexts.deleteDeltasForContext("none");
        expect(await diskBytes(db)).toBe(before);
      });
    });

    describe("lists", () => {
      /** Contexts b, a, d, c (set in that order at 10, 20, 30, 40) with versions 1..4 and 0..3 deltas each. */
      async function seed(): Promise<Database> {
        const t = manualClock();
        const db = await h.open(t.options);
        const ids = ["b", "a", "d", "c"];
        for (let i = 0; i < ids.length; i++) {
          t.now = (i + 1) * 10;
          await db.contexts.setContext(ids[i]!, { name: ids[i] }, i + 1);
          for (let v = 1; v <= i; v++) {
            t.now = (i + 1) * 10 + v;
            await db.contexts.setDelta(ids[i]!, { of: ids[i], v }, v);
          }
        }
        return db;
      }

      it("when contexts are listed, they come ordered by contextId with every field", async () => {
        const db = await seed();
        const all = await db.contexts.listContexts();
        expect(all.map((c) => c.contextId)).toEqual(["a", "b", "c", "d"]);
        expect(all[0]).toEqual({ contextId: "a", context: { name: "a" }, version: 2, insertedAt: 20 });
        expect(await db.contexts.listContexts({})).toEqual(all);
      });

      it("when contexts are listed with filters, contextId and version match exactly and the time bounds are strict", async () => {
        const db = await seed();
        const ids = async (o: object): Promise<string[]> => (await db.contexts.listContexts(o)).map((c) => c.contextId);
        expect(await ids({ contextId: "c" })).toEqual(["c"]);
        expect(await ids({ contextId: "zz" })).toEqual([]);
        expect(await ids({ version: 3 })).toEqual(["d"]);
        expect(await ids({ version: 99 })).toEqual([]);
        expect(await ids({ insertedAfter: 20 })).toEqual(["c", "d"]);
        expect(await ids({ insertedBefore: 20 })).toEqual(["b"]);
        expect(await ids({ insertedAfter: 10, insertedBefore: 40 })).toEqual(["a", "d"]);
        expect(await ids({ insertedAfter: 10, insertedBefore: 40, version: 2 })).toEqual(["a"]);
        expect(await ids({ contextId: "b", insertedAfter: 10 })).toEqual([]);
      });

      it("when contexts are listed with limit and offset, offset skips matches and limit caps the page", async () => {
        const db = await seed();
        const ids = async (o: object): Promise<string[]> => (await db.contexts.listContexts(o)).map((c) => c.contextId);
        expect(await ids({ limit: 2 })).toEqual(["a", "b"]);
        expect(await ids({ offset: 1, limit: 2 })).toEqual(["b", "c"]);
        expect(await ids({ offset: 3 })).toEqual(["d"]);
        expect(await ids({ offset: 4 })).toEqual([]);
        expect(await ids({ limit: 0 })).toEqual([]);
        expect(await ids({ insertedAfter: 10, offset: 1, limit: 1 })).toEqual(["c"]);
      });

      it("when contexts are listed with delta counts, each carries the number of its deltas and the same filters apply", async () => {
        const db = await seed();
        await db.contexts.setDelta("no-context", { x: 1 }, 1);
        const all = await db.contexts.listContextsWithDeltaCounts();
        expect(all.map((c) => [c.contextId, c.deltaCount])).toEqual([["a", 1], ["b", 0], ["c", 3], ["d", 2]]);
        expect(all[2]).toEqual({ contextId: "c", context: { name: "c" }, version: 4, insertedAt: 40, deltaCount: 3 });
        const page = await db.contexts.listContextsWithDeltaCounts({ insertedAfter: 10, offset: 1, limit: 2 });
        expect(page.map((c) => [c.contextId, c.deltaCount])).toEqual([["c", 3], ["d", 2]]);
      });

      it("when deltas are listed, they come by contextId then version, and every filter, limit and offset applies", async () => {
        const db = await seed();
        const pairs = async (o?: object): Promise<[string, number][]> => (await db.contexts.listDeltas(o)).map((d) => [d.contextId, d.version]);
        expect(await pairs()).toEqual([["a", 1], ["c", 1], ["c", 2], ["c", 3], ["d", 1], ["d", 2]]);
        expect((await db.contexts.listDeltas())[1]).toEqual({ contextId: "c", delta: { of: "c", v: 1 }, version: 1, insertedAt: 41 });
        expect(await pairs({ contextId: "c" })).toEqual([["c", 1], ["c", 2], ["c", 3]]);
        expect(await pairs({ version: 2 })).toEqual([["c", 2], ["d", 2]]);
        expect(await pairs({ insertedAfter: 41 })).toEqual([["c", 2], ["c", 3]]);
        expect(await pairs({ insertedBefore: 31 })).toEqual([["a", 1]]);
        expect(await pairs({ insertedAfter: 21, insertedBefore: 43 })).toEqual([["c", 1], ["c", 2], ["d", 1], ["d", 2]]);
        expect(await pairs({ offset: 2, limit: 3 })).toEqual([["c", 2], ["c", 3], ["d", 1]]);
        expect(await pairs({ contextId: "c", offset: 1, limit: 1 })).toEqual([["c", 2]]);
        expect(await pairs({ contextId: "missing" })).toEqual([]);
      });
    });

    describe("bad input", () => {
      it("when a contextId is not a non-empty string, every method rejects with INVALID_ARGUMENT naming contextId and writes nothing", async () => {
        const db = await h.open();
        const before = await diskBytes(db);
        for (const bad of ["", 3, null, undefined, ["c"]]) {
          const id = bad as string;
          expect((await rejectsWith(() => db.contexts.setContext(id, { a: 1 }, 1), "INVALID_ARGUMENT")).message).toContain("contextId");
          await rejectsWith(() => db.contexts.getContext(id), "INVALID_ARGUMENT");
          await rejectsWith(() => db.contexts.setDelta(id, { a: 1 }, 1), "INVALID_ARGUMENT");
          await rejectsWith(() => db.contexts.getDeltas(id, 0), "INVALID_ARGUMENT");
          await rejectsWith(() => db.contexts.deleteContext(id), "INVALID_ARGUMENT");
          await rejectsWith(() => db.contexts.deleteDeltasByTime(id, 1), "INVALID_ARGUMENT");
          await rejectsWith(() => db.contexts.deleteDeltasExceedingThreshold(id, 1), "INVALID_ARGUMENT");
          await rejectsWith(() => db.contexts.deleteDeltasForContext(id), "INVALID_ARGUMENT");
        }
        expect(await diskBytes(db)).toBe(before);
      });

      it("when a context or delta is not a plain object msgpack can encode, it rejects with INVALID_ARGUMENT naming it", async () => {
        const db = await h.open();
        for (const bad of [null, "ctx", 1, [1], new Map(), { f: () => 0 }]) {
          expect((await rejectsWith(() => db.contexts.setContext("c", bad as never, 1), "INVALID_ARGUMENT")).message).toContain("context");
          expect((await rejectsWith(() => db.contexts.setDelta("c", bad as never, 1), "INVALID_ARGUMENT")).message).toContain("delta");
        }
        expect(await db.contexts.listContexts()).toEqual([]);
        expect(await db.contexts.listDeltas()).toEqual([]);
      });

      it("when a version is not an integer >= 0, setContext and setDelta reject with INVALID_ARGUMENT naming version", async () => {
        const db = await h.open();
        for (const bad of [-1, 1.5, NaN, Infinity, "1", null, undefined]) {
          expect((await rejectsWith(() => db.contexts.setContext("c", {}, bad as number), "INVALID_ARGUMENT")).message).toContain("version");
          expect((await rejectsWith(() => db.contexts.setDelta("c", {}, bad as number), "INVALID_ARGUMENT")).message).toContain("version");
        }
        for (const bad of [1.5, NaN, "0", null, -2]) {
          expect((await rejectsWith(() => db.contexts.getDeltas("c", bad as number), "INVALID_ARGUMENT")).message).toContain("clientVersion");
        }
      });

      it("when a delete's time or keep is bad, it rejects with INVALID_ARGUMENT naming it", async () => {
        const db = await h.open();
        await db.contexts.setDelta("c", {}, 1);
        for (const bad of [NaN, "10", null, undefined]) {
          expect((await rejectsWith(() => db.contexts.deleteDeltasByTime("c", bad as number), "INVALID_ARGUMENT")).message).toContain("olderThan");
        }
        for (const bad of [-1, 1.5, "2", null, undefined]) {
          expect((await rejectsWith(() => db.contexts.deleteDeltasExceedingThreshold("c", bad as number), "INVALID_ARGUMENT")).message).toContain("keep");
        }
        expect(versionsOf(await db.contexts.getDeltas("c", -1))).toEqual([1]);
      });

      it("when list options are malformed, the lists reject with INVALID_ARGUMENT naming the option", async () => {
        const db = await h.open();
        const cases: [unknown, string][] = [
          ["opts", "options"],
          [{ contextId: 5 }, "options.contextId"],
          [{ contextId: "" }, "options.contextId"],
          [{ version: "1" }, "options.version"],
          [{ version: 1.5 }, "options.version"],
          [{ insertedAfter: "x" }, "options.insertedAfter"],
          [{ insertedBefore: NaN }, "options.insertedBefore"],
          [{ limit: -1 }, "options.limit"],
          [{ limit: 2.5 }, "options.limit"],
          [{ offset: -3 }, "options.offset"],
          [{ offset: "1" }, "options.offset"],
        ];
        for (const [options, named] of cases) {
          expect((await rejectsWith(() => db.contexts.listContexts(options as never), "INVALID_ARGUMENT")).message).toContain(named);
          await rejectsWith(() => db.contexts.listContextsWithDeltaCounts(options as never), "INVALID_ARGUMENT");
          await rejectsWith(() => db.contexts.listDeltas(options as never), "INVALID_ARGUMENT");
        }
      });

      it("when a context or delta would make a record over maxRecordBytes, it rejects with TOO_LARGE and writes nothing", async () => {
        const db = await h.open({ maxRecordBytes: 4096, segmentBytes: 64 * 1024 });
        await db.contexts.setContext("c", { s: "x".repeat(3000) }, 1);
        const before = await diskBytes(db);
        await rejectsWith(() => db.contexts.setContext("c", { s: "x".repeat(5000) }, 2), "TOO_LARGE");
        await rejectsWith(() => db.contexts.setDelta("c", { s: "x".repeat(5000) }, 2), "TOO_LARGE");
        expect(await diskBytes(db)).toBe(before);
        expect((await db.contexts.getContext("c")).version).toBe(1);
      });

      it("when the database is closed or read-only, writes are refused with CLOSED or READ_ONLY", async () => {
        const db = await h.open();
        await db.contexts.setContext("c", { a: 1 }, 1);
        await db.close();
        await rejectsWith(() => db.contexts.setDelta("c", {}, 1), "CLOSED");
        await rejectsWith(() => db.contexts.listContexts(), "CLOSED");
        const ro = await h.open({ readOnly: true });
        expect((await ro.contexts.getContext("c")).context).toEqual({ a: 1 });
        await rejectsWith(() => ro.contexts.setContext("c", {}, 2), "READ_ONLY");
        await rejectsWith(() => ro.contexts.deleteContext("c"), "READ_ONLY");
        await rejectsWith(() => ro.contexts.deleteDeltasForContext("c"), "READ_ONLY");
      });
    });

    describe("persistence and compaction", () => {
      async function fill(db: Database, t: { now: number }): Promise<void> {
        for (let i = 0; i < 6; i++) {
          t.now = 1000 + i;
          await db.contexts.setContext(`ctx-${i}`, { i, pad: "p".repeat(150) }, i);
          for (let v = 0; v < 6; v++) {
            t.now = 2000 + i * 10 + v;
            await db.contexts.setDelta(`ctx-${i}`, { v, pad: "d".repeat(100) }, v);
          }
        }
        await db.contexts.setContext("ctx-0", { i: 0, replaced: true }, 9);
        await db.contexts.deleteContext("ctx-1");
        await db.contexts.setDelta("ctx-2", { v: 5, replaced: true }, 5);
        await db.contexts.deleteDeltasExceedingThreshold("ctx-3", 2);
        await db.contexts.deleteDeltasByTime("ctx-4", 2043);
        await db.contexts.deleteDeltasForContext("ctx-5");
      }

      async function expectContent(db: Database): Promise<void> {
        const contexts = await db.contexts.listContextsWithDeltaCounts();
        expect(contexts.map((c) => [c.contextId, c.version, c.deltaCount])).toEqual([
          ["ctx-0", 9, 6], ["ctx-2", 2, 6], ["ctx-3", 3, 2], ["ctx-4", 4, 3], ["ctx-5", 5, 0],
        ]);
        expect(contexts[0]!.context).toEqual({ i: 0, replaced: true });
        expect(versionsOf(await db.contexts.getDeltas("ctx-1", -1))).toEqual([0, 1, 2, 3, 4, 5]);
        expect(versionsOf(await db.contexts.getDeltas("ctx-3", -1))).toEqual([4, 5]);
        expect(versionsOf(await db.contexts.getDeltas("ctx-4", -1))).toEqual([3, 4, 5]);
        expect((await db.contexts.getDeltas("ctx-2", 4))[0]!.delta).toEqual({ v: 5, replaced: true });
        expect((await db.contexts.getDeltas("ctx-4", 4))[0]).toEqual({ contextId: "ctx-4", delta: { v: 5, pad: "d".repeat(100) }, version: 5, insertedAt: 2045 });
        expect((await db.contexts.listDeltas()).length).toBe(6 + 6 + 6 + 2 + 3);
      }

      it("when the database is reopened, from the checkpoint or by a full replay, contexts and deltas are as they were", async () => {
        const t = manualClock();
        const db = await h.open(t.options);
        await fill(db, t);
        const last = await checkAcrossReopen(h, db, expectContent, t.options);
        expect((await last.verify()).ok).toBe(true);
      });

      it("when replaced and deleted contexts and deltas are compacted away, their bytes are reclaimed and the rest reads back the same", async () => {
        const t = manualClock();
        const db = await h.open(t.options);
        await fill(db, t);
        const garbage = (await db.stats()).garbageBytes;
        expect(garbage).toBeGreaterThan(12 * 100);
        const before = await diskBytes(db);
        await db.compact();
        await db.compact();
        expect((await db.stats()).garbageBytes).toBe(0);
        expect(before - (await diskBytes(db))).toBeGreaterThan(12 * 100);
        const last = await checkAcrossReopen(h, db, expectContent, t.options);
        expect((await last.verify()).ok).toBe(true);
      });
    });
  });
}
