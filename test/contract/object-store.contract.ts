/**
 * The shared behaviour suite for `db.objects` (docs/api.md, "Object store" and
 * "Semantics in detail: Objects"). Any way of opening a database runs it through
 * `objectStoreContract(name, factory)`.
 *
 * Tests check through the public API only; "one copy" and "writes nothing" are
 * checked with stats().diskBytes, and persistence by reopening the directory
 * from the checkpoint and with a full replay of the log.
 */
import { createHash } from "node:crypto";
import type { Database } from "../../engine/index.js";
import { rejectsWith, throwsWith, useDatabases, type DatabaseFactory } from "./event-store.contract.js";
import { checkAcrossReopen, diskBytes, reopenWithoutCheckpoint } from "./reopen.js";

const MiB = 1024 * 1024;
/** Options for tests that store objects of several MiB, whatever the variant's limits. */
const LARGE = { maxRecordBytes: 8 * MiB, segmentBytes: 16 * MiB };
/** Options for tests that need a small, known record limit. */
const SMALL_LIMIT = { maxRecordBytes: 4096, segmentBytes: 64 * 1024 };

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Deterministic bytes: the same (size, seed) always gives the same content. */
export function bytesOf(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export function objectStoreContract(name: string, factory: DatabaseFactory): void {
  describe(`object store contract (${name})`, () => {
    const h = useDatabases(factory);

    describe("put, get, has, list", () => {
      it("when content is put, the result is its lowercase hex SHA-256 and get returns the same bytes", async () => {
        const db = await h.open();
        const content = text("hello, objects");
        const hash = await db.objects.put(content);
        expect(hash).toBe(sha256Hex(content));
        expect(hash).toMatch(/^[0-9a-f]{64}$/);
        const back = await db.objects.get(hash);
        expect(back).toBeInstanceOf(Uint8Array);
        expect(Array.from(back)).toEqual(Array.from(content));
        expect(db.objects.has(hash)).toBe(true);
        expect(db.objects.list()).toEqual([hash]);
      });

      it("when empty content is put, it is stored under the hash of nothing and reads back empty", async () => {
        const db = await h.open();
        const hash = await db.objects.put(new Uint8Array(0));
        expect(hash).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        expect((await db.objects.get(hash)).length).toBe(0);
      });

      it("when several objects are put, list holds each hash once, sorted", async () => {
        const db = await h.open();
        const hashes: string[] = [];
        for (let i = 0; i < 20; i++) hashes.push(await db.objects.put(text(`object ${i}`)));
        expect(db.objects.list()).toEqual([...hashes].sort());
        for (let i = 0; i < 20; i++) expect(new TextDecoder().decode(await db.objects.get(hashes[i]!))).toBe(`object ${i}`);
      });

      it("when a Buffer or a view into a larger buffer is put, exactly its bytes are stored", async () => {
        const db = await h.open();
        const backing = bytesOf(100, 3);
        const view = backing.subarray(10, 30);
        const hash = await db.objects.put(view);
        expect(hash).toBe(sha256Hex(view));
        expect(Array.from(await db.objects.get(hash))).toEqual(Array.from(view));
        const buffer = Buffer.from("buffer content");
        expect(await db.objects.put(buffer)).toBe(sha256Hex(buffer));
      });

      it("when the same content is put twice, in turn or at once, one copy is stored and the same hash returned", async () => {
        const db = await h.open();
        const content = bytesOf(800, 7);
        const hash = await db.objects.put(content);
        const afterOne = await diskBytes(db);
        expect(await db.objects.put(content.slice())).toBe(hash);
        expect(await diskBytes(db)).toBe(afterOne);
        const other = bytesOf(800, 8);
        const hashes = await Promise.all([1, 2, 3, 4, 5].map(() => db.objects.put(other.slice())));
        expect(new Set(hashes)).toEqual(new Set([sha256Hex(other)]));
        // Five puts at once: one copy, so well under two copies' worth of growth.
        expect((await diskBytes(db)) - afterOne).toBeLessThan(2 * other.length);
        expect(db.objects.list().sort()).toEqual([hash, sha256Hex(other)].sort());
      });

      it("when get's result is changed by the caller, the stored object is not", async () => {
        const db = await h.open();
        const hash = await db.objects.put(text("immutable"));
        const first = await db.objects.get(hash);
        first.fill(0);
        expect(new TextDecoder().decode(await db.objects.get(hash))).toBe("immutable");
      });

      it("when an object of several MiB is put, it reads back byte for byte, also after reopen", async () => {
        const db = await h.open(LARGE);
        const big = bytesOf(5 * MiB + 3, 11);
        const hash = await db.objects.put(big);
        expect(hash).toBe(sha256Hex(big));
        await checkAcrossReopen(h, db, async (d) => {
          const back = await d.objects.get(hash);
          expect(back.length).toBe(big.length);
          expect(Buffer.compare(Buffer.from(back), Buffer.from(big))).toBe(0);
        }, LARGE);
      });

      it("when a hash was never stored, get rejects with NOT_FOUND and has is false", async () => {
        const db = await h.open();
        await db.objects.put(text("something"));
        const missing = sha256Hex(text("never stored"));
        await rejectsWith(() => db.objects.get(missing), "NOT_FOUND");
        await rejectsWith(() => db.objects.get("not-a-hash"), "NOT_FOUND");
        expect(db.objects.has(missing)).toBe(false);
        expect(db.objects.has(missing.toUpperCase())).toBe(false);
      });
    });

    describe("delete", () => {
      it("when an object is deleted, has is false, get is NOT_FOUND and list leaves it out; others stay", async () => {
        const db = await h.open();
        const a = await db.objects.put(text("a"));
        const b = await db.objects.put(text("b"));
        await db.objects.delete(a);
        expect(db.objects.has(a)).toBe(false);
        await rejectsWith(() => db.objects.get(a), "NOT_FOUND");
        expect(db.objects.list()).toEqual([b]);
        expect(new TextDecoder().decode(await db.objects.get(b))).toBe("b");
      });

      it("when a missing hash is deleted, it resolves and writes nothing", async () => {
        const db = await h.open();
        await db.objects.put(text("keep"));
        const before = await diskBytes(db);
        await expect(db.objects.delete(sha256Hex(text("absent")))).resolves.toBeUndefined();
        await expect(db.objects.delete("whatever")).resolves.toBeUndefined();
        expect(await diskBytes(db)).toBe(before);
      });

      it("when deleted content is put again, it is back under the same hash", async () => {
        const db = await h.open();
        const hash = await db.objects.put(text("again"));
        await db.objects.delete(hash);
        expect(await db.objects.put(text("again"))).toBe(hash);
        expect(db.objects.has(hash)).toBe(true);
        expect(new TextDecoder().decode(await db.objects.get(hash))).toBe("again");
      });

      it("when put, delete and put of the same content are called without waiting, the calls take effect in call order", async () => {
        const db = await h.open();
        const content = text("ordered");
        const [h1, , h2] = await Promise.all([db.objects.put(content), db.objects.delete(sha256Hex(content)), db.objects.put(content)]);
        expect(h1).toBe(h2);
        expect(db.objects.has(h1)).toBe(true);
        await Promise.all([db.objects.put(text("gone")), db.objects.delete(sha256Hex(text("gone")))]);
        expect(db.objects.has(sha256Hex(text("gone")))).toBe(false);
      });
    });

    describe("chunk lists", () => {
      const chunks = [
        { timestamp: 1_700_000_000_123, data: text("first") },
        { timestamp: 1_700_000_000_123.5, data: new Uint8Array(0) },
        { timestamp: -5, data: bytesOf(300, 2) },
        { timestamp: 0, data: text("last") },
        { timestamp: Number.MAX_SAFE_INTEGER, data: new Uint8Array([255]) },
      ];

      it("when a chunk list is put, getChunks returns it with every timestamp and byte exact", async () => {
        const db = await h.open();
        const hash = await db.objects.putChunks(chunks);
        expect(hash).toMatch(/^[0-9a-f]{64}$/);
        const back = await db.objects.getChunks(hash);
        expect(back.length).toBe(chunks.length);
        back.forEach((c, i) => {
          expect(c.timestamp).toBe(chunks[i]!.timestamp);
          expect(c.data).toBeInstanceOf(Uint8Array);
          expect(Array.from(c.data)).toEqual(Array.from(chunks[i]!.data));
          expect(Object.keys(c).sort()).toEqual(["data", "timestamp"]);
        });
      });

      it("when the same chunk list is put twice its hash is the same and one copy is kept; another list gets another hash", async () => {
        const db = await h.open();
        const hash = await db.objects.putChunks(chunks);
        const size = await diskBytes(db);
        const copy = chunks.map((c) => ({ timestamp: c.timestamp, data: c.data.slice() }));
        expect(await db.objects.putChunks(copy)).toBe(hash);
        expect(await diskBytes(db)).toBe(size);
        const changed = await db.objects.putChunks([{ ...chunks[0]!, timestamp: chunks[0]!.timestamp + 1 }, ...chunks.slice(1)]);
        expect(changed).not.toBe(hash);
        const reordered = await db.objects.putChunks([...chunks].reverse());
        expect(reordered).not.toBe(hash);
      });

      it("when an empty chunk list is put, it reads back as []", async () => {
        const db = await h.open();
        const hash = await db.objects.putChunks([]);
        expect(await db.objects.getChunks(hash)).toEqual([]);
      });

      it("when a chunk list is stored, has, list and delete see its hash like any object's", async () => {
        const db = await h.open();
        const blob = await db.objects.put(text("blob"));
        const list = await db.objects.putChunks(chunks);
        expect(db.objects.has(list)).toBe(true);
        expect(db.objects.list()).toEqual([blob, list].sort());
        await db.objects.delete(list);
        expect(db.objects.has(list)).toBe(false);
        expect(db.objects.list()).toEqual([blob]);
        await rejectsWith(() => db.objects.getChunks(list), "NOT_FOUND");
      });

      it("when get asks for a chunk list or getChunks for a blob, or the hash is missing, it is NOT_FOUND", async () => {
        const db = await h.open();
        const blob = await db.objects.put(text("blob"));
        const list = await db.objects.putChunks(chunks);
        await rejectsWith(() => db.objects.get(list), "NOT_FOUND");
        await rejectsWith(() => db.objects.getChunks(blob), "NOT_FOUND");
        await rejectsWith(() => db.objects.getChunks(sha256Hex(text("nothing"))), "NOT_FOUND");
      });
    });

    describe("bad input", () => {
      const badContent: [string, unknown][] = [
        ["a string", "text"],
        ["an array of numbers", [1, 2, 3]],
        ["an ArrayBuffer", new ArrayBuffer(4)],
        ["null", null],
        ["undefined", undefined],
        ["a plain object", { 0: 1 }],
      ];

      it("when put is given content that is not a Uint8Array, it rejects with INVALID_ARGUMENT naming content and writes nothing", async () => {
        const db = await h.open();
        const before = await diskBytes(db);
        for (const [, value] of badContent) {
          const err = await rejectsWith(() => db.objects.put(value as Uint8Array), "INVALID_ARGUMENT");
          expect(err.message).toContain("content");
        }
        expect(db.objects.list()).toEqual([]);
        expect(await diskBytes(db)).toBe(before);
      });

      it("when a hash argument is not a non-empty string, every method refuses it with INVALID_ARGUMENT naming hash", async () => {
        const db = await h.open();
        for (const bad of ["", 42, null, undefined, { hash: "x" }]) {
          expect((await rejectsWith(() => db.objects.get(bad as string), "INVALID_ARGUMENT")).message).toContain("hash");
          await rejectsWith(() => db.objects.getChunks(bad as string), "INVALID_ARGUMENT");
          await rejectsWith(() => db.objects.delete(bad as string), "INVALID_ARGUMENT");
          expect(throwsWith(() => db.objects.has(bad as string), "INVALID_ARGUMENT").message).toContain("hash");
        }
      });

      it("when putChunks is given a malformed list, it rejects with INVALID_ARGUMENT naming the place and writes nothing", async () => {
        const db = await h.open();
        const before = await diskBytes(db);
        const ok = { timestamp: 1, data: text("ok") };
        const cases: [unknown, string][] = [
          ["not a list", "chunks"],
          [null, "chunks"],
          [{ 0: ok }, "chunks"],
          [[ok, null], "chunks[1]"],
          [[ok, "chunk"], "chunks[1]"],
          [[{ data: text("x") }], "chunks[0].timestamp"],
          [[{ timestamp: "1", data: text("x") }], "chunks[0].timestamp"],
          [[{ timestamp: NaN, data: text("x") }], "chunks[0].timestamp"],
          [[{ timestamp: Infinity, data: text("x") }], "chunks[0].timestamp"],
          [[ok, { timestamp: 2 }], "chunks[1].data"],
          [[ok, { timestamp: 2, data: "bytes" }], "chunks[1].data"],
          [[ok, { timestamp: 2, data: [1, 2] }], "chunks[1].data"],
        ];
        for (const [value, named] of cases) {
          const err = await rejectsWith(() => db.objects.putChunks(value as never), "INVALID_ARGUMENT");
          expect(err.message).toContain(named);
        }
        expect(db.objects.list()).toEqual([]);
        expect(await diskBytes(db)).toBe(before);
      });

      it("when an object or chunk list would make a record over maxRecordBytes, it rejects with TOO_LARGE and writes nothing", async () => {
        const db = await h.open(SMALL_LIMIT);
        await db.objects.put(bytesOf(3000));
        const before = await diskBytes(db);
        await rejectsWith(() => db.objects.put(bytesOf(4097)), "TOO_LARGE");
        await rejectsWith(() => db.objects.put(bytesOf(4096, 2)), "TOO_LARGE");
        await rejectsWith(() => db.objects.putChunks([{ timestamp: 1, data: bytesOf(2500) }, { timestamp: 2, data: bytesOf(2500, 3) }]), "TOO_LARGE");
        expect(await diskBytes(db)).toBe(before);
        expect(db.objects.list()).toEqual([sha256Hex(bytesOf(3000))]);
      });

      it("when the database is closed, writes reject and has and list throw with CLOSED", async () => {
        const db = await h.open();
        const hash = await db.objects.put(text("x"));
        await db.close();
        await rejectsWith(() => db.objects.put(text("y")), "CLOSED");
        await rejectsWith(() => db.objects.get(hash), "CLOSED");
        await rejectsWith(() => db.objects.delete(hash), "CLOSED");
        throwsWith(() => db.objects.has(hash), "CLOSED");
        throwsWith(() => db.objects.list(), "CLOSED");
      });

      it("when the database is open read-only, objects read and writes reject with READ_ONLY", async () => {
        const db = await h.open();
        const hash = await db.objects.put(text("stored"));
        await db.close();
        const ro = await h.open({ readOnly: true });
        expect(new TextDecoder().decode(await ro.objects.get(hash))).toBe("stored");
        await rejectsWith(() => ro.objects.put(text("new")), "READ_ONLY");
        await rejectsWith(() => ro.objects.putChunks([]), "READ_ONLY");
        await rejectsWith(() => ro.objects.delete(hash), "READ_ONLY");
        expect(ro.objects.has(hash)).toBe(true);
      });
    });

    describe("persistence and compaction", () => {
      async function fill(db: Database): Promise<{ kept: string[]; deleted: string[]; list: string }> {
        const kept: string[] = [];
        const deleted: string[] = [];
        for (let i = 0; i < 12; i++) {
          const hash = await db.objects.put(bytesOf(700 + i, i + 1));
          (i % 3 === 0 ? deleted : kept).push(hash);
        }
        const list = await db.objects.putChunks([{ timestamp: 7.25, data: bytesOf(200, 99) }]);
        for (const hash of deleted) await db.objects.delete(hash);
        return { kept, deleted, list };
      }

      async function expectContent(db: Database, s: { kept: string[]; deleted: string[]; list: string }): Promise<void> {
        expect(db.objects.list()).toEqual([...s.kept, s.list].sort());
        for (const hash of s.kept) expect(sha256Hex(await db.objects.get(hash))).toBe(hash);
        for (const hash of s.deleted) {
          expect(db.objects.has(hash)).toBe(false);
          await rejectsWith(() => db.objects.get(hash), "NOT_FOUND");
        }
        const [chunk] = await db.objects.getChunks(s.list);
        expect(chunk!.timestamp).toBe(7.25);
        expect(Array.from(chunk!.data)).toEqual(Array.from(bytesOf(200, 99)));
      }

      it("when the database is reopened, from the checkpoint or by a full replay, objects, chunk lists and deletes are as they were", async () => {
        const db = await h.open();
        const s = await fill(db);
        const last = await checkAcrossReopen(h, db, (d) => expectContent(d, s));
        // Writes go on after a reopen.
        const more = await last.objects.put(text("after reopen"));
        await last.objects.delete(s.kept[0]!);
        const again = await reopenWithoutCheckpoint(h, last);
        expect(again.objects.has(more)).toBe(true);
        expect(again.objects.has(s.kept[0]!)).toBe(false);
        expect((await again.verify()).ok).toBe(true);
      });

      it("when deleted objects are compacted away, their bytes are reclaimed and nothing deleted comes back, also after a full replay", async () => {
        const db = await h.open();
        const s = await fill(db);
        const garbage = (await db.stats()).garbageBytes;
        expect(garbage).toBeGreaterThanOrEqual(4 * 700);
        const before = await diskBytes(db);
        await db.compact();
        // A second run drops the deletes themselves once what they deleted is gone.
        await db.compact();
        expect(before - (await diskBytes(db))).toBeGreaterThanOrEqual(4 * 700);
        expect((await db.stats()).garbageBytes).toBe(0);
        const last = await checkAcrossReopen(h, db, (d) => expectContent(d, s));
        expect((await last.verify()).ok).toBe(true);
      });
    });
  });
}
