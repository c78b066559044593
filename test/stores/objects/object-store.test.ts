/**
 * Runs the object-store contract against the disk engine: with the default
 * options, and with buffered writes and 4 KiB segments so that every rule is
 * also checked across segment rolls. Then what only the disk engine can show:
 * a get reads the object's own record and nothing else.
 */
import { open } from "../../../engine/database.js";
import type { EngineOptions as OpenOptions } from "../../../engine/options.js";
import { useDatabases } from "../../contract/event-store.contract.js";
import { bytesOf, objectStoreContract, sha256Hex } from "../../contract/object-store.contract.js";
import { ReadCountingFileSystem } from "../../support/read-counting-file-system.js";

const disk = { open: (dir: string, options?: OpenOptions) => open(dir, options) };

objectStoreContract("disk, default options", disk);

objectStoreContract("disk, buffered, 4 KiB segments", {
  open: (dir: string, options?: OpenOptions) => open(dir, { durability: "buffered", segmentBytes: 4096, maxRecordBytes: 1024, ...options }),
});

describe("object store on disk", () => {
  const h = useDatabases(disk);

  it("when get is asked for a chunk list (or getChunks for a blob), it says which kind the hash names, as list() shows both", async () => {
    const db = await h.open();
    const list = await db.objects.putChunks([{ timestamp: 1, data: new Uint8Array([1, 2]) }]);
    const blob = await db.objects.put(new Uint8Array([3]));
    expect(db.objects.list()).toEqual(expect.arrayContaining([list, blob]));
    await expect(db.objects.get(list)).rejects.toMatchObject({ code: "NOT_FOUND", message: `object ${list} is a chunk list, not a blob: read it with getChunks()` });
    await expect(db.objects.getChunks(blob)).rejects.toMatchObject({ code: "NOT_FOUND", message: `object ${blob} is a blob, not a chunk list: read it with get()` });
    await expect(db.objects.get("0".repeat(64))).rejects.toMatchObject({ code: "NOT_FOUND", message: `object ${"0".repeat(64)} does not exist` });
  });

  it("when one object of many is read after a reopen, only about its own bytes are read from disk", async () => {
    const db = await h.open();
    const hashes: string[] = [];
    for (let i = 0; i < 20; i++) hashes.push(await db.objects.put(bytesOf(100_000, i + 1)));
    await db.close();
    const fs = new ReadCountingFileSystem();
    const again = await h.open({ fileSystem: fs });
    const before = fs.bytesRead;
    const back = await again.objects.get(hashes[13]!);
    expect(sha256Hex(back)).toBe(hashes[13]);
    const read = fs.bytesRead - before;
    expect(read).toBeGreaterThanOrEqual(100_000);
    expect(read).toBeLessThan(110_000);
  });

  it("when an object of maxRecordBytes minus its envelope is put it fits, and one byte more is TOO_LARGE", async () => {
    // The record is the 32-byte hash and the content (object-codec.ts); the frame's 12-byte header is not counted.
    const db = await h.open({ maxRecordBytes: 64 * 1024, segmentBytes: 256 * 1024 });
    const fits = bytesOf(64 * 1024 - 32, 5);
    expect(await db.objects.put(fits)).toBe(sha256Hex(fits));
    await expect(db.objects.put(bytesOf(64 * 1024 - 31, 6))).rejects.toMatchObject({ code: "TOO_LARGE" });
  });
});
