/**
 * When close writes the checkpoint: only when the log changed since the one on
 * disk was written or trusted. Rewriting an unchanged checkpoint costs as much
 * as the index is large (12 bytes per event), for nothing.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { open } from "../../engine/index.js";
import { CHECKPOINT_FILE } from "../../engine/format/constants.js";
import { loadChecksum } from "../../engine/format/checksum.js";
import { readCheckpoint } from "../../engine/index/checkpoint.js";
import { NodeFileSystem } from "../../engine/io/node-file-system.js";
import { useTempDir } from "../support/temp-dir.js";

const tmp = useTempDir();

beforeAll(async () => {
  await loadChecksum();
});

function checkpointInode(dir: string): number {
  return statSync(join(dir, CHECKPOINT_FILE)).ino;
}

async function fill(dir: string, events: number): Promise<void> {
  const db = await open(dir);
  for (let i = 0; i < events; i++) await db.events.append(`s-${i % 3}`, [{ type: "T", data: { i } }]);
  await db.close();
}

test("an open that writes nothing leaves the checkpoint file as it was", async () => {
  await fill(tmp.path, 30);
  const before = checkpointInode(tmp.path);
  const db = await open(tmp.path);
  expect((await db.events.readAll()).length).toBe(30);
  await db.close();
  // The checkpoint is replaced by rename when written: a rewrite would be a new inode.
  expect(checkpointInode(tmp.path)).toBe(before);
});

test("after an append, close writes a checkpoint that covers it, and the next open trusts it", async () => {
  await fill(tmp.path, 30);
  const before = checkpointInode(tmp.path);
  let db = await open(tmp.path);
  await db.events.append("s-0", [{ type: "T", data: { i: 30 } }]);
  await db.close();
  expect(checkpointInode(tmp.path)).not.toBe(before);
  const body = readCheckpoint(new NodeFileSystem(), tmp.path)!.body;
  const segmentFile = statSync(join(tmp.path, "00000000000000000000.seg"));
  expect(body.logEnd).toEqual([0, segmentFile.size]);
  const after = checkpointInode(tmp.path);
  db = await open(tmp.path);
  expect((await db.events.readStream("s-0")).map((e) => (e.data as { i: number }).i)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30]);
  await db.close();
  expect(checkpointInode(tmp.path)).toBe(after);
});

test("an open without a checkpoint writes one at close even though it appended nothing", async () => {
  await fill(tmp.path, 10);
  const { rmSync } = await import("node:fs");
  rmSync(join(tmp.path, CHECKPOINT_FILE));
  const db = await open(tmp.path);
  await db.close();
  expect(readCheckpoint(new NodeFileSystem(), tmp.path)?.body.logEnd[1]).toBe(statSync(join(tmp.path, "00000000000000000000.seg")).size);
});
