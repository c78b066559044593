/**
 * The shared behaviour suite for `db.recordings` (docs/api.md, "Recordings"
 * and "Semantics in detail: Recordings"). Any way of opening a database runs it
 * through `recordingStoreContract(name, factory)`.
 *
 * Tests check through the public API only; "writes nothing" is checked with
 * stats().diskBytes, and persistence by reopening from the checkpoint and with
 * a full replay of the log.
 */
import type { Database, Recording } from "../../engine/index.js";
import { rejectsWith, useDatabases, type DatabaseFactory } from "./event-store.contract.js";
import { checkAcrossReopen, diskBytes } from "./reopen.js";

/** A recording with `count` events shaped like captured session events. */
export function recording(id: string, count: number, extra: Record<string, unknown> = {}): Recording {
  const events = Array.from({ length: count }, (_, i) => ({ type: i % 2 === 0 ? "click" : "input", at: i, target: `#el-${i}` }));
  return { id, title: `session ${id}`, user: { name: "ann" }, events, ...extra };
}

/** What listSummaries must say about `r` saved at `savedAt`. */
function summaryOf(r: Recording, savedAt: number): Record<string, unknown> {
  const { events, ...fields } = r;
  return { ...fields, eventCount: events?.length ?? 0, savedAt };
}

export function recordingStoreContract(name: string, factory: DatabaseFactory): void {
  describe(`recording store contract (${name})`, () => {
    const h = useDatabases(factory);

    describe("save and get", () => {
      it("when a recording is saved, get returns it field for field, events included", async () => {
        const db = await h.open();
        const r = recording("r1", 5, { startedAt: new Date(1_700_000_000_000), tags: ["a", "b"], thumbnail: new Uint8Array([1, 2, 3]), n: null });
        await db.recordings.save(r);
        const back = await db.recordings.get("r1");
        expect(back).toEqual(r);
        expect(back!.startedAt).toBeInstanceOf(Date);
        expect(back!.thumbnail).toBeInstanceOf(Uint8Array);
      });

      it("when a recording has no events field, get returns it without one", async () => {
        const db = await h.open();
        await db.recordings.save({ id: "bare", note: "no events" });
        const back = await db.recordings.get("bare");
        expect(back).toEqual({ id: "bare", note: "no events" });
        expect(back && "events" in back).toBe(false);
      });

      it("when an id was never saved, get resolves to undefined", async () => {
        const db = await h.open();
        await db.recordings.save(recording("there", 1));
        expect(await db.recordings.get("missing")).toBeUndefined();
      });

      it("when the same id is saved again, the new recording replaces the old one", async () => {
        const db = await h.open();
        await db.recordings.save(recording("r", 3, { title: "first" }));
        await db.recordings.save(recording("r", 1, { title: "second", added: true }));
        expect(await db.recordings.get("r")).toEqual(recording("r", 1, { title: "second", added: true }));
        expect((await db.recordings.list()).map((x) => x.id)).toEqual(["r"]);
        expect((await db.recordings.listSummaries()).map((x) => x.eventCount)).toEqual([1]);
      });

      it("when a returned recording is changed by the caller, the stored one is not", async () => {
        const db = await h.open();
        await db.recordings.save(recording("r", 2));
        const first = (await db.recordings.get("r"))!;
        first.events!.push("extra");
        first.title = "changed";
        expect(await db.recordings.get("r")).toEqual(recording("r", 2));
      });
    });

    describe("list and listSummaries", () => {
      it("when recordings are saved, list returns them most recently saved first, and a re-save moves one to the front", async () => {
        const db = await h.open();
        for (const id of ["a", "b", "c"]) await db.recordings.save(recording(id, 2));
        expect((await db.recordings.list()).map((r) => r.id)).toEqual(["c", "b", "a"]);
        await db.recordings.save(recording("a", 4));
        const list = await db.recordings.list();
        expect(list.map((r) => r.id)).toEqual(["a", "c", "b"]);
        expect(list[0]).toEqual(recording("a", 4));
      });

      it("when the clock goes backwards between saves, the order still follows the calls", async () => {
        let now = 10_000;
        const db = await h.open({ clock: () => now });
        for (const id of ["first", "second", "third"]) {
          await db.recordings.save(recording(id, 1));
          now -= 1000;
        }
        expect((await db.recordings.list()).map((r) => r.id)).toEqual(["third", "second", "first"]);
        expect((await db.recordings.listSummaries()).map((s) => [s.id, s.savedAt])).toEqual([["third", 8000], ["second", 9000], ["first", 10_000]]);
      });

      it("when recordings are saved without waiting, the order is the order of the calls", async () => {
        const db = await h.open();
        await Promise.all(["p", "q", "r", "s"].map((id) => db.recordings.save(recording(id, 1))));
        expect((await db.recordings.list()).map((r) => r.id)).toEqual(["s", "r", "q", "p"]);
      });

      it("when summaries are listed, each has every field but events, plus eventCount and savedAt from the clock, in list order", async () => {
        let now = 500;
        const db = await h.open({ clock: () => now });
        const one = recording("one", 3, { meta: { browser: "x" } });
        const two = { id: "two", title: "no events" };
        const three = recording("three", 0);
        await db.recordings.save(one);
        now = 600;
        await db.recordings.save(two);
        now = 700;
        await db.recordings.save(three);
        const summaries = await db.recordings.listSummaries();
        expect(summaries).toEqual([summaryOf(three, 700), summaryOf(two, 600), summaryOf(one, 500)]);
        for (const s of summaries) expect("events" in s).toBe(false);
        expect(summaries.map((s) => s.id)).toEqual((await db.recordings.list()).map((r) => r.id));
      });

      it("when nothing is saved, list and listSummaries return []", async () => {
        const db = await h.open();
        expect(await db.recordings.list()).toEqual([]);
        expect(await db.recordings.listSummaries()).toEqual([]);
      });
    });

    describe("delete and clear", () => {
      it("when a recording is deleted, get is undefined and it leaves list and listSummaries; others keep their order", async () => {
        const db = await h.open();
        for (const id of ["a", "b", "c"]) await db.recordings.save(recording(id, 1));
        await db.recordings.delete("b");
        expect(await db.recordings.get("b")).toBeUndefined();
        expect((await db.recordings.list()).map((r) => r.id)).toEqual(["c", "a"]);
        expect((await db.recordings.listSummaries()).map((r) => r.id)).toEqual(["c", "a"]);
      });

      it("when a missing recording is deleted, it resolves and writes nothing", async () => {
        const db = await h.open();
        await db.recordings.save(recording("a", 1));
        const before = await diskBytes(db);
        await expect(db.recordings.delete("nobody")).resolves.toBeUndefined();
        expect(await diskBytes(db)).toBe(before);
      });

      it("when the store is cleared, every recording is gone and later saves work as on an empty store", async () => {
        const db = await h.open();
        for (const id of ["a", "b"]) await db.recordings.save(recording(id, 2));
        await db.recordings.clear();
        expect(await db.recordings.list()).toEqual([]);
        expect(await db.recordings.listSummaries()).toEqual([]);
        expect(await db.recordings.get("a")).toBeUndefined();
        await db.recordings.save(recording("b", 1));
        expect((await db.recordings.list()).map((r) => r.id)).toEqual(["b"]);
        await expect(db.recordings.clear()).resolves.toBeUndefined();
        await expect(db.recordings.clear()).resolves.toBeUndefined();
      });

      it("when saves, a clear and more saves are made without waiting, only the saves after the clear remain", async () => {
        const db = await h.open();
        await Promise.all([
          db.recordings.save(recording("old", 1)),
          db.recordings.clear(),
          db.recordings.save(recording("new", 1)),
          db.recordings.delete("old"),
        ]);
        expect((await db.recordings.list()).map((r) => r.id)).toEqual(["new"]);
      });
    });

    describe("bad input", () => {
      it("when save is given something that is not a recording, it rejects with INVALID_ARGUMENT naming the problem and writes nothing", async () => {
        const db = await h.open();
        const before = await diskBytes(db);
        const cases: [unknown, string][] = [
          [null, "recording"],
          ["r", "recording"],
          [[{ id: "a" }], "recording"],
          [{ title: "no id" }, "recording.id"],
          [{ id: "" }, "recording.id"],
          [{ id: 5 }, "recording.id"],
          [{ id: "a", events: "not a list" }, "recording.events"],
          [{ id: "a", events: { 0: "x" } }, "recording.events"],
          [{ id: "a", handler: () => 1 }, "recording"],
          [{ id: "a", events: [Symbol("s")] }, "recording"],
        ];
        for (const [value, named] of cases) {
          expect((await rejectsWith(() => db.recordings.save(value as Recording), "INVALID_ARGUMENT")).message).toContain(named);
        }
        expect(await db.recordings.list()).toEqual([]);
        expect(await diskBytes(db)).toBe(before);
      });

      it("when an id argument is not a non-empty string, get and delete reject with INVALID_ARGUMENT naming id", async () => {
        const db = await h.open();
        for (const bad of ["", 1, null, undefined, {}]) {
          expect((await rejectsWith(() => db.recordings.get(bad as string), "INVALID_ARGUMENT")).message).toContain("id");
          await rejectsWith(() => db.recordings.delete(bad as string), "INVALID_ARGUMENT");
        }
      });

      it("when a recording would make a record over maxRecordBytes, save rejects with TOO_LARGE and the old one stays", async () => {
        const db = await h.open({ maxRecordBytes: 4096, segmentBytes: 64 * 1024 });
        await db.recordings.save(recording("r", 10));
        const before = await diskBytes(db);
        await rejectsWith(() => db.recordings.save(recording("r", 500)), "TOO_LARGE");
        expect(await diskBytes(db)).toBe(before);
        expect(await db.recordings.get("r")).toEqual(recording("r", 10));
      });

      it("when the database is closed or read-only, writes are refused with CLOSED or READ_ONLY", async () => {
        const db = await h.open();
        await db.recordings.save(recording("r", 1));
        await db.close();
        await rejectsWith(() => db.recordings.save(recording("s", 1)), "CLOSED");
        await rejectsWith(() => db.recordings.listSummaries(), "CLOSED");
        const ro = await h.open({ readOnly: true });
        expect(await ro.recordings.get("r")).toEqual(recording("r", 1));
        await rejectsWith(() => ro.recordings.save(recording("s", 1)), "READ_ONLY");
        await rejectsWith(() => ro.recordings.delete("r"), "READ_ONLY");
        await rejectsWith(() => ro.recordings.clear(), "READ_ONLY");
      });
    });

    describe("persistence and compaction", () => {
      let now = 1000;
      const clock = (): number => now++;

      async function fill(db: Database): Promise<void> {
        for (let i = 0; i < 8; i++) await db.recordings.save(recording(`r${i}`, 5 + i));
        await db.recordings.save(recording("r2", 3, { title: "replaced" }));
        await db.recordings.delete("r5");
        await db.recordings.clear();
        for (let i = 0; i < 6; i++) await db.recordings.save(recording(`s${i}`, 3 + i));
        await db.recordings.save(recording("s1", 2, { title: "replaced" }));
        await db.recordings.delete("s4");
      }

      const expected = ["s1", "s5", "s3", "s2", "s0"];

      async function expectContent(db: Database): Promise<void> {
        const list = await db.recordings.list();
        expect(list.map((r) => r.id)).toEqual(expected);
        expect(list[0]).toEqual(recording("s1", 2, { title: "replaced" }));
        expect(list[1]).toEqual(recording("s5", 8));
        const summaries = await db.recordings.listSummaries();
        expect(summaries.map((s) => [s.id, s.eventCount])).toEqual([["s1", 2], ["s5", 8], ["s3", 6], ["s2", 5], ["s0", 3]]);
        const savedAt = summaries.map((s) => s.savedAt);
        expect([...savedAt].sort((a, b) => b - a)).toEqual(savedAt);
        expect(await db.recordings.get("r0")).toBeUndefined();
        expect(await db.recordings.get("s4")).toBeUndefined();
      }

      it("when the database is reopened, from the checkpoint or by a full replay, recordings, order and summaries are as they were", async () => {
        const db = await h.open({ clock });
        await fill(db);
        const last = await checkAcrossReopen(h, db, expectContent, { clock });
        expect((await last.verify()).ok).toBe(true);
      });

      it("when replaced, deleted and cleared recordings are compacted away, their bytes are reclaimed and the rest reads back the same", async () => {
        const db = await h.open({ clock });
        await fill(db);
        expect((await db.stats()).garbageBytes).toBeGreaterThan(0);
        const before = await diskBytes(db);
        await db.compact();
        await db.compact();
        expect((await db.stats()).garbageBytes).toBe(0);
        expect(await diskBytes(db)).toBeLessThan(before / 2);
        const last = await checkAcrossReopen(h, db, expectContent, { clock });
        expect((await last.verify()).ok).toBe(true);
      });
    });
  });
}
