/**
 * Subscriptions (API.md `subscribe` and "Reads"): catch-up then live, in
 * position order, without gaps or duplicates — across segment rolls, under
 * concurrent writers, and when resumed from a checkpoint. Every wait is bounded
 * (SubscriptionReader) so a broken implementation fails instead of hanging, and
 * every subscription is closed in `finally`.
 */
import { open } from "../../../engine/index.js";
import type { OpenOptions, RecordedEvent } from "../../../engine/index.js";
import {
  SubscriptionReader,
  WAIT_MS,
  collect,
  dataOf,
  ev,
  expectStrictlyIncreasing,
  numbered,
  positionsOf,
  useDatabases,
  versionsOf,
  withTimeout,
} from "../../contract/event-store.contract.js";

const h = useDatabases({ open });

/** 4 KiB segments: a few hundred bytes per event roll the segment every dozen events. */
const SMALL_SEGMENTS: OpenOptions = { segmentBytes: 4096, maxRecordBytes: 1024, durability: "buffered" };

function padded(n: number): { n: number; pad: string } {
  return { n, pad: "p".repeat(300) };
}

describe("subscriptions", () => {
  it("when events span many segments, a subscription from the beginning catches up across the rolls and continues live", async () => {
    const db = await h.open(SMALL_SEGMENTS);
    for (let i = 0; i < 120; i++) await db.events.append(`s-${i % 3}`, [ev("big", padded(i))]);
    expect((await db.stats()).segments).toBeGreaterThan(3);
    const reader = new SubscriptionReader(db.events.subscribe());
    try {
      const caughtUp = await reader.take(120);
      expect(caughtUp).toEqual(await db.events.readAll());
      const consumer = reader.take(80);
      for (let i = 120; i < 200; i++) await db.events.append(`s-${i % 3}`, [ev("big", padded(i))]);
      const live = await consumer;
      expect(dataOf(live)).toEqual(Array.from({ length: 80 }, (_, i) => padded(120 + i)));
      expect([...caughtUp, ...live]).toEqual(await db.events.readAll());
    } finally {
      reader.close();
    }
  });

  it("when a position checkpoint lies in an older segment, the subscription resumes right after it", async () => {
    const db = await h.open(SMALL_SEGMENTS);
    for (let i = 0; i < 60; i++) await db.events.append("s", [ev("big", padded(i))]);
    const all = await db.events.readAll();
    const reader = new SubscriptionReader(db.events.subscribe({ from: all[7]!.position }));
    try {
      expect(await reader.take(52)).toEqual(all.slice(8));
    } finally {
      reader.close();
    }
  });

  it("when a stream subscription spans segment rolls with other streams interleaved, it delivers only that stream's versions in order", async () => {
    const db = await h.open(SMALL_SEGMENTS);
    for (let i = 0; i < 40; i++) {
      await db.events.append("mine", [ev("big", padded(i))]);
      await db.events.append("noise", [ev("big", padded(i))]);
    }
    const reader = new SubscriptionReader(db.events.subscribe({ streamId: "mine", from: 9 }));
    try {
      const caughtUp = await reader.take(30);
      expect(versionsOf(caughtUp)).toEqual(Array.from({ length: 30 }, (_, i) => 10 + i));
      expect(caughtUp.every((e) => e.streamId === "mine")).toBe(true);
      const consumer = reader.take(20);
      for (let i = 40; i < 60; i++) {
        await db.events.append("noise", [ev("big", padded(i))]);
        await db.events.append("mine", [ev("big", padded(i))]);
      }
      expect(versionsOf(await consumer)).toEqual(Array.from({ length: 20 }, (_, i) => 40 + i));
    } finally {
      reader.close();
    }
  });

  it("when many writers append concurrently, a live subscriber sees every event once in position order, matching readAll", async () => {
    const db = await h.open({ durability: "sync" });
    await db.events.append("seed", numbered(2));
    const reader = new SubscriptionReader(db.events.subscribe());
    try {
      const consumer = reader.take(2 + 60);
      await Promise.all(
        Array.from({ length: 6 }, async (_, w) => {
          for (let i = 0; i < 5; i++) await db.events.append(`w-${w}`, numbered(2, i * 2));
        }),
      );
      const seen = await consumer;
      expectStrictlyIncreasing(positionsOf(seen));
      expect(seen).toEqual(await db.events.readAll());
      await db.events.append("marker", [ev("marker")]);
      expect((await reader.take(1))[0]!.streamId).toBe("marker");
    } finally {
      reader.close();
    }
  });

  it("when appendMany writes several streams, a subscriber receives all its events in position order", async () => {
    const db = await h.open({ durability: "buffered" });
    const reader = new SubscriptionReader(db.events.subscribe());
    try {
      await db.events.appendMany([
        { streamId: "a", events: numbered(2) },
        { streamId: "b", events: numbered(3) },
      ]);
      const seen = await reader.take(5);
      expect(seen).toEqual(await db.events.readAll());
    } finally {
      reader.close();
    }
  });

  it("when a subscriber stops and resumes from the last position it saw, it gets the rest without gaps or duplicates", async () => {
    const db = await h.open({ durability: "buffered" });
    await db.events.append("a", numbered(4));
    await db.events.append("b", numbered(4, 4));
    const first = new SubscriptionReader(db.events.subscribe());
    let seen: RecordedEvent[];
    try {
      seen = await first.take(5);
    } finally {
      first.close();
    }
    await db.events.append("a", numbered(2, 8));
    const second = new SubscriptionReader(db.events.subscribe({ from: seen[seen.length - 1]!.position }));
    try {
      const rest = await second.take(5);
      expect(dataOf([...seen, ...rest])).toEqual(numbered(10).map((e) => e.data));
    } finally {
      second.close();
    }
  });

  it("when a stream subscriber resumes from the last version it saw, it gets the stream's rest", async () => {
    const db = await h.open({ durability: "buffered" });
    await db.events.append("s", numbered(6));
    const reader = new SubscriptionReader(db.events.subscribe({ streamId: "s", from: 5 }));
    try {
      await db.events.append("s", numbered(1, 6));
      expect(versionsOf(await reader.take(1))).toEqual([6]);
    } finally {
      reader.close();
    }
  });

  it("when the checkpoint is the last position, the subscription waits for the next event", async () => {
    const db = await h.open({ durability: "buffered" });
    const last = await db.events.append("s", numbered(3));
    const reader = new SubscriptionReader(db.events.subscribe({ from: last.lastPosition }));
    try {
      await db.events.append("t", numbered(1, 3));
      const [next] = await reader.take(1);
      expect([next!.streamId, next!.data]).toEqual(["t", { n: 3 }]);
    } finally {
      reader.close();
    }
  });

  it("when the store is empty, a subscription from the beginning delivers the first events once they arrive", async () => {
    const db = await h.open({ durability: "buffered" });
    const reader = new SubscriptionReader(db.events.subscribe());
    try {
      const consumer = reader.take(3);
      await db.events.append("s", numbered(3));
      expect(versionsOf(await consumer)).toEqual([0, 1, 2]);
      expect((await consumer)[0]!.position).toBe(0);
    } finally {
      reader.close();
    }
  });

  it("when a stream subscription starts from the end, it delivers only that stream's new events", async () => {
    const db = await h.open({ durability: "buffered" });
    await db.events.append("s", numbered(3));
    const reader = new SubscriptionReader(db.events.subscribe({ streamId: "s", from: "end" }));
    try {
      await db.events.append("other", numbered(2));
      await db.events.append("s", numbered(1, 3));
      const [next] = await reader.take(1);
      expect([next!.streamId, next!.version]).toEqual(["s", 3]);
    } finally {
      reader.close();
    }
  });

  it("when two subscriptions run at once, each gets the full sequence independently", async () => {
    const db = await h.open({ durability: "buffered" });
    await db.events.append("s", numbered(3));
    const one = new SubscriptionReader(db.events.subscribe());
    const two = new SubscriptionReader(db.events.subscribe());
    try {
      expect(versionsOf(await one.take(3))).toEqual([0, 1, 2]);
      await db.events.append("s", numbered(2, 3));
      expect(versionsOf(await one.take(2))).toEqual([3, 4]);
      expect(versionsOf(await two.take(5))).toEqual([0, 1, 2, 3, 4]);
    } finally {
      one.close();
      two.close();
    }
  });

  it("when a subscription is closed while a read is waiting for live events, the waiting read ends", async () => {
    const db = await h.open({ durability: "buffered" });
    await db.events.append("s", numbered(1));
    const reader = new SubscriptionReader(db.events.subscribe());
    try {
      await reader.take(1);
      const pending = reader.nextPending();
      reader.close();
      const step = await withTimeout(pending, WAIT_MS, "waiting for a closed subscription's pending read to end");
      expect(step.done).toBe(true);
    } finally {
      reader.close();
    }
  });

  it("when a for-await loop breaks out of a subscription, the store keeps working and a new subscription starts fresh", async () => {
    const db = await h.open({ durability: "buffered" });
    await db.events.append("s", numbered(5));
    const subscription = db.events.subscribe();
    const seen: number[] = [];
    try {
      await withTimeout(
        (async () => {
          for await (const e of subscription) {
            seen.push(e.version);
            if (seen.length === 2) break;
          }
        })(),
        WAIT_MS,
        "iterating a subscription with for-await",
      );
    } finally {
      subscription.close();
    }
    expect(seen).toEqual([0, 1]);
    await db.events.append("s", numbered(1, 5));
    const reader = new SubscriptionReader(db.events.subscribe({ streamId: "s", from: 3 }));
    try {
      expect(versionsOf(await reader.take(2))).toEqual([4, 5]);
    } finally {
      reader.close();
    }
    expect(await collect(db.events.iterateStream("s"))).toEqual(await db.events.readStream("s"));
  });
});
