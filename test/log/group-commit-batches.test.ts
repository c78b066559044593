/**
 * The group commit's batches, driven directly on a real log: a write never
 * commits inside the caller's submit, batches are sealed at their size limit
 * so no segment passes segmentBytes, a frame written in place survives the
 * buffer growing under it, and a failed batch takes every queued write with it.
 */
import * as fs from "node:fs";
import { join } from "node:path";
import { RecordType } from "../../engine/format/constants.js";
import { NodeFileSystem } from "../../engine/io/node-file-system.js";
import { GroupCommit, type PendingWrite } from "../../engine/log/group-commit.js";
import { Log } from "../../engine/log/log.js";
import { offsetOf, segmentOf } from "../../engine/log/location.js";
import { loadChecksum } from "../../engine/format/checksum.js";
import { GROUP_COMMIT_SOFT_LIMIT, MAX_RECORD_BYTES_LIMIT, RECORD_HEADER_BYTES } from "../../engine/limits.js";
import { patternBytes } from "../support/size-classes.js";
import { useTempDir } from "../support/temp-dir.js";

interface Tracked extends PendingWrite {
  applied: number[];
  settled: Promise<"ok" | "failed">;
}

function tracked(): Tracked {
  let done!: (v: "ok" | "failed") => void;
  const settled = new Promise<"ok" | "failed">((r) => (done = r));
  const w: Tracked = {
    applied: [],
    settled,
    apply: (location) => void w.applied.push(location),
    abort: () => undefined,
    resolve: () => done("ok"),
    reject: () => done("failed"),
  };
  return w;
}

describe("group commit batches", () => {
  const dir = useTempDir();
  let log: Log | undefined;
  afterEach(() => {
    log?.close();
    log = undefined;
  });

  async function start(segmentBytes: number, durability: "sync" | "buffered" = "buffered"): Promise<GroupCommit> {
    await loadChecksum();
    log = await Log.open(new NodeFileSystem(), dir.path, segmentBytes, MAX_RECORD_BYTES_LIMIT, false);
    return new GroupCommit(log, durability, 100);
  }

  function readRecord(location: number): Uint8Array {
    const record = log!.reader.read(location);
    return record.body.slice();
  }

  for (const durability of ["sync", "buffered"] as const) {
    it(`when a write takes the batch past its size limit (${durability}), submit returns before any write commits, and each commits once`, async () => {
      const commit = await start(64 * 1024 * 1024, durability);
      const small = tracked();
      commit.frame(RecordType.ObjectBlob, 1, patternBytes(100, 1));
      commit.submit(small);
      const big = tracked();
      const body = patternBytes(GROUP_COMMIT_SOFT_LIMIT + 1, 2);
      commit.frame(RecordType.ObjectBlob, 1, body);
      commit.submit(big);
      // Nothing may commit inside submit: the caller has not registered its write yet.
      expect(small.applied).toEqual([]);
      expect(big.applied).toEqual([]);
      expect(await small.settled).toBe("ok");
      expect(await big.settled).toBe("ok");
      await commit.drain();
      expect(small.applied).toHaveLength(1);
      expect(big.applied).toHaveLength(1);
      expect(Buffer.from(readRecord(big.applied[0]!)).equals(Buffer.from(body))).toBe(true);
      // Written once: the segment holds the two records and nothing more.
      expect(log!.active.size).toBe(32 + RECORD_HEADER_BYTES * 2 + 100 + body.length);
    });
  }

  it("when thousands of writes arrive in one tick with 64 KiB segments, no segment passes 64 KiB and every record reads back", async () => {
    const segmentBytes = 64 * 1024;
    const commit = await start(segmentBytes);
    const writes: { w: Tracked; body: Uint8Array }[] = [];
    for (let i = 0; i < 3000; i++) {
      const body = patternBytes((i * 37) % 3000, i + 1);
      commit.frame(RecordType.ObjectBlob, 1, body);
      const w = tracked();
      commit.submit(w);
      writes.push({ w, body });
    }
    for (const { w } of writes) expect(await w.settled).toBe("ok");
    await commit.drain();
    const files = fs.readdirSync(dir.path).filter((n) => n.endsWith(".seg"));
    expect(files.length).toBeGreaterThan(30);
    for (const f of files) expect(fs.statSync(join(dir.path, f)).size).toBeLessThanOrEqual(segmentBytes);
    let previous = -1;
    for (const { w, body } of writes) {
      const at = w.applied[0]!;
      expect(at).toBeGreaterThan(previous); // commit order is submit order
      previous = at;
      expect(Buffer.from(readRecord(at)).equals(Buffer.from(body))).toBe(true);
    }
  });

  it("when a write alone is larger than a segment, it gets a segment of its own and the next write goes to the next one", async () => {
    const segmentBytes = 64 * 1024;
    const commit = await start(segmentBytes);
    const before = tracked();
    commit.frame(RecordType.ObjectBlob, 0, patternBytes(1000, 3));
    commit.submit(before);
    const group = tracked();
    for (let i = 0; i < 40; i++) commit.frame(RecordType.ObjectBlob, i === 39 ? 1 : 0, patternBytes(3000, 10 + i));
    commit.submit(group);
    const after = tracked();
    commit.frame(RecordType.ObjectBlob, 1, patternBytes(10, 4));
    commit.submit(after);
    for (const w of [before, group, after]) expect(await w.settled).toBe("ok");
    const [a, g, z] = [before.applied[0]!, group.applied[0]!, after.applied[0]!];
    expect(segmentOf(g)).toBe(segmentOf(a) + 1);
    expect(offsetOf(g)).toBe(32);
    expect(segmentOf(z)).toBe(segmentOf(g) + 1);
  });

  it("when a frame written in place grows the batch buffer under it, the bytes written before the growth survive", async () => {
    const commit = await start(64 * 1024 * 1024);
    // Fill the first 64 KiB buffer almost to its end, then write a frame in place across the growth.
    commit.frame(RecordType.ObjectBlob, 1, patternBytes(60 * 1024, 5));
    commit.submit(tracked());
    const at = commit.beginFrame(4096);
    const head = patternBytes(4096, 6);
    commit.buffer.set(head, at + RECORD_HEADER_BYTES);
    const tail = patternBytes(200 * 1024, 7);
    commit.room(at + RECORD_HEADER_BYTES + head.length + tail.length);
    commit.buffer.set(tail, at + RECORD_HEADER_BYTES + head.length);
    commit.endFrame(at, RecordType.ObjectBlob, 1, head.length + tail.length);
    const w = tracked();
    commit.submit(w);
    expect(await w.settled).toBe("ok");
    const body = readRecord(w.applied[0]!);
    expect(Buffer.from(body).equals(Buffer.concat([head, tail]))).toBe(true);
  });

  it("when an index refuses a committed write, the log stops taking writes, no write is left hanging and nothing is written twice", async () => {
    const commit = await start(64 * 1024 * 1024);
    const good = tracked();
    commit.frame(RecordType.ObjectBlob, 1, patternBytes(100, 8));
    commit.submit(good);
    const refused = tracked();
    refused.apply = () => {
      throw new TypeError("an index bug");
    };
    commit.frame(RecordType.ObjectBlob, 1, patternBytes(GROUP_COMMIT_SOFT_LIMIT, 9));
    commit.submit(refused);
    const queued = tracked();
    commit.frame(RecordType.ObjectBlob, 1, patternBytes(100, 10));
    commit.submit(queued);
    expect(await good.settled).toBe("ok");
    expect(await refused.settled).toBe("failed");
    expect(await queued.settled).toBe("failed");
    await commit.drain();
    expect(log!.failed?.code).toBe("IO_ERROR");
    expect(() => log!.checkWritable()).toThrow(/applying a committed batch/);
    // The refused batch went to disk once; the queued one never did.
    const size = log!.active.size;
    expect(size).toBe(32 + 2 * RECORD_HEADER_BYTES + 100 + GROUP_COMMIT_SOFT_LIMIT);
    const later = tracked();
    commit.frame(RecordType.ObjectBlob, 1, patternBytes(10, 11));
    commit.submit(later);
    expect(await later.settled).toBe("failed");
    expect(log!.active.size).toBe(size);
  }, 15_000);
});
