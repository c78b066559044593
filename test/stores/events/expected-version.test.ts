/**
 * Optimistic concurrency (API.md "Expected version"): every form of
 * ExpectedVersion on never-appended, live, soft-deleted, truncated and
 * hard-deleted streams, the error's fields, deleteStream's check, and checks
 * that race each other.
 */
import { open } from "../../../engine/index.js";
import type { ExpectedVersion } from "../../../engine/index.js";
import {
  numbered,
  rejectsWith,
  snapshot,
  useDatabases,
  versionsOf,
} from "../../contract/event-store.contract.js";

const h = useDatabases({ open });

describe("expected version", () => {
  it("when a stream was soft-deleted, no_stream, -1, the old version and any recreate it numbering on from the old version + 1", async () => {
    const db = await h.open({ durability: "buffered" });
    const forms: ExpectedVersion[] = ["no_stream", -1, 2, "any"];
    for (const [i] of forms.entries()) {
      await db.events.append(`s${i}`, numbered(3));
      await db.events.deleteStream(`s${i}`);
    }
    for (const [i, expectedVersion] of forms.entries()) {
      const result = await db.events.append(`s${i}`, numbered(1, 10), { expectedVersion });
      expect([result.firstVersion, result.lastVersion]).toEqual([3, 3]);
      expect(versionsOf(await db.events.readStream(`s${i}`))).toEqual([3]);
      expect(db.events.streamExists(`s${i}`)).toBe(true);
    }
  });

  it("when a stream was soft-deleted, stream_exists and a wrong number fail with actual = the old version", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(3));
    await db.events.deleteStream("s");
    for (const expectedVersion of ["stream_exists", 1, 3, 0] as const) {
      const err = await rejectsWith(() => db.events.append("s", numbered(1), { expectedVersion }), "WRONG_EXPECTED_VERSION");
      expect({ streamId: err.streamId, expected: err.expected, actual: err.actual }).toEqual({ streamId: "s", expected: expectedVersion, actual: 2 });
    }
    expect(db.events.streamExists("s")).toBe(false);
    expect(await db.events.readStream("s")).toEqual([]);
  });

  it("when a stream is truncated to nothing it still exists, so stream_exists and its version pass", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(3));
    await db.events.truncateStream("s", 3);
    expect((await db.events.append("s", numbered(1), { expectedVersion: "stream_exists" })).firstVersion).toBe(3);
    expect((await db.events.append("s", numbered(1), { expectedVersion: 3 })).firstVersion).toBe(4);
    const err = await rejectsWith(() => db.events.append("s", numbered(1), { expectedVersion: 2 }), "WRONG_EXPECTED_VERSION");
    expect(err.actual).toBe(4);
  });

  it("when a stream is hard-deleted, every expected version form fails with STREAM_DELETED rather than a version error", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(3));
    await db.events.deleteStream("s", { hard: true });
    for (const expectedVersion of ["no_stream", -1, 2, "any", "stream_exists"] as const) {
      await rejectsWith(() => db.events.append("s", numbered(1), { expectedVersion }), "STREAM_DELETED");
    }
  });

  it("when the database is reopened, expected versions are checked against the persisted versions", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(4));
    await db.events.append("gone", numbered(2));
    await db.events.deleteStream("gone");
    const again = await h.reopen(db);
    const err = await rejectsWith(() => again.events.append("s", numbered(1), { expectedVersion: "no_stream" }), "WRONG_EXPECTED_VERSION");
    expect(err.actual).toBe(3);
    expect((await again.events.append("s", numbered(1), { expectedVersion: 3 })).firstVersion).toBe(4);
    expect((await again.events.append("gone", numbered(1), { expectedVersion: 1 })).firstVersion).toBe(2);
    expect(again.events.streamVersion("never")).toBe(-1);
    const never = await rejectsWith(() => again.events.append("never", numbered(1), { expectedVersion: 5 }), "WRONG_EXPECTED_VERSION");
    expect({ expected: never.expected, actual: never.actual }).toEqual({ expected: 5, actual: -1 });
  });

  it("when deleteStream carries a wrong expected version, it fails with the error's fields and the stream stays", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(3));
    const before = await snapshot(db, ["s"]);
    for (const [expectedVersion, hard] of [[1, false], [5, true], ["no_stream", false], [-1, true]] as const) {
      const err = await rejectsWith(() => db.events.deleteStream("s", { hard, expectedVersion }), "WRONG_EXPECTED_VERSION");
      expect({ streamId: err.streamId, expected: err.expected, actual: err.actual }).toEqual({ streamId: "s", expected: expectedVersion, actual: 2 });
    }
    expect(await snapshot(db, ["s"])).toEqual(before);
    const again = await h.reopen(db);
    expect(await snapshot(again, ["s"])).toEqual(before);
  });

  it("when deleteStream carries the right expected version, the stream is deleted", async () => {
    const db = await h.open();
    await db.events.append("a", numbered(3));
    await db.events.append("b", numbered(3));
    await db.events.append("c", numbered(1));
    await db.events.deleteStream("a", { expectedVersion: 2 });
    await db.events.deleteStream("b", { expectedVersion: "stream_exists", hard: true });
    await db.events.deleteStream("c", { expectedVersion: "any" });
    expect(db.events.listStreams()).toEqual([]);
    await rejectsWith(() => db.events.readStream("b"), "STREAM_DELETED");
    expect(db.events.streamVersion("a")).toBe(2);
  });

  it("when many appends race with the same numeric expected version, exactly one wins and the others fail", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(1));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => db.events.append("s", numbered(1, 100 + i), { expectedVersion: 0 })),
    );
    const won = outcomes.filter((o) => o.status === "fulfilled");
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(won.length).toBe(1);
    for (const o of lost) expect((o.reason as { code?: string }).code).toBe("WRONG_EXPECTED_VERSION");
    expect(db.events.streamVersion("s")).toBe(1);
    expect((await db.events.readStream("s")).length).toBe(2);
  });

  it("when many appends race to create a stream with no_stream, exactly one wins", async () => {
    const db = await h.open({ durability: "buffered" });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => db.events.append("new", numbered(2, i * 2), { expectedVersion: "no_stream" })),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled").length).toBe(1);
    for (const o of outcomes) {
      if (o.status === "rejected") expect((o.reason as { code?: string }).code).toBe("WRONG_EXPECTED_VERSION");
    }
    expect(versionsOf(await db.events.readStream("new"))).toEqual([0, 1]);
  });

  it("when many appends with any race on one stream, all succeed with disjoint dense version ranges", async () => {
    const db = await h.open();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => db.events.append("s", numbered(3, i * 3))));
    const ranges = results.map((r) => [r.firstVersion, r.lastVersion] as const).sort((a, b) => a[0] - b[0]);
    ranges.forEach(([first, last], i) => expect([first, last]).toEqual([i * 3, i * 3 + 2]));
    const read = await db.events.readStream("s");
    expect(versionsOf(read)).toEqual(Array.from({ length: 36 }, (_, i) => i));
    for (const r of results) {
      const slice = read.slice(r.firstVersion, r.lastVersion + 1);
      expect(slice.map((e) => e.position)).toEqual(
        (await db.events.readStream("s", { from: r.firstVersion, count: 3 })).map((e) => e.position),
      );
      expect(slice[0]!.position).toBe(r.firstPosition);
      expect(slice[2]!.position).toBe(r.lastPosition);
    }
  });

  it("when appendMany items use every expected version form, each is checked against its own stream", async () => {
    const db = await h.open();
    await db.events.append("live", numbered(2));
    await db.events.append("soft", numbered(2));
    await db.events.deleteStream("soft");
    const results = await db.events.appendMany([
      { streamId: "fresh", events: numbered(1), expectedVersion: "no_stream" },
      { streamId: "live", events: numbered(1), expectedVersion: 1 },
      { streamId: "soft", events: numbered(1), expectedVersion: -1 },
      { streamId: "any", events: numbered(1), expectedVersion: "any" },
    ]);
    expect(results.map((r) => [r.streamId, r.firstVersion])).toEqual([["fresh", 0], ["live", 2], ["soft", 2], ["any", 0]]);
    const err = await rejectsWith(
      () => db.events.appendMany([
        { streamId: "live", events: numbered(1), expectedVersion: "stream_exists" },
        { streamId: "missing", events: numbered(1), expectedVersion: "stream_exists" },
        { streamId: "fresh", events: numbered(1), expectedVersion: 7 },
      ]),
      "WRONG_EXPECTED_VERSION",
    );
    expect({ streamId: err.streamId, expected: err.expected, actual: err.actual }).toEqual({ streamId: "missing", expected: "stream_exists", actual: -1 });
    expect(db.events.streamVersion("live")).toBe(2);
  });

  it("when an appendMany item names a hard-deleted stream, nothing of the call is written", async () => {
    const db = await h.open();
    await db.events.append("dead", numbered(1));
    await db.events.deleteStream("dead", { hard: true });
    const before = await snapshot(db, ["ok"]);
    await rejectsWith(
      () => db.events.appendMany([{ streamId: "ok", events: numbered(1) }, { streamId: "dead", events: numbered(1) }]),
      "STREAM_DELETED",
    );
    expect(await snapshot(db, ["ok"])).toEqual(before);
  });
});
