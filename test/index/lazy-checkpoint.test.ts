/**
 * Open reads the checkpoint's header and body only; each stream's index arrays
 * and each segment's sparse positions are read the first time they are needed,
 * checked against their own checksums. A damaged array is never used: the
 * stream's (or segment's) index is rebuilt from the log instead, and every read
 * answers as before.
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { open } from "../../engine/database.js";
import type { Database } from "../../engine/index.js";
import { CHECKPOINT_FILE } from "../../engine/format/constants.js";
import { loadChecksum } from "../../engine/format/checksum.js";
import { readCheckpoint } from "../../engine/index/checkpoint.js";
import { NodeFileSystem } from "../../engine/io/node-file-system.js";
import { ReadCountingFileSystem } from "../support/read-counting-file-system.js";
import { useTempDir } from "../support/temp-dir.js";

const tmp = useTempDir();
const STREAMS = 20;
const EVENTS = 40_000;

beforeAll(async () => {
  await loadChecksum();
});

async function fill(dir: string): Promise<void> {
  const db = await open(dir, { durability: "buffered", segmentBytes: 256 * 1024 });
  for (let i = 0; i < EVENTS; i += 100) {
    await db.events.appendMany(Array.from({ length: 4 }, (_, k) => ({ streamId: `s-${(i / 100 + k * 5) % STREAMS}`, events: Array.from({ length: 25 }, (_, j) => ({ type: "T", data: i + k * 25 + j })) })));
  }
  await db.events.truncateStream("s-3", 100);
  await db.close();
}

async function everything(db: Database): Promise<unknown> {
  const streams: Record<string, unknown> = {};
  for (let s = 0; s < STREAMS; s++) {
    const id = `s-${s}`;
    streams[id] = [db.events.streamVersion(id), (await db.events.readStream(id)).map((e) => [e.version, e.position, e.data, e.id])];
  }
  const all = await db.events.readAll({ from: 12_345, count: 500 });
  const backward = await db.events.readAll({ direction: "backward", count: 300 });
  return { streams, all: all.map((e) => e.position), backward: backward.map((e) => e.position) };
}

/** Where the array area starts and how long it is, from the checkpoint's header. */
function areaOf(dir: string): { start: number; length: number; arrays: number[] } {
  const file = readFileSync(join(dir, CHECKPOINT_FILE));
  const bodyLength = file.readUInt32LE(8);
  const loaded = readCheckpoint(new NodeFileSystem(), dir)!;
  loaded.area.close();
  return { start: Math.ceil((24 + bodyLength) / 8) * 8, length: file.readUInt32LE(16), arrays: loaded.body.arrays! };
}

test("open reads the body, not the index arrays; a stream's arrays are read when that stream is", async () => {
  await fill(tmp.path);
  const size = statSync(join(tmp.path, CHECKPOINT_FILE)).size;
  const { length } = areaOf(tmp.path);
  expect(length).toBeGreaterThan(0.8 * size); // the arrays are nearly all of the file
  const counting = new ReadCountingFileSystem();
  const db = await open(tmp.path, { fileSystem: counting });
  expect(counting.bytesRead).toBeLessThan(0.2 * size);
  const atOpen = counting.bytesRead;
  const one = await db.events.readStream("s-7", { count: 1 });
  expect(one).toHaveLength(1);
  // That stream's two arrays (8 bytes an event) and its first record's block, not the other 19 streams'.
  expect(counting.bytesRead - atOpen).toBeLessThan((8 * EVENTS) / STREAMS + 64 * 1024);
  await db.close();
});

test("every stream and global read answers the same whether the arrays come from the checkpoint or from a replay", async () => {
  await fill(tmp.path);
  const fromCheckpoint = await open(tmp.path, { readOnly: true });
  const expected = await everything(fromCheckpoint);
  await fromCheckpoint.close();
  writeFileSync(join(tmp.path, CHECKPOINT_FILE), new Uint8Array(0)); // no checkpoint: a full replay
  const replayed = await open(tmp.path, { readOnly: true });
  expect(await everything(replayed)).toEqual(expected);
  await replayed.close();
});

test("damage in any array of the checkpoint is never used: that index is rebuilt from the log and every read, append and compaction goes on", async () => {
  await fill(tmp.path);
  const reference = await open(tmp.path, { readOnly: true });
  const expected = await everything(reference);
  await reference.close();
  const pristine = readFileSync(join(tmp.path, CHECKPOINT_FILE));
  const { start, arrays } = areaOf(tmp.path);
  // One damaged array at a time, each kind: stream offsets, id fingerprints, a segment's sparse positions.
  for (let k = 0; k < arrays.length; k += 3 * 7) {
    const [at, bytes] = [arrays[k]!, arrays[k + 1]!];
    if (bytes === 0) continue;
    const file = Buffer.from(pristine);
    file[start + at + Math.floor(bytes / 2)] ^= 0x5a;
    writeFileSync(join(tmp.path, CHECKPOINT_FILE), file);
    const db = await open(tmp.path, { readOnly: true });
    expect({ array: k / 3, reads: await everything(db) }).toEqual({ array: k / 3, reads: expected });
    expect((await db.verify()).ok).toBe(true);
    await db.close();
  }
  // A writer on a damaged checkpoint: appends with ids (the fingerprints), a retry, compaction, reopen.
  const file = Buffer.from(pristine);
  for (let k = 0; k < arrays.length; k += 3) if (arrays[k + 1]! > 0) file[start + arrays[k]!] ^= 0x01;
  writeFileSync(join(tmp.path, CHECKPOINT_FILE), file);
  const db = await open(tmp.path);
  const first = await db.events.append("s-1", [{ id: "late-1", type: "T", data: "late" }]);
  expect(await db.events.append("s-1", [{ id: "late-1", type: "T", data: "late" }])).toEqual(first);
  await db.compact();
  const after = await everything(db);
  await db.close();
  const reopened = await open(tmp.path);
  expect(await everything(reopened)).toEqual(after);
  expect((await reopened.events.readStream("s-1", { direction: "backward", count: 1 }))[0]!.id).toBe("late-1");
  await reopened.close();
});
