/**
 * Idempotent appends (API.md "Idempotency"): a retried append whose event ids
 * are already stored at the same place returns the original AppendResult and
 * writes nothing; a partial match is a WRONG_EXPECTED_VERSION. Also across a
 * restart.
 */
import { open } from "../../../engine/index.js";
import {
  dataOf,
  ev,
  numbered,
  rejectsWith,
  snapshot,
  useDatabases,
  versionsOf,
  withIds,
} from "../../contract/event-store.contract.js";

const h = useDatabases({ open });

describe("idempotent appends", () => {
  it("when a stream has moved on, re-appending earlier ids after their original expected version still returns the original result", async () => {
    const db = await h.open();
    const first = await db.events.append("s", withIds("a", "b"), { expectedVersion: -1 });
    const second = await db.events.append("s", withIds("c", "d"), { expectedVersion: 1 });
    await db.events.append("s", numbered(3));
    const before = await snapshot(db, ["s"]);
    expect(await db.events.append("s", withIds("a", "b"), { expectedVersion: -1 })).toEqual(first);
    expect(await db.events.append("s", withIds("a", "b"), { expectedVersion: "no_stream" })).toEqual(first);
    expect(await db.events.append("s", withIds("c", "d"), { expectedVersion: 1 })).toEqual(second);
    expect(await snapshot(db, ["s"])).toEqual(before);
  });

  it("when ids are re-appended with any or no expected version, they match wherever they are stored in the stream", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(2));
    const middle = await db.events.append("s", withIds("m1", "m2", "m3"));
    await db.events.append("s", numbered(2));
    const before = await snapshot(db, ["s"]);
    expect(await db.events.append("s", withIds("m1", "m2", "m3"), { expectedVersion: "any" })).toEqual(middle);
    expect(await db.events.append("s", withIds("m1", "m2", "m3"))).toEqual(middle);
    expect(await snapshot(db, ["s"])).toEqual(before);
  });

  it("when the ids are stored but not right after the given numeric expected version, the call is a plain version conflict", async () => {
    const db = await h.open();
    await db.events.append("s", withIds("a", "b"));
    await db.events.append("s", withIds("c"));
    const before = await snapshot(db, ["s"]);
    const err = await rejectsWith(() => db.events.append("s", withIds("c"), { expectedVersion: 0 }), "WRONG_EXPECTED_VERSION");
    expect(err.streamId).toBe("s");
    await rejectsWith(() => db.events.append("s", withIds("a", "b"), { expectedVersion: 1 }), "WRONG_EXPECTED_VERSION");
    expect(await snapshot(db, ["s"])).toEqual(before);
  });

  it("when the ids run past what is stored after the expected version, the partial match fails and writes nothing", async () => {
    const db = await h.open();
    await db.events.append("s", withIds("a", "b"));
    const before = await snapshot(db, ["s"]);
    await rejectsWith(() => db.events.append("s", withIds("b", "c"), { expectedVersion: 0 }), "WRONG_EXPECTED_VERSION");
    await rejectsWith(() => db.events.append("s", withIds("a", "b", "c"), { expectedVersion: -1 }), "WRONG_EXPECTED_VERSION");
    await rejectsWith(() => db.events.append("s", withIds("b", "c"), { expectedVersion: "any" }), "WRONG_EXPECTED_VERSION");
    expect(await snapshot(db, ["s"])).toEqual(before);
  });

  it("when the ids are stored in the stream but not consecutively or not in the call's order, an any append fails", async () => {
    const db = await h.open();
    await db.events.append("s", withIds("a"));
    await db.events.append("s", numbered(1));
    await db.events.append("s", withIds("b"));
    await db.events.append("s", withIds("c", "d"));
    const before = await snapshot(db, ["s"]);
    await rejectsWith(() => db.events.append("s", withIds("a", "b")), "WRONG_EXPECTED_VERSION");
    await rejectsWith(() => db.events.append("s", withIds("d", "c")), "WRONG_EXPECTED_VERSION");
    expect(await snapshot(db, ["s"])).toEqual(before);
  });

  it("when the same ids are appended to another stream, they are new events there", async () => {
    const db = await h.open();
    const inA = await db.events.append("a", withIds("x", "y"));
    const inB = await db.events.append("b", withIds("x", "y"), { expectedVersion: "no_stream" });
    expect(inB.streamId).toBe("b");
    expect(inB.firstPosition).toBeGreaterThan(inA.lastPosition);
    expect((await db.events.readStream("b")).map((e) => e.id)).toEqual(["x", "y"]);
    expect((await db.events.readAll()).length).toBe(4);
  });

  it("when events carry no ids, appending the same content twice stores it twice", async () => {
    const db = await h.open();
    await db.events.append("s", [ev("same", { v: 1 })]);
    const again = await db.events.append("s", [ev("same", { v: 1 })]);
    expect(again.firstVersion).toBe(1);
    expect(dataOf(await db.events.readStream("s"))).toEqual([{ v: 1 }, { v: 1 }]);
  });

  it("when the ids are a stored prefix of an earlier call, the retry is a duplicate and writes nothing", async () => {
    const db = await h.open();
    await db.events.append("s", withIds("a", "b", "c"), { expectedVersion: -1 });
    const before = await snapshot(db, ["s"]);
    await db.events.append("s", withIds("a", "b"), { expectedVersion: -1 });
    await db.events.append("s", withIds("b", "c"), { expectedVersion: 0 });
    expect(await snapshot(db, ["s"])).toEqual(before);
  });

  it("when the same append is retried concurrently, both calls return the same result and the events are stored once", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(1));
    const [one, two] = await Promise.all([
      db.events.append("s", withIds("r1", "r2"), { expectedVersion: 0 }),
      db.events.append("s", withIds("r1", "r2"), { expectedVersion: 0 }),
    ]);
    expect(one).toEqual(two);
    expect(versionsOf(await db.events.readStream("s"))).toEqual([0, 1, 2]);
  });

  it("when the database is reopened in buffered mode, duplicates in many streams are still recognised", async () => {
    const db = await h.open({ durability: "buffered" });
    const originals = [];
    for (let i = 0; i < 20; i++) {
      originals.push(await db.events.append(`s-${i % 5}`, withIds(`id-${i}-a`, `id-${i}-b`)));
    }
    const before = await snapshot(db, ["s-0", "s-1", "s-2", "s-3", "s-4"]);
    const again = await h.reopen(db, { durability: "buffered" });
    for (let i = 0; i < 20; i++) {
      const expectedVersion = originals[i]!.firstVersion - 1;
      expect(await again.events.append(`s-${i % 5}`, withIds(`id-${i}-a`, `id-${i}-b`), { expectedVersion })).toEqual(originals[i]);
    }
    expect(await snapshot(again, ["s-0", "s-1", "s-2", "s-3", "s-4"])).toEqual(before);
    const next = await again.events.append("s-0", withIds("fresh"), { expectedVersion: 7 });
    expect(next.firstVersion).toBe(8);
  });
});
