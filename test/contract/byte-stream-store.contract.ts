/**
 * The shared behaviour suite for `db.streams` (docs/api.md, "Byte streams" and
 * "Semantics in detail: Byte streams"). Any way of opening a database runs it
 * through `byteStreamStoreContract(name, factory)`.
 *
 * It covers every method of the contract once, and the additions seglog makes
 * for the HTTP protocol (ensure, write, touch, list) where the contract's
 * methods lean on them; test/stores/streams/ goes deeper into forks,
 * producers, TTL, JSON mode and compaction. Tests use the public API only, and
 * check persistence by reopening from the checkpoint and by replaying the whole
 * log with the checkpoint removed.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "../../engine/index.js";
import type { EngineOptions as OpenOptions } from "../../engine/options.js";
import { rejectsWith, throwsWith, useDatabases, type DatabaseFactory, type DatabaseHarness } from "./event-store.contract.js";

export const START = "0000000000000000_0000000000000000";
const OFFSET = /^\d{16}_\d{16}$/;

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** All of a stream from `offset`, as text. */
export async function readAll(db: Database, id: string, offset = "-1"): Promise<string> {
  return str((await db.streams.read(id, offset)).data);
}

/** A clock tests move by hand. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** How the suite reaches the files under a database (the real disk, or a test file system). */
export interface Files {
  exists(path: string): boolean;
  remove(path: string): void;
}

export const diskFiles: Files = { exists: existsSync, remove: (path) => rmSync(path) };

/**
 * Runs `check` now, after a reopen that restores the checkpoint, and after a
 * reopen that replays the whole log (checkpoint removed). Returns the last database.
 */
export async function acrossReopens(
  h: DatabaseHarness,
  db: Database,
  check: (db: Database) => Promise<void>,
  options?: OpenOptions,
  files: Files = diskFiles,
): Promise<Database> {
  await check(db);
  const fromCheckpoint = await h.reopen(db, options);
  await check(fromCheckpoint);
  await fromCheckpoint.close();
  const checkpoint = join(db.dir, "checkpoint.ckpt");
  expect(files.exists(checkpoint)).toBe(true);
  files.remove(checkpoint);
  const replayed = await h.open(options, db.dir);
  await check(replayed);
  return replayed;
}

export function byteStreamStoreContract(name: string, factory: DatabaseFactory, files: Files = diskFiles): void {
  describe(`byte stream store contract (${name})`, () => {
    const h = useDatabases(factory);

    describe("create and metadata", () => {
      it("when a stream is created, its metadata has the content type, the clock's time, the start offset and closed false", async () => {
        const clock = manualClock();
        const db = await h.open({ clock: clock.now });
        await db.streams.create("s", { contentType: "text/plain" });
        expect(db.streams.getMetadata("s")).toEqual({ id: "s", contentType: "text/plain", createdAt: clock.now(), closed: false, offset: START });
        expect(db.streams.currentOffset("s")).toBe(START);
      });

      it("when create is repeated with the same meta or none it is ok; with a different meta it is ALREADY_EXISTS", async () => {
        const db = await h.open();
        await db.streams.create("s", { contentType: "text/plain", ttlSeconds: 60 });
        await db.streams.create("s", { contentType: "text/plain", ttlSeconds: 60 });
        await db.streams.create("s");
        await rejectsWith(() => db.streams.create("s", { contentType: "application/json", ttlSeconds: 60 }), "ALREADY_EXISTS");
        await rejectsWith(() => db.streams.create("s", { contentType: "text/plain", ttlSeconds: 61 }), "ALREADY_EXISTS");
        expect((await db.streams.ensure("s", { contentType: "TEXT/PLAIN", ttlSeconds: 60 })).created).toBe(false);
      });

      it("when a stream is created without a content type, it is application/octet-stream", async () => {
        const db = await h.open();
        const result = await db.streams.ensure("s");
        expect(result.created).toBe(true);
        expect(result.info.contentType).toBe("application/octet-stream");
      });

      it("when arguments are bad, the promise rejects with INVALID_ARGUMENT and sync methods throw NOT_FOUND for missing streams", async () => {
        const db = await h.open();
        await rejectsWith(() => db.streams.create(""), "INVALID_ARGUMENT");
        await rejectsWith(() => db.streams.create("s", { ttlSeconds: -1 }), "INVALID_ARGUMENT");
        await rejectsWith(() => db.streams.create("s", { ttlSeconds: 5, expiresAt: Date.now() + 1000 }), "INVALID_ARGUMENT");
        await rejectsWith(() => db.streams.create("s", { contentType: 42 as unknown as string }), "INVALID_ARGUMENT");
        throwsWith(() => db.streams.getMetadata("missing"), "NOT_FOUND");
        throwsWith(() => db.streams.currentOffset("missing"), "NOT_FOUND");
        await rejectsWith(() => db.streams.read("missing"), "NOT_FOUND");
        await rejectsWith(() => db.streams.append("missing", "x"), "NOT_FOUND");
      });
    });

    describe("append and read", () => {
      it("when bytes are appended, each append returns the new tail and offsets sort in stream order", async () => {
        const db = await h.open();
        await db.streams.create("s");
        const offsets = [START];
        for (const part of ["a", "bb", "ccc", "dddd"]) offsets.push(await db.streams.append("s", part));
        for (const o of offsets) expect(o).toMatch(OFFSET);
        expect([...offsets].sort()).toEqual(offsets);
        expect(new Set(offsets).size).toBe(offsets.length);
        expect(db.streams.currentOffset("s")).toBe(offsets[4]);
        expect(await readAll(db, "s")).toBe("abbcccdddd");
        expect(await readAll(db, "s", offsets[2])).toBe("cccdddd");
      });

      it("when read starts at the tail, it returns no bytes, the same offset and hasMore false", async () => {
        const db = await h.open();
        await db.streams.create("s");
        const tail = await db.streams.append("s", new Uint8Array([0, 255, 7]));
        expect(await db.streams.read("s", tail)).toEqual({ data: new Uint8Array(0), offset: tail, hasMore: false, closed: false });
        const all = await db.streams.read("s");
        expect(Array.from(all.data)).toEqual([0, 255, 7]);
        expect(all.offset).toBe(tail);
      });

      it("when maxBytes is smaller than the data, whole messages come back and one larger message comes back whole", async () => {
        const db = await h.open();
        await db.streams.create("s");
        await db.streams.append("s", "aaaa");
        await db.streams.append("s", "bbbb");
        await db.streams.append("s", "cccccccccc");
        const first = await db.streams.read("s", "-1", { maxBytes: 9 });
        expect(str(first.data)).toBe("aaaabbbb");
        expect(first.hasMore).toBe(true);
        const second = await db.streams.read("s", first.offset, { maxBytes: 3 });
        expect(str(second.data)).toBe("cccccccccc");
        expect(second.hasMore).toBe(false);
        await rejectsWith(() => db.streams.read("s", "-1", { maxBytes: 0 }), "INVALID_ARGUMENT");
      });

      it("when messages are read one by one, each carries the offset after it and the result the last one's", async () => {
        const db = await h.open();
        await db.streams.create("s");
        const o1 = await db.streams.append("s", "x");
        const o2 = await db.streams.append("s", "yy");
        const o3 = await db.streams.append("s", "zzz");
        const r = await db.streams.readMessages("s", undefined, { maxMessages: 2 });
        expect(r.messages.map((m) => [str(m.data), m.offset])).toEqual([["x", o1], ["yy", o2]]);
        expect(r).toMatchObject({ offset: o2, hasMore: true, closed: false });
        const rest = await db.streams.readMessages("s", r.offset);
        expect(rest.messages.map((m) => [str(m.data), m.offset])).toEqual([["zzz", o3]]);
        expect(await db.streams.readMessages("s", o3)).toEqual({ messages: [], offset: o3, hasMore: false, closed: false });
      });

      it("when an offset was never issued by the stream, reads reject with INVALID_ARGUMENT", async () => {
        const db = await h.open();
        await db.streams.create("s");
        const tail = await db.streams.append("s", "hello");
        const middle = "0000000000000001_0000000000000002";
        for (const bad of ["now", "", "abc", "0,1", middle, "0000000000000009_0000000000000009", tail.replace(/5$/, "4")]) {
          await rejectsWith(() => db.streams.read("s", bad), "INVALID_ARGUMENT");
        }
        await rejectsWith(() => db.streams.waitForData("s", "nope", 10), "INVALID_ARGUMENT");
      });

      it("when an append is empty it is INVALID_ARGUMENT and nothing is written", async () => {
        const db = await h.open();
        await db.streams.create("s");
        await rejectsWith(() => db.streams.append("s", ""), "INVALID_ARGUMENT");
        await rejectsWith(() => db.streams.append("s", new Uint8Array(0)), "INVALID_ARGUMENT");
        await rejectsWith(() => db.streams.append("s", 5 as unknown as string), "INVALID_ARGUMENT");
        expect(db.streams.currentOffset("s")).toBe(START);
      });

      it("when seq is given, it must grow as a string compare, else SEQ_CONFLICT and nothing is written", async () => {
        const db = await h.open();
        await db.streams.create("s");
        await db.streams.append("s", "a", { seq: "2" });
        const err = await rejectsWith(() => db.streams.append("s", "b", { seq: "10" }), "SEQ_CONFLICT");
        expect(err.streamId).toBe("s");
        await rejectsWith(() => db.streams.append("s", "b", { seq: "2" }), "SEQ_CONFLICT");
        await db.streams.append("s", "c", { seq: "3" });
        await db.streams.append("s", "d");
        expect(await readAll(db, "s")).toBe("acd");
      });

      it("when appends are not awaited one by one, they land in call order and the second of two equal seqs fails", async () => {
        const db = await h.open();
        await db.streams.create("s");
        const calls = [db.streams.append("s", "1", { seq: "a" }), db.streams.append("s", "2", { seq: "a" }), db.streams.append("s", "3", { seq: "b" })];
        const settled = await Promise.allSettled(calls);
        expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
        expect(await readAll(db, "s")).toBe("13");
      });
    });

    describe("close", () => {
      it("when a stream is closed, appends fail with STREAM_CLOSED, closing again is ok, and reads at the tail say closed", async () => {
        const db = await h.open();
        await db.streams.create("s");
        const o1 = await db.streams.append("s", "a");
        await db.streams.append("s", "b");
        await db.streams.close("s");
        await db.streams.close("s");
        await rejectsWith(() => db.streams.append("s", "c"), "STREAM_CLOSED");
        expect(db.streams.getMetadata("s").closed).toBe(true);
        expect((await db.streams.read("s")).closed).toBe(true);
        const partial = await db.streams.read("s", "-1", { maxBytes: 1 });
        expect(partial).toMatchObject({ offset: o1, hasMore: true, closed: false });
        expect(await db.streams.waitForData("s", db.streams.currentOffset("s"), 5000)).toBe(true);
      });

      it("when the last append closes the stream, data and close land together", async () => {
        const db = await h.open();
        await db.streams.create("s");
        const result = await db.streams.write("s", "final", { close: true });
        expect(result).toMatchObject({ closed: true, duplicate: false });
        expect(await db.streams.read("s")).toMatchObject({ offset: result.offset, closed: true });
        expect(await readAll(db, "s")).toBe("final");
      });
    });

    describe("delete", () => {
      it("when a stream is deleted, it is NOT_FOUND; deleting again is NOT_FOUND; creating it again holds only new data", async () => {
        const db = await h.open();
        await db.streams.create("s", { contentType: "text/plain" });
        await db.streams.append("s", "old data");
        await db.streams.delete("s");
        throwsWith(() => db.streams.getMetadata("s"), "NOT_FOUND");
        await rejectsWith(() => db.streams.read("s"), "NOT_FOUND");
        await rejectsWith(() => db.streams.delete("s"), "NOT_FOUND");
        await db.streams.create("s", { contentType: "application/json" });
        expect(db.streams.currentOffset("s")).toBe(START);
        await db.streams.append("s", '{"new":true}');
        expect(await readAll(db, "s")).toBe('[{"new":true}]');
        expect(db.streams.list()).toEqual(["s"]);
      });
    });

    describe("waitForData", () => {
      it("when data arrives while waiting it resolves true; with nothing it resolves false after the timeout", async () => {
        const db = await h.open();
        await db.streams.create("s");
        const tail = db.streams.currentOffset("s");
        expect(await db.streams.waitForData("s", tail, 20)).toBe(false);
        const waiting = db.streams.waitForData("s", tail, 10_000);
        await db.streams.append("s", "x");
        expect(await waiting).toBe(true);
        expect(await db.streams.waitForData("s", tail, 10_000)).toBe(true);
      });

      it("when the stream closes while waiting it resolves true; when it is deleted the wait rejects NOT_FOUND", async () => {
        const db = await h.open();
        await db.streams.create("a");
        await db.streams.create("b");
        const closing = db.streams.waitForData("a", START, 10_000);
        const deleting = db.streams.waitForData("b", START, 10_000);
        await db.streams.close("a");
        await db.streams.delete("b");
        expect(await closing).toBe(true);
        await rejectsWith(() => deleting, "NOT_FOUND");
      });
    });

    describe("persistence", () => {
      it("when the database is reopened (from the checkpoint, and by replaying the log), every stream reads the same", async () => {
        const db = await h.open();
        await db.streams.create("text", { contentType: "text/plain", ttlSeconds: 3600 });
        const tail = await db.streams.append("text", "hello ", { seq: "001" });
        await db.streams.append("text", "world");
        await db.streams.ensure("json", { contentType: "application/json", data: "[1, 2]" });
        await db.streams.write("json", '{"x": 12345678901234567890}', { close: true });
        await db.streams.create("gone");
        await db.streams.delete("gone");
        const last = await acrossReopens(h, db, async (again) => {
          expect(await readAll(again, "text")).toBe("hello world");
          expect(await readAll(again, "text", tail)).toBe("world");
          expect(again.streams.getMetadata("text")).toMatchObject({ contentType: "text/plain", ttlSeconds: 3600, closed: false });
          expect(await readAll(again, "json")).toBe('[1,2,{"x": 12345678901234567890}]');
          expect(again.streams.getMetadata("json").closed).toBe(true);
          throwsWith(() => again.streams.getMetadata("gone"), "NOT_FOUND");
          expect(again.streams.list()).toEqual(["json", "text"]);
          expect((await again.verify()).ok).toBe(true);
        }, undefined, files);
        await rejectsWith(() => last.streams.append("text", "x", { seq: "001" }), "SEQ_CONFLICT");
        await last.streams.append("text", "!", { seq: "002" });
        expect(await readAll(last, "text")).toBe("hello world!");
      });
    });
  });
}
