/**
 * The shared behaviour suite for `db.cassettes` (docs/api.md, "Cassettes").
 * Any way of opening a database runs it through `cassetteStoreContract(name, factory)`.
 *
 * Tests check through the public API only; "writes nothing" is checked with
 * stats().diskBytes, and persistence by reopening from the checkpoint and with
 * a full replay of the log.
 */
import type { Database } from "../../engine/index.js";
import { collect, iterationFailsWith, rejectsWith, throwsWith, useDatabases, type DatabaseFactory } from "./event-store.contract.js";
import { checkAcrossReopen, diskBytes } from "./reopen.js";

/** An entry shaped like a recorded HTTP exchange. */
export function exchange(n: number, body = `body ${n}`): Record<string, unknown> {
  return { request: { method: "GET", url: `/items/${n}`, headers: { accept: "application/json" } }, response: { status: 200, body }, n };
}

export function cassetteStoreContract(name: string, factory: DatabaseFactory): void {
  describe(`cassette store contract (${name})`, () => {
    const h = useDatabases(factory);

    describe("writeEntry and readEntries", () => {
      it("when entries are written to a cassette, readEntries returns them in write order and exists is true", async () => {
        const db = await h.open();
        for (let n = 0; n < 5; n++) await db.cassettes.writeEntry("api/items", exchange(n));
        expect(await collect(db.cassettes.readEntries("api/items"))).toEqual([0, 1, 2, 3, 4].map((n) => exchange(n)));
        expect(db.cassettes.exists("api/items")).toBe(true);
      });

      it("when entries hold nested values, dates and bytes, they read back as written", async () => {
        const db = await h.open();
        const entry = { at: new Date(1_700_000_000_000), raw: new Uint8Array([0, 1, 255]), list: [1, "two", null, { deep: [true] }], empty: {} };
        await db.cassettes.writeEntry("typed", entry);
        const [back] = await collect(db.cassettes.readEntries("typed"));
        expect(back).toEqual(entry);
        expect(back!.at).toBeInstanceOf(Date);
        expect(back!.raw).toBeInstanceOf(Uint8Array);
      });

      it("when writes to several cassettes interleave, each cassette reads back only its own entries, in order", async () => {
        const db = await h.open();
        for (let n = 0; n < 6; n++) {
          await db.cassettes.writeEntry("a", exchange(n));
          await db.cassettes.writeEntry("b", exchange(100 + n));
          if (n % 2 === 0) await db.cassettes.writeEntry("a/nested", exchange(200 + n));
        }
        expect((await collect(db.cassettes.readEntries("a"))).map((e) => e.n)).toEqual([0, 1, 2, 3, 4, 5]);
        expect((await collect(db.cassettes.readEntries("b"))).map((e) => e.n)).toEqual([100, 101, 102, 103, 104, 105]);
        expect((await collect(db.cassettes.readEntries("a/nested"))).map((e) => e.n)).toEqual([200, 202, 204]);
      });

      it("when entries are written without waiting, they are stored in call order", async () => {
        const db = await h.open();
        await Promise.all(Array.from({ length: 50 }, (_, n) => db.cassettes.writeEntry("burst", exchange(n))));
        expect((await collect(db.cassettes.readEntries("burst"))).map((e) => e.n)).toEqual(Array.from({ length: 50 }, (_, n) => n));
      });

      it("when a cassette does not exist, readEntries yields nothing and exists is false", async () => {
        const db = await h.open();
        await db.cassettes.writeEntry("present", exchange(1));
        expect(await collect(db.cassettes.readEntries("absent"))).toEqual([]);
        expect(db.cassettes.exists("absent")).toBe(false);
        expect(db.cassettes.exists("present/")).toBe(false);
      });

      it("when the iterable from readEntries is iterated twice, both passes give every entry", async () => {
        const db = await h.open();
        await db.cassettes.writeEntry("twice", exchange(1));
        await db.cassettes.writeEntry("twice", exchange(2));
        const entries = db.cassettes.readEntries("twice");
        expect(await collect(entries)).toEqual([exchange(1), exchange(2)]);
        expect(await collect(entries)).toEqual([exchange(1), exchange(2)]);
      });

      it("when a returned entry is changed by the caller, the stored entry is not", async () => {
        const db = await h.open();
        await db.cassettes.writeEntry("c", { list: [1] });
        const [first] = await collect(db.cassettes.readEntries("c"));
        (first!.list as number[]).push(2);
        expect(await collect(db.cassettes.readEntries("c"))).toEqual([{ list: [1] }]);
      });
    });

    describe("list and delete", () => {
      it("when cassettes exist, list returns their paths sorted, and a prefix narrows it", async () => {
        const db = await h.open();
        expect(db.cassettes.list()).toEqual([]);
        for (const path of ["svc/b", "svc/a", "other", "svc/a/deep", "svd"]) await db.cassettes.writeEntry(path, exchange(1));
        expect(db.cassettes.list()).toEqual(["other", "svc/a", "svc/a/deep", "svc/b", "svd"]);
        expect(db.cassettes.list({ prefix: "svc/" })).toEqual(["svc/a", "svc/a/deep", "svc/b"]);
        expect(db.cassettes.list({ prefix: "svc/a" })).toEqual(["svc/a", "svc/a/deep"]);
        expect(db.cassettes.list({ prefix: "" })).toEqual(db.cassettes.list());
        expect(db.cassettes.list({ prefix: "zzz" })).toEqual([]);
        expect(db.cassettes.list({})).toEqual(db.cassettes.list());
      });

      it("when a cassette is deleted, it no longer exists, reads nothing and leaves the list; other cassettes stay", async () => {
        const db = await h.open();
        await db.cassettes.writeEntry("gone", exchange(1));
        await db.cassettes.writeEntry("gone", exchange(2));
        await db.cassettes.writeEntry("stays", exchange(3));
        await db.cassettes.delete("gone");
        expect(db.cassettes.exists("gone")).toBe(false);
        expect(await collect(db.cassettes.readEntries("gone"))).toEqual([]);
        expect(db.cassettes.list()).toEqual(["stays"]);
        expect(await collect(db.cassettes.readEntries("stays"))).toEqual([exchange(3)]);
      });

      it("when a deleted cassette is written again, it holds only the new entries", async () => {
        const db = await h.open();
        await db.cassettes.writeEntry("again", exchange(1));
        await db.cassettes.delete("again");
        await db.cassettes.writeEntry("again", exchange(2));
        expect(await collect(db.cassettes.readEntries("again"))).toEqual([exchange(2)]);
        expect(db.cassettes.exists("again")).toBe(true);
      });

      it("when a missing cassette is deleted, it resolves and writes nothing", async () => {
        const db = await h.open();
        await db.cassettes.writeEntry("x", exchange(1));
        const before = await diskBytes(db);
        await expect(db.cassettes.delete("never")).resolves.toBeUndefined();
        expect(await diskBytes(db)).toBe(before);
      });

      it("when a write and a delete of one path are made without waiting, they take effect in call order", async () => {
        const db = await h.open();
        await Promise.all([db.cassettes.writeEntry("p", exchange(1)), db.cassettes.delete("p"), db.cassettes.writeEntry("p", exchange(2))]);
        expect(await collect(db.cassettes.readEntries("p"))).toEqual([exchange(2)]);
        await Promise.all([db.cassettes.writeEntry("q", exchange(1)), db.cassettes.delete("q")]);
        expect(db.cassettes.exists("q")).toBe(false);
      });
    });

    describe("bad input", () => {
      it("when a path is not a non-empty string, every method refuses it with INVALID_ARGUMENT naming path", async () => {
        const db = await h.open();
        for (const bad of ["", 7, null, undefined, ["a"]]) {
          expect((await rejectsWith(() => db.cassettes.writeEntry(bad as string, exchange(1)), "INVALID_ARGUMENT")).message).toContain("path");
          await iterationFailsWith(() => db.cassettes.readEntries(bad as string), "INVALID_ARGUMENT");
          await rejectsWith(() => db.cassettes.delete(bad as string), "INVALID_ARGUMENT");
          throwsWith(() => db.cassettes.exists(bad as string), "INVALID_ARGUMENT");
        }
      });

      it("when an entry is not a plain object msgpack can encode, writeEntry rejects with INVALID_ARGUMENT naming entry and writes nothing", async () => {
        const db = await h.open();
        const before = await diskBytes(db);
        for (const bad of [null, "entry", 5, [1, 2], new Map([["a", 1]]), { fn: () => 1 }, { s: Symbol("x") }]) {
          expect((await rejectsWith(() => db.cassettes.writeEntry("c", bad as never), "INVALID_ARGUMENT")).message).toContain("entry");
        }
        expect(db.cassettes.exists("c")).toBe(false);
        expect(await diskBytes(db)).toBe(before);
      });

      it("when list's prefix is not a string, it throws INVALID_ARGUMENT", async () => {
        const db = await h.open();
        throwsWith(() => db.cassettes.list({ prefix: 5 as never }), "INVALID_ARGUMENT");
        throwsWith(() => db.cassettes.list("svc" as never), "INVALID_ARGUMENT");
      });

      it("when an entry would make a record over maxRecordBytes, writeEntry rejects with TOO_LARGE and writes nothing", async () => {
        const db = await h.open({ maxRecordBytes: 4096, segmentBytes: 64 * 1024 });
        await db.cassettes.writeEntry("c", exchange(1, "x".repeat(3000)));
        const before = await diskBytes(db);
        await rejectsWith(() => db.cassettes.writeEntry("c", exchange(2, "x".repeat(5000))), "TOO_LARGE");
        expect(await diskBytes(db)).toBe(before);
        expect((await collect(db.cassettes.readEntries("c"))).map((e) => e.n)).toEqual([1]);
      });

      it("when the database is closed or read-only, writes are refused with CLOSED or READ_ONLY", async () => {
        const db = await h.open();
        await db.cassettes.writeEntry("c", exchange(1));
        await db.close();
        await rejectsWith(() => db.cassettes.writeEntry("c", exchange(2)), "CLOSED");
        throwsWith(() => db.cassettes.exists("c"), "CLOSED");
        const ro = await h.open({ readOnly: true });
        expect(await collect(ro.cassettes.readEntries("c"))).toEqual([exchange(1)]);
        await rejectsWith(() => ro.cassettes.writeEntry("c", exchange(2)), "READ_ONLY");
        await rejectsWith(() => ro.cassettes.delete("c"), "READ_ONLY");
      });
    });

    describe("persistence and compaction", () => {
      async function fill(db: Database): Promise<void> {
        for (let n = 0; n < 30; n++) await db.cassettes.writeEntry(`svc/${n % 3}`, exchange(n, "p".repeat(100 + n)));
        await db.cassettes.delete("svc/1");
        await db.cassettes.writeEntry("svc/1", exchange(1000));
      }

      async function expectContent(db: Database): Promise<void> {
        expect(db.cassettes.list()).toEqual(["svc/0", "svc/1", "svc/2"]);
        expect((await collect(db.cassettes.readEntries("svc/0"))).map((e) => e.n)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
        expect(await collect(db.cassettes.readEntries("svc/1"))).toEqual([exchange(1000)]);
        const two = await collect(db.cassettes.readEntries("svc/2"));
        expect(two).toEqual([2, 5, 8, 11, 14, 17, 20, 23, 26, 29].map((n) => exchange(n, "p".repeat(100 + n))));
      }

      it("when the database is reopened, from the checkpoint or by a full replay, every cassette reads back the same", async () => {
        const db = await h.open();
        await fill(db);
        const last = await checkAcrossReopen(h, db, expectContent);
        expect((await last.verify()).ok).toBe(true);
      });

      it("when a deleted cassette is compacted away, its entries' bytes are reclaimed and the others read back the same, also after a full replay", async () => {
        const db = await h.open();
        await fill(db);
        const garbage = (await db.stats()).garbageBytes;
        expect(garbage).toBeGreaterThan(10 * 100);
        const before = await diskBytes(db);
        await db.compact();
        await db.compact();
        expect(before - (await diskBytes(db))).toBeGreaterThan(10 * 100);
        expect((await db.stats()).garbageBytes).toBe(0);
        await expectContent(db);
        const last = await checkAcrossReopen(h, db, expectContent);
        expect((await last.verify()).ok).toBe(true);
      });
    });
  });
}
