/**
 * Every width of msgpack length and integer header in an event's envelope:
 * stream ids, ids and types of 31/32 (fixstr → str8), 255/256 (str8 → str16)
 * bytes (ASCII and two-byte UTF-8), versions and positions across 127/128,
 * 255/256 and 65535/65536. The in-place encoder writes them, and three readers
 * take them apart without a full decode — replay (decodeEventKey), compaction
 * (peekStreamVersion) and global scans (peekPosition) — so each is exercised:
 * reads after a replay without checkpoint, after a compaction that must keep
 * exactly the right versions, and after a reopen.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { open } from "../../../engine/database.js";
import type { Database } from "../../../engine/index.js";
import { CHECKPOINT_FILE } from "../../../engine/format/constants.js";
import { useTempDir } from "../../support/temp-dir.js";

const tmp = useTempDir();

const ASCII_LENGTHS = [1, 31, 32, 33, 255, 256, 257];
const STREAM_IDS = [...ASCII_LENGTHS.map((n) => `s${"x".repeat(n - 1)}`), "é".repeat(16), "é".repeat(128), "é".repeat(129)];
const LONG_STREAM = "long";
const LONG_EVENTS = 66_000;

async function write(db: Database): Promise<void> {
  for (const [k, id] of STREAM_IDS.entries()) {
    for (let v = 0; v < 300; v += 100) {
      const n = ASCII_LENGTHS[(k + v / 100) % ASCII_LENGTHS.length]!;
      await db.events.append(
        id,
        Array.from({ length: 100 }, (_, i) => ({ id: `${k}-${v + i}-${"i".repeat(n)}`, type: `T${"t".repeat(n)}`, data: { v: v + i } })),
      );
    }
  }
  for (let v = 0; v < LONG_EVENTS; v += 1000) await db.events.append(LONG_STREAM, Array.from({ length: 1000 }, (_, i) => ({ type: "L", data: v + i })));
}

async function snapshot(db: Database): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const id of STREAM_IDS) {
    const events = await db.events.readStream(id);
    out[id] = { version: db.events.streamVersion(id), events: events.map((e) => [e.version, e.position, e.id, e.type, (e.data as { v: number }).v]) };
  }
  const long = await db.events.readStream(LONG_STREAM);
  out[LONG_STREAM] = { version: db.events.streamVersion(LONG_STREAM), count: long.length, first: long[0]?.version, last: long.at(-1)?.version, data: long.every((e) => e.data === e.version) };
  const all = await db.events.readAll({ from: 60_000, count: 5000 });
  out.all = all.map((e) => `${e.position}:${e.streamId.length}:${e.version}`);
  return out;
}

test("events of every header width read back after replay, compaction and reopen", async () => {
  const dir = join(tmp.path, "db");
  let db = await open(dir, { durability: "buffered", segmentBytes: 1024 * 1024 });
  await write(db);
  const written = await snapshot(db);
  // The versions written are the ones asked for, the positions the ones handed out.
  expect((written as Record<string, { version: number }>)[LONG_STREAM]!.version).toBe(LONG_EVENTS - 1);
  for (const id of STREAM_IDS) expect(db.events.streamVersion(id)).toBe(299);
  await db.close();

  // Replay without checkpoint: every key comes from decodeEventKey.
  rmSync(join(dir, CHECKPOINT_FILE));
  db = await open(dir, { segmentBytes: 1024 * 1024 });
  expect(await snapshot(db)).toEqual(written);

  // Compaction decides with peekStreamVersion which versions to keep.
  await db.events.truncateStream(LONG_STREAM, 65_535);
  for (const id of STREAM_IDS) await db.events.truncateStream(id, 128);
  const truncated = await snapshot(db);
  const report = await db.compact();
  expect(report.recordsDropped).toBeGreaterThan(65_000);
  expect(await snapshot(db)).toEqual(truncated);
  const long = await db.events.readStream(LONG_STREAM);
  expect(long.map((e) => e.version)).toEqual(Array.from({ length: LONG_EVENTS - 65_535 }, (_, i) => 65_535 + i));
  await db.close();

  rmSync(join(dir, CHECKPOINT_FILE));
  db = await open(dir, { segmentBytes: 1024 * 1024 });
  expect(await snapshot(db)).toEqual(truncated);
  expect((await db.verify()).ok).toBe(true);
  await db.close();
}, 120_000);
