/**
 * Large batches leave the event loop free: a lone sync write is fsynced on the
 * calling thread up to BLOCKING_SYNC_MAX_BYTES of batch and on a worker above
 * it; a batch of ASYNC_WRITE_MIN_BYTES or more is written on a worker too.
 * A record from DEFERRED_SEAL_MIN_BYTES of body on gets its checksum in the
 * flush loop, a slice a turn: it must come out checksummed whatever way it was
 * framed, dropped by a rollback or moved to the next batch.
 * Driven on a real log at each boundary's three sizes, with writes not awaited,
 * injected write and fsync failures on the worker paths, both durabilities, and
 * a reopen that must hold exactly what was acknowledged.
 */
import { RecordType } from "../../engine/format/constants.js";
import { loadChecksum } from "../../engine/format/checksum.js";
import { ASYNC_WRITE_MIN_BYTES, BLOCKING_SYNC_MAX_BYTES, DEFERRED_SEAL_MIN_BYTES, GroupCommit, type PendingWrite } from "../../engine/log/group-commit.js";
import { Log } from "../../engine/log/log.js";
import { MAX_RECORD_BYTES_LIMIT, RECORD_HEADER_BYTES } from "../../engine/limits.js";
import { CountingFileSystem } from "../support/counting-file-system.js";
import { FaultyFileSystem } from "../support/faulty-file-system.js";
import { patternBytes } from "../support/size-classes.js";
import { useTempDir } from "../support/temp-dir.js";

interface Tracked extends PendingWrite {
  location: number;
  settled: Promise<"ok" | unknown>;
}

function tracked(): Tracked {
  let done!: (v: unknown) => void;
  const w: Tracked = {
    location: -1,
    settled: new Promise((r) => (done = r)),
    apply: (location) => void (w.location = location),
    abort: () => undefined,
    resolve: () => done("ok"),
    reject: (err) => done(err),
  };
  return w;
}

describe("large batches", () => {
  const dir = useTempDir();
  let log: Log | undefined;
  afterEach(() => {
    log?.close();
    log = undefined;
  });

  async function start(fs: CountingFileSystem | FaultyFileSystem, durability: "sync" | "buffered" = "sync"): Promise<GroupCommit> {
    await loadChecksum();
    log = await Log.open(fs, dir.path, 64 * 1024 * 1024, MAX_RECORD_BYTES_LIMIT, false);
    return new GroupCommit(log, durability, 100);
  }

  /** Frames one record whose batch is exactly `batchBytes` long and submits it. */
  function submitRecord(commit: GroupCommit, batchBytes: number, seed: number): { w: Tracked; body: Uint8Array } {
    const body = patternBytes(batchBytes - RECORD_HEADER_BYTES, seed);
    const w = tracked();
    commit.frame(RecordType.ObjectBlob, 1, body);
    commit.submit(w);
    return { w, body };
  }

  it("is fsynced on the calling thread up to the boundary and on a worker past it; each reads back and survives reopen", async () => {
    const fs = new CountingFileSystem();
    const commit = await start(fs);
    const written: { location: number; body: Uint8Array }[] = [];
    for (const [k, batchBytes] of [BLOCKING_SYNC_MAX_BYTES - 1, BLOCKING_SYNC_MAX_BYTES, BLOCKING_SYNC_MAX_BYTES + 1, 4 * 1024 * 1024].entries()) {
      const before = { syncs: fs.syncs, blocking: fs.blockingSyncs };
      const { w, body } = submitRecord(commit, batchBytes, k + 1);
      expect(await w.settled).toBe("ok");
      expect(fs.syncs - before.syncs).toBe(1);
      expect([batchBytes, fs.blockingSyncs - before.blocking]).toEqual([batchBytes, batchBytes <= BLOCKING_SYNC_MAX_BYTES ? 1 : 0]);
      expect(Buffer.compare(log!.reader.read(w.location).body, body)).toBe(0);
      written.push({ location: w.location, body });
    }
    log!.close();
    log = await Log.open(fs, dir.path, 64 * 1024 * 1024, MAX_RECORD_BYTES_LIMIT, false);
    for (const { location, body } of written) expect(Buffer.compare(log.reader.read(location).body, body)).toBe(0);
  });

  it("writes not awaited, large and small, all commit in submit order and read back", async () => {
    const commit = await start(new CountingFileSystem());
    const sizes = [BLOCKING_SYNC_MAX_BYTES + 1, 100, BLOCKING_SYNC_MAX_BYTES, 2 * BLOCKING_SYNC_MAX_BYTES, 40, BLOCKING_SYNC_MAX_BYTES - 1];
    const sent = sizes.map((size, k) => submitRecord(commit, Math.max(size, RECORD_HEADER_BYTES + 1), 100 + k));
    expect(await Promise.all(sent.map((s) => s.w.settled))).toEqual(sizes.map(() => "ok"));
    const locations = sent.map((s) => s.w.location);
    expect([...locations].sort((a, b) => a - b)).toEqual(locations);
    for (const { w, body } of sent) expect(Buffer.compare(log!.reader.read(w.location).body, body)).toBe(0);
  });

  it("a failed fsync on the worker path rejects the write, cuts it off, and leaves what was acknowledged before it", async () => {
    const fs = new FaultyFileSystem(new CountingFileSystem());
    const commit = await start(fs);
    const first = submitRecord(commit, 1000, 7);
    expect(await first.w.settled).toBe("ok");
    fs.failNext("sync", { code: "EIO" });
    const big = submitRecord(commit, BLOCKING_SYNC_MAX_BYTES + 1, 8);
    expect(await big.w.settled).toMatchObject({ code: "IO_ERROR" });
    log!.close();
    log = await Log.open(new CountingFileSystem(), dir.path, 64 * 1024 * 1024, MAX_RECORD_BYTES_LIMIT, false);
    expect(Buffer.compare(log.reader.read(first.w.location).body, first.body)).toBe(0);
    // Nothing of the failed write is left: the active segment ends where the first record did.
    expect(log.active.size).toBe(log.active.committedEnd);
    expect(log.active.size).toBeLessThan(BLOCKING_SYNC_MAX_BYTES);
  });

  for (const durability of ["sync", "buffered"] as const) {
    it(`(${durability}) a batch is written on a worker from ASYNC_WRITE_MIN_BYTES on, with writeSync below; each reads back and survives reopen`, async () => {
      const fs = new CountingFileSystem();
      const commit = await start(fs, durability);
      const written: { location: number; body: Uint8Array }[] = [];
      for (const [k, batchBytes] of [ASYNC_WRITE_MIN_BYTES - 1, ASYNC_WRITE_MIN_BYTES, ASYNC_WRITE_MIN_BYTES + 1, 9 * 1024 * 1024 + 3].entries()) {
        const before = { writes: fs.writes, async: fs.asyncWrites };
        const { w, body } = submitRecord(commit, batchBytes, 50 + k);
        expect(await w.settled).toBe("ok");
        expect(fs.writes - before.writes).toBe(1);
        expect([batchBytes, fs.asyncWrites - before.async]).toEqual([batchBytes, batchBytes >= ASYNC_WRITE_MIN_BYTES ? 1 : 0]);
        expect(Buffer.compare(log!.reader.read(w.location).body, body)).toBe(0);
        written.push({ location: w.location, body });
      }
      await commit.syncNow();
      log!.close();
      log = await Log.open(fs, dir.path, 64 * 1024 * 1024, MAX_RECORD_BYTES_LIMIT, false);
      for (const { location, body } of written) expect(Buffer.compare(log.reader.read(location).body, body)).toBe(0);
    });

    it(`(${durability}) large and small writes not awaited, while the worker writes, all commit in submit order; a failed large write among them takes the queued ones with it and leaves nothing`, async () => {
      const fs = new FaultyFileSystem(new CountingFileSystem());
      const commit = await start(fs, durability);
      const sizes = [ASYNC_WRITE_MIN_BYTES + 7, 100, ASYNC_WRITE_MIN_BYTES, 3 * ASYNC_WRITE_MIN_BYTES, 40, ASYNC_WRITE_MIN_BYTES - 1];
      const good = sizes.map((size, k) => submitRecord(commit, size, 200 + k));
      expect(await Promise.all(good.map((s) => s.w.settled))).toEqual(sizes.map(() => "ok"));
      const locations = good.map((s) => s.w.location);
      expect([...locations].sort((a, b) => a - b)).toEqual(locations);
      for (const { w, body } of good) expect(Buffer.compare(log!.reader.read(w.location).body, body)).toBe(0);
      const end = log!.active.size;
      // A worker write that runs out of space after half its bytes: cut back, the log stays open.
      fs.failNext("write", { code: "ENOSPC", partialBytes: ASYNC_WRITE_MIN_BYTES / 2 });
      const failed = submitRecord(commit, 2 * ASYNC_WRITE_MIN_BYTES, 300);
      const queued = submitRecord(commit, 500, 301);
      expect(await failed.w.settled).toMatchObject({ code: "IO_ERROR" });
      expect(await queued.w.settled).toMatchObject({ code: "IO_ERROR" });
      expect(log!.active.size).toBe(end);
      const after = submitRecord(commit, ASYNC_WRITE_MIN_BYTES + 1, 302);
      expect(await after.w.settled).toBe("ok");
      expect(after.w.location).toBe(locations[locations.length - 1]! + sizes[sizes.length - 1]!);
      await commit.syncNow();
      log!.close();
      log = await Log.open(new CountingFileSystem(), dir.path, 64 * 1024 * 1024, MAX_RECORD_BYTES_LIMIT, false);
      for (const { w, body } of [...good, after]) expect(Buffer.compare(log.reader.read(w.location).body, body)).toBe(0);
      expect(log.active.size).toBe(end + ASYNC_WRITE_MIN_BYTES + 1);
    });
  }

  it("an I/O error in a worker write stops the log (fail-stop), and a reopen holds what was acknowledged before it", async () => {
    const fs = new FaultyFileSystem(new CountingFileSystem());
    const commit = await start(fs);
    const first = submitRecord(commit, ASYNC_WRITE_MIN_BYTES + 1, 400);
    expect(await first.w.settled).toBe("ok");
    fs.failNext("write", { code: "EIO", partialBytes: 4096 });
    const failed = submitRecord(commit, ASYNC_WRITE_MIN_BYTES, 401);
    expect(await failed.w.settled).toMatchObject({ code: "IO_ERROR" });
    const refused = submitRecord(commit, 100, 402);
    expect(await refused.w.settled).toMatchObject({ code: "IO_ERROR" });
    log!.close();
    log = await Log.open(new CountingFileSystem(), dir.path, 64 * 1024 * 1024, MAX_RECORD_BYTES_LIMIT, false);
    expect(Buffer.compare(log.reader.read(first.w.location).body, first.body)).toBe(0);
    // The 4 KiB the failed write left are not a record (recovery cuts them as a torn tail when a database opens).
    expect(() => log!.reader.read(first.w.location + ASYNC_WRITE_MIN_BYTES + 1)).toThrow();
  });

  /** Frames `body` with frame(), framePair() or in place (beginFrame/endFrame), by `how`. */
  function frameBy(commit: GroupCommit, how: number, body: Uint8Array): number {
    if (how % 3 === 0) return commit.frame(RecordType.ObjectBlob, 1, body);
    if (how % 3 === 1) return commit.framePair(RecordType.ObjectBlob, 1, body.subarray(0, 5), body.subarray(5));
    const at = commit.beginFrame(body.length);
    commit.buffer.set(body, at + RECORD_HEADER_BYTES);
    commit.endFrame(at, RecordType.ObjectBlob, 1, body.length);
    return at;
  }

  for (const durability of ["sync", "buffered"] as const) {
    it(`(${durability}) bodies on both sides of DEFERRED_SEAL_MIN_BYTES, framed every way and not awaited, read back checksummed and survive reopen`, async () => {
      const commit = await start(new CountingFileSystem(), durability);
      const D = DEFERRED_SEAL_MIN_BYTES;
      const sizes = [D - 1, D, D + 1, 100, 3 * D + 5, D + 1, 40, D, 2 * D - 1];
      const sent = sizes.map((size, k) => {
        const body = patternBytes(size, 600 + k);
        const w = tracked();
        frameBy(commit, k, body);
        commit.submit(w);
        return { w, body };
      });
      expect(await Promise.all(sent.map((s) => s.w.settled))).toEqual(sizes.map(() => "ok"));
      // The reader checks every record's checksum: an unsealed or wrongly sealed one is CORRUPTION.
      for (const { w, body } of sent) expect(Buffer.compare(log!.reader.read(w.location).body, body)).toBe(0);
      await commit.syncNow();
      log!.close();
      log = await Log.open(new CountingFileSystem(), dir.path, 64 * 1024 * 1024, MAX_RECORD_BYTES_LIMIT, false);
      for (const { w, body } of sent) expect(Buffer.compare(log.reader.read(w.location).body, body)).toBe(0);
    });
  }

  it("a large frame dropped by rollback leaves no checksum to compute in what is framed after it", async () => {
    const commit = await start(new CountingFileSystem());
    for (let how = 0; how < 3; how++) {
      const mark = commit.mark();
      frameBy(commit, how, patternBytes(300, 700 + how));
      frameBy(commit, how, patternBytes(DEFERRED_SEAL_MIN_BYTES + 11, 710 + how));
      commit.rollback(mark);
      // One larger record where the two were: the dropped frame's offset now lies inside its body.
      const body = patternBytes(DEFERRED_SEAL_MIN_BYTES + 4096, 720 + how);
      const w = tracked();
      frameBy(commit, how, body);
      commit.submit(w);
      expect(await w.settled).toBe("ok");
      expect(Buffer.compare(log!.reader.read(w.location).body, body)).toBe(0);
    }
  });

  it("large writes not awaited that overflow a batch move with their pending checksums into the next one", async () => {
    const commit = await start(new CountingFileSystem(), "buffered");
    // 1.5 MiB records, submitted in one turn: batches of 8 MiB fill, and a write that passes the limit opens the next.
    const sent = Array.from({ length: 14 }, (_, k) => {
      const body = patternBytes(DEFERRED_SEAL_MIN_BYTES + DEFERRED_SEAL_MIN_BYTES / 2 + k, 800 + k);
      const w = tracked();
      frameBy(commit, k, body);
      frameBy(commit, k + 1, body.subarray(0, 64));
      commit.submit(w);
      return { w, body };
    });
    expect(await Promise.all(sent.map((s) => s.w.settled))).toEqual(sent.map(() => "ok"));
    for (const { w, body } of sent) expect(Buffer.compare(log!.reader.read(w.location).body, body)).toBe(0);
    await commit.syncNow();
    log!.close();
    log = await Log.open(new CountingFileSystem(), dir.path, 64 * 1024 * 1024, MAX_RECORD_BYTES_LIMIT, false);
    for (const { w, body } of sent) expect(Buffer.compare(log.reader.read(w.location).body, body)).toBe(0);
  });

  it("with fsyncOnWorker a lone small sync write is fsynced on a worker too, never on the calling thread", async () => {
    const fs = new CountingFileSystem();
    await loadChecksum();
    log = await Log.open(fs, dir.path, 64 * 1024 * 1024, MAX_RECORD_BYTES_LIMIT, false);
    const commit = new GroupCommit(log, "sync", 100, true);
    for (const [k, batchBytes] of [100, BLOCKING_SYNC_MAX_BYTES - 1, BLOCKING_SYNC_MAX_BYTES].entries()) {
      const before = { syncs: fs.syncs, blocking: fs.blockingSyncs };
      const { w, body } = submitRecord(commit, batchBytes, 900 + k);
      expect(await w.settled).toBe("ok");
      expect([batchBytes, fs.syncs - before.syncs, fs.blockingSyncs - before.blocking]).toEqual([batchBytes, 1, 0]);
      expect(Buffer.compare(log.reader.read(w.location).body, body)).toBe(0);
    }
  });
});
