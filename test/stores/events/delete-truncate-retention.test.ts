/**
 * Hiding events (API.md "Delete, truncate, retention"): soft and hard deletes,
 * truncation and per-stream retention by count and by age (injected clock). Every
 * view — readStream, iterateStream, readAll, listStreams, stats — must agree,
 * before and after a reopen.
 */
import { open } from "../../../engine/index.js";
import {
  collect,
  dataOf,
  expectConsistentViews,
  iterationFailsWith,
  numbered,
  rejectsWith,
  snapshot,
  useDatabases,
  versionsOf,
} from "../../contract/event-store.contract.js";

const h = useDatabases({ open });

describe("soft delete", () => {
  it("when a soft-deleted stream is read in any way, it reads as empty", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(5));
    await db.events.deleteStream("s");
    expect(await db.events.readStream("s", { direction: "backward" })).toEqual([]);
    expect(await db.events.readStream("s", { from: 2, count: 2 })).toEqual([]);
    expect(await collect(db.events.iterateStream("s"))).toEqual([]);
    expect(await db.events.readAll()).toEqual([]);
    expect(db.events.listStreams({ prefix: "s" })).toEqual([]);
  });

  it("when a soft-deleted stream is appended to again, versions continue from the old last version and the old events never reappear, also after reopen", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(3));
    await db.events.append("other", numbered(1, 50));
    await db.events.deleteStream("s");
    await db.events.append("s", numbered(2, 100), { expectedVersion: 2 });
    const check = async (store: typeof db): Promise<void> => {
      expect(versionsOf(await store.events.readStream("s"))).toEqual([3, 4]);
      expect(dataOf(await store.events.readStream("s", { direction: "backward" }))).toEqual([{ n: 101 }, { n: 100 }]);
      expect(await store.events.readStream("s", { from: 0, count: 10 })).toEqual(await store.events.readStream("s"));
      expect(dataOf(await store.events.readAll())).toEqual([{ n: 50 }, { n: 100 }, { n: 101 }]);
      expect(store.events.listStreams()).toEqual(["other", "s"]);
      expect(store.events.streamVersion("s")).toBe(4);
      await expectConsistentViews(store);
    };
    await check(db);
    await check(await h.reopen(db));
  });

  it("when a stream is soft-deleted twice with appends in between, each deletion hides only what came before it", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(2));
    await db.events.deleteStream("s");
    await db.events.append("s", numbered(2, 10));
    await db.events.deleteStream("s");
    expect(await db.events.readStream("s")).toEqual([]);
    expect(db.events.streamVersion("s")).toBe(3);
    await db.events.append("s", numbered(1, 20), { expectedVersion: "no_stream" });
    expect(dataOf(await db.events.readStream("s"))).toEqual([{ n: 20 }]);
    expect(versionsOf(await db.events.readStream("s"))).toEqual([4]);
    const again = await h.reopen(db);
    expect(dataOf(await again.events.readAll())).toEqual([{ n: 20 }]);
  });

  it("when a stream is soft-deleted, stats stop counting it but lastPosition stays the highest assigned, also after reopen", async () => {
    const db = await h.open();
    const last = await db.events.append("s", numbered(3));
    await db.events.deleteStream("s");
    expect(await db.stats()).toMatchObject({ events: 0, streams: 0, lastPosition: last.lastPosition });
    expect(db.events.listStreams()).toEqual([]);
    const again = await h.reopen(db);
    expect(await again.stats()).toMatchObject({ events: 0, streams: 0, lastPosition: last.lastPosition });
    const next = await again.events.append("t", numbered(1));
    expect(next.firstPosition).toBeGreaterThan(last.lastPosition);
  });

  it("when a stream is soft-deleted, truncateStream and setStreamRetention see a stream that does not exist", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(3));
    await db.events.deleteStream("s");
    await rejectsWith(() => db.events.truncateStream("s", 1), "STREAM_NOT_FOUND");
    await rejectsWith(() => db.events.setStreamRetention("s", { maxCount: 1 }), "STREAM_NOT_FOUND");
  });
});

describe("hard delete", () => {
  it("when a stream is hard-deleted, iterating it fails with STREAM_DELETED and other streams are untouched", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(3));
    await db.events.append("t", numbered(2));
    await db.events.deleteStream("s", { hard: true });
    await iterationFailsWith(() => db.events.iterateStream("s"), "STREAM_DELETED");
    await rejectsWith(() => db.events.readStream("s", { direction: "backward" }), "STREAM_DELETED");
    expect(versionsOf(await db.events.readStream("t"))).toEqual([0, 1]);
    await db.events.append("t", numbered(1));
    expect(await db.stats()).toMatchObject({ events: 3, streams: 1 });
    await expectConsistentViews(db);
  });

  it("when a soft-deleted stream is hard-deleted, it becomes a tombstone", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(3));
    await db.events.deleteStream("s");
    await db.events.deleteStream("s", { hard: true });
    await rejectsWith(() => db.events.append("s", numbered(1)), "STREAM_DELETED");
    const again = await h.reopen(db);
    await rejectsWith(() => again.events.append("s", numbered(1)), "STREAM_DELETED");
    await rejectsWith(() => again.events.readStream("s"), "STREAM_DELETED");
  });
});

describe("truncate", () => {
  it("when beforeVersion is 0, nothing is hidden", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(3));
    await db.events.truncateStream("s", 0);
    expect(versionsOf(await db.events.readStream("s"))).toEqual([0, 1, 2]);
  });

  it("when a stream is truncated to nothing, it still exists and keeps its version, also after reopen", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(4));
    await db.events.append("t", numbered(1));
    await db.events.truncateStream("s", 4);
    const check = async (store: typeof db): Promise<void> => {
      expect(await store.events.readStream("s")).toEqual([]);
      expect(await store.events.readStream("s", { direction: "backward" })).toEqual([]);
      expect(store.events.streamExists("s")).toBe(true);
      expect(store.events.streamVersion("s")).toBe(3);
      expect(store.events.listStreams()).toEqual(["s", "t"]);
      expect((await store.events.readAll()).map((e) => e.streamId)).toEqual(["t"]);
      expect((await store.stats()).events).toBe(1);
    };
    await check(db);
    await check(await h.reopen(db));
  });

  it("when beforeVersion is above version + 1, it acts as version + 1, so later appends are readable, also after reopen", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(5));
    await db.events.truncateStream("s", 100);
    expect(await db.events.readStream("s")).toEqual([]);
    expect(db.events.streamVersion("s")).toBe(4);
    const result = await db.events.append("s", numbered(2, 5));
    expect([result.firstVersion, result.lastVersion]).toEqual([5, 6]);
    expect(versionsOf(await db.events.readStream("s"))).toEqual([5, 6]);
    const again = await h.reopen(db);
    expect(versionsOf(await again.events.readStream("s"))).toEqual([5, 6]);
    await again.events.append("s", numbered(1, 7));
    expect(versionsOf(await again.events.readStream("s"))).toEqual([5, 6, 7]);
    await expectConsistentViews(again);
  });

  it("when a truncated stream is read from below beforeVersion, the hidden versions are skipped in both directions", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(8));
    await db.events.truncateStream("s", 5);
    expect(versionsOf(await db.events.readStream("s", { from: 2 }))).toEqual([5, 6, 7]);
    expect(versionsOf(await db.events.readStream("s", { from: 0, count: 1 }))).toEqual([5]);
    expect(await db.events.readStream("s", { direction: "backward", from: 4 })).toEqual([]);
    expect(versionsOf(await db.events.readStream("s", { direction: "backward", count: 10 }))).toEqual([7, 6, 5]);
    expect(await collect(db.events.iterateStream("s", { from: 1 }))).toEqual(await db.events.readStream("s", { from: 1 }));
    await expectConsistentViews(db);
  });

  it("when a truncated stream gets new events, they are readable after the kept ones", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(4));
    await db.events.truncateStream("s", 2);
    await db.events.append("s", numbered(2, 4), { expectedVersion: 3 });
    expect(dataOf(await db.events.readStream("s"))).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
    await expectConsistentViews(db);
  });
});

describe("retention", () => {
  it("when maxCount is 0, no event of the stream is readable, including ones appended later", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(3));
    await db.events.append("t", numbered(1));
    await db.events.setStreamRetention("s", { maxCount: 0 });
    expect(await db.events.readStream("s")).toEqual([]);
    await db.events.append("s", numbered(2));
    expect(await db.events.readStream("s")).toEqual([]);
    expect(await collect(db.events.iterateStream("s"))).toEqual([]);
    expect(db.events.streamVersion("s")).toBe(4);
    expect((await db.events.readAll()).map((e) => e.streamId)).toEqual(["t"]);
    expect((await db.stats()).events).toBe(1);
  });

  it("when maxCount is set, it holds after reopen and as the stream grows", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(10));
    await db.events.setStreamRetention("s", { maxCount: 3 });
    const again = await h.reopen(db);
    expect(versionsOf(await again.events.readStream("s"))).toEqual([7, 8, 9]);
    await again.events.append("s", numbered(2, 10));
    expect(versionsOf(await again.events.readStream("s"))).toEqual([9, 10, 11]);
    expect(versionsOf(await again.events.readStream("s", { direction: "backward", count: 2 }))).toEqual([11, 10]);
    expect(versionsOf(await again.events.readStream("s", { from: 0, count: 1 }))).toEqual([9]);
    await expectConsistentViews(again);
  });

  it("when maxAgeMs is set and the clock moves on without writes, events age out at read time", async () => {
    let now = 10_000;
    const clock = (): number => now;
    const db = await h.open({ clock });
    for (let i = 0; i < 5; i++) {
      await db.events.append("s", numbered(1, i));
      now += 1000;
    }
    // Timestamps 10000 .. 14000; now is 15000.
    await db.events.setStreamRetention("s", { maxAgeMs: 2500 });
    expect(versionsOf(await db.events.readStream("s"))).toEqual([3, 4]);
    now = 16_000;
    expect(versionsOf(await db.events.readStream("s"))).toEqual([4]);
    expect((await db.stats()).events).toBe(1);
    now = 100_000;
    expect(await db.events.readStream("s")).toEqual([]);
    expect(await db.events.readAll()).toEqual([]);
    await db.events.append("s", numbered(1, 5));
    expect(versionsOf(await db.events.readStream("s"))).toEqual([5]);
  });

  it("when maxAgeMs is set, it holds after reopen with the same clock", async () => {
    let now = 1000;
    const clock = (): number => now;
    const db = await h.open({ clock });
    await db.events.append("s", numbered(2));
    now = 9000;
    await db.events.append("s", numbered(2, 2));
    await db.events.setStreamRetention("s", { maxAgeMs: 5000 });
    const again = await h.reopen(db, { clock });
    expect(versionsOf(await again.events.readStream("s"))).toEqual([2, 3]);
    await expectConsistentViews(again);
  });

  it("when both maxCount and maxAgeMs are set, an event must satisfy both to be readable", async () => {
    let now = 1000;
    const db = await h.open({ clock: () => now });
    await db.events.append("s", numbered(3));
    now = 5000;
    await db.events.append("s", numbered(3, 3));
    await db.events.setStreamRetention("s", { maxCount: 4, maxAgeMs: 2000 });
    expect(versionsOf(await db.events.readStream("s"))).toEqual([3, 4, 5]);
    await db.events.setStreamRetention("s", { maxCount: 2, maxAgeMs: 10_000 });
    expect(versionsOf(await db.events.readStream("s"))).toEqual([4, 5]);
  });

  it("when retention hides events of one stream, readAll, iterateAll and stats still show every other stream", async () => {
    const db = await h.open({ durability: "buffered" });
    for (let i = 0; i < 6; i++) {
      await db.events.append("limited", numbered(1, i));
      await db.events.append("free", numbered(1, 100 + i));
    }
    await db.events.setStreamRetention("limited", { maxCount: 2 });
    const all = await db.events.readAll();
    expect(all.filter((e) => e.streamId === "free").length).toBe(6);
    expect(versionsOf(all.filter((e) => e.streamId === "limited"))).toEqual([4, 5]);
    expect(await collect(db.events.iterateAll({ direction: "backward" }))).toEqual([...all].reverse());
    expect((await db.stats()).events).toBe(8);
    const before = await snapshot(db, ["limited", "free"]);
    const again = await h.reopen(db);
    expect(await snapshot(again, ["limited", "free"])).toEqual(before);
  });
});
