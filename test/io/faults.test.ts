import { open } from "../../engine/database.js";
import { SeglogError } from "../../engine/index.js";
import type { Database } from "../../engine/index.js";
import { FaultyFileSystem } from "../support/faulty-file-system.js";
import { NodeFileSystem } from "../../engine/io/node-file-system.js";
import { useTempDir } from "../support/temp-dir.js";

describe("I/O faults", () => {
  let db: Database | undefined;
  const dir = useTempDir(async () => {
    await db?.close();
    db = undefined;
  });

  it("when an fsync fails, the append rejects with IO_ERROR, the database fails stop for writes but stays readable, and a reopen has every acknowledged event", async () => {
    const fs = new FaultyFileSystem(new NodeFileSystem());
    db = await open(dir.path, { fileSystem: fs });
    await db.events.append("s", [{ type: "T", data: 1 }]);
    fs.failNext("sync", { code: "EIO" });
    const failed = await db.events.append("s", [{ type: "T", data: 2 }]).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(SeglogError);
    expect(failed).toMatchObject({ code: "IO_ERROR" });
    expect((failed as Error).cause).toMatchObject({ code: "EIO" });
    expect(db.health()).toMatchObject({ ok: false, state: "failed" });
    // A retried fsync can falsely succeed on Linux: writes stay refused.
    await expect(db.events.append("s", [{ type: "T", data: 3 }])).rejects.toMatchObject({ code: "IO_ERROR" });
    await expect(db.events.deleteStream("s")).rejects.toMatchObject({ code: "IO_ERROR" });
    // The failed append is not reported durable: readers never saw it.
    expect((await db.events.readStream("s")).map((e) => e.data)).toEqual([1]);
    await db.close();
    db = await open(dir.path);
    expect(db.health()).toEqual({ ok: true, state: "open" });
    // The failed batch was cut off before the failure was reported: only the acknowledged event is there.
    const after = (await db.events.readStream("s")).map((e) => e.data);
    expect(after).toEqual([1]);
    await db.events.append("s", [{ type: "T", data: 4 }]);
    expect(await db.verify()).toMatchObject({ ok: true });
  });

  it("when a write runs out of space, the append rejects with IO_ERROR, nothing of it stays, and appends work again once space is free", async () => {
    const fs = new FaultyFileSystem(new NodeFileSystem());
    db = await open(dir.path, { fileSystem: fs });
    await db.events.append("s", [{ type: "T", data: 1 }]);
    fs.failNext("write", { code: "ENOSPC", partialBytes: 10 });
    await expect(db.events.append("s", [{ type: "T", data: 2 }, { type: "T", data: 3 }], { expectedVersion: 0 })).rejects.toMatchObject({
      code: "IO_ERROR",
      cause: { code: "ENOSPC" },
    });
    expect(db.health()).toEqual({ ok: true, state: "open" });
    expect(db.events.streamVersion("s")).toBe(0);
    const next = await db.events.append("s", [{ type: "T", data: 4 }], { expectedVersion: 0 });
    expect(next.firstVersion).toBe(1);
    expect((await db.events.readStream("s")).map((e) => e.data)).toEqual([1, 4]);
    expect(await db.verify()).toMatchObject({ ok: true });
    await db.close();
    db = await open(dir.path);
    expect((await db.events.readStream("s")).map((e) => e.data)).toEqual([1, 4]);
    expect(await db.verify()).toMatchObject({ ok: true });
  });

  it("when concurrent appends are queued behind a batch whose write fails, every one of them is rejected and none becomes visible", async () => {
    const fs = new FaultyFileSystem(new NodeFileSystem());
    db = await open(dir.path, { fileSystem: fs });
    fs.failNext("write", { code: "ENOSPC" });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => db!.events.append(`s${i}`, [{ type: "T", data: i }], { expectedVersion: "no_stream" })));
    expect(results.every((r) => r.status === "rejected")).toBe(true);
    expect(await db.events.readAll()).toEqual([]);
    // The writer's view was rolled back: "no_stream" holds again.
    await db.events.append("s0", [{ type: "T", data: "again" }], { expectedVersion: "no_stream" });
    expect((await db.events.readAll()).map((e) => e.data)).toEqual(["again"]);
  });

  it("when a read fails, the read rejects with IO_ERROR carrying the system error, and the database stays open for reads and writes", async () => {
    const fs = new FaultyFileSystem(new NodeFileSystem());
    db = await open(dir.path, { fileSystem: fs });
    await db.events.append("s", [{ type: "T", data: 1 }]);
    fs.failNext("read", { code: "EIO" });
    await expect(db.events.readAll()).rejects.toMatchObject({ code: "IO_ERROR", cause: { code: "EIO" } });
    expect(db.health().ok).toBe(true);
    await db.events.append("s", [{ type: "T", data: 2 }]);
    fs.failNext("read", { code: "EIO" });
    await expect(db.events.readStream("s")).rejects.toMatchObject({ code: "IO_ERROR" });
    expect((await db.events.readAll()).map((e) => e.data)).toEqual([1, 2]);
  });

  it("when a write runs out of space while sealed batches of large appends wait behind it, every one is rejected, none is visible, and retries with the same ids then store each once", async () => {
    const fs = new FaultyFileSystem(new NodeFileSystem());
    db = await open(dir.path, { fileSystem: fs, durability: "buffered" });
    await db.events.append("s", [{ type: "T", data: 1 }]);
    fs.failNext("write", { code: "ENOSPC", partialBytes: 4096 });
    // 30 appends of 1 MiB in one tick: several sealed 8 MiB batches queue behind the first.
    const events = (i: number) => [{ id: `e-${i}`, type: "T", data: new Uint8Array(1024 * 1024).fill(i) }];
    const first = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => db!.events.append(`big-${i}`, events(i), { expectedVersion: "no_stream" })));
    expect(first.map((r) => (r.status === "rejected" ? (r.reason as SeglogError).code : "ok"))).toEqual(Array(30).fill("IO_ERROR"));
    expect(db.health().state).toBe("open");
    for (let i = 0; i < 30; i++) expect(db.events.streamVersion(`big-${i}`)).toBe(-1);
    const sizeAfterFailure = (await db.stats()).diskBytes;
    const retried = await Promise.all(Array.from({ length: 30 }, (_, i) => db!.events.append(`big-${i}`, events(i), { expectedVersion: "no_stream" })));
    expect(retried.map((r) => r.firstVersion)).toEqual(Array(30).fill(0));
    expect((await db.stats()).diskBytes).toBeGreaterThan(sizeAfterFailure + 30 * 1024 * 1024);
    await db.close();
    db = await open(dir.path);
    for (let i = 0; i < 30; i++) {
      const read = await db.events.readStream(`big-${i}`);
      expect(read.map((e) => [e.id, (e.data as Uint8Array)[0]])).toEqual([[`e-${i}`, i]]);
    }
    expect(await db.verify()).toMatchObject({ ok: true });
  });

  it("when an fsync fails while sealed batches wait behind it, every queued append is rejected, the database fails, and after a reopen only what resolved is there", async () => {
    const fs = new FaultyFileSystem(new NodeFileSystem());
    db = await open(dir.path, { fileSystem: fs });
    const append = (i: number) => db!.events.append(`big-${i}`, [{ type: "T", data: new Uint8Array(700 * 1024).fill(i) }], { expectedVersion: "no_stream" });
    await Promise.all(Array.from({ length: 10 }, (_, i) => append(i)));
    fs.failNext("sync", { code: "EIO" });
    // 20 appends of 700 KiB in one tick: the first batch's fsync fails with two sealed batches behind it.
    const settled = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => append(10 + i)));
    expect(settled.map((r) => (r.status === "rejected" ? (r.reason as SeglogError).code : "ok"))).toEqual(Array(20).fill("IO_ERROR"));
    const resolved = Array.from({ length: 10 }, (_, i) => i);
    expect(db.health().state).toBe("failed");
    await db.close();
    db = await open(dir.path);
    for (let i = 0; i < 30; i++) {
      const read = await db.events.readStream(`big-${i}`);
      if (resolved.includes(i)) expect(read.map((e) => (e.data as Uint8Array)[0])).toEqual([i]);
      else expect(read).toEqual([]);
    }
    expect(await db.verify()).toMatchObject({ ok: true });
  });
});

