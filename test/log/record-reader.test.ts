/**
 * The block cache of random reads (engine/log/record-reader.ts): records that
 * cross a 4 KiB block boundary are put together from the blocks they span, and
 * a damaged byte in any part of such a record is still reported.
 */
import { open } from "../../engine/index.js";
import { SeglogError } from "../../engine/errors.js";
import { flipByte, listSegments } from "../support/damage.js";
import { useTempDir } from "../support/temp-dir.js";

const tmp = useTempDir();
const BLOCK = 4096;

/** Data of event i: sizes from 20 bytes to ~9 KiB, so records start anywhere and some span three blocks. */
function dataOf(i: number): { i: number; pad: string } {
  return { i, pad: "p".repeat((i * 977) % 9000) };
}

async function write(streams: number, perStream: number): Promise<void> {
  const db = await open(tmp.path);
  for (let v = 0; v < perStream; v++) for (let s = 0; s < streams; s++) await db.events.append(`s${s}`, [{ type: "T", data: dataOf(v * streams + s) }]);
  await db.close();
}

test("records crossing block boundaries read back exactly, in any order, through the cache", async () => {
  await write(7, 40);
  const db = await open(tmp.path);
  try {
    const positions = (await db.events.readAll()).map((e) => e.position);
    // Stream by stream, backward, then global: each order meets the blocks differently.
    for (let s = 6; s >= 0; s--) {
      const events = await db.events.readStream(`s${s}`, { direction: "backward" });
      expect(events.map((e) => e.data)).toEqual(Array.from({ length: 40 }, (_, k) => dataOf((39 - k) * 7 + s)));
    }
    expect((await db.events.readAll()).map((e) => e.position)).toEqual(positions);
    const stats = await db.stats();
    // The workload does produce records that span blocks (a wrong stitch could not pass unseen).
    expect(stats.diskBytes).toBeGreaterThan(40 * BLOCK);
  } finally {
    await db.close();
  }
});

test("a flipped byte in the second block of a record that spans blocks is reported as CORRUPTION on read", async () => {
  await write(1, 12);
  const segment = listSegments(tmp.path)[0]!;
  const db0 = await open(tmp.path);
  const events = await db0.events.readStream("s0");
  await db0.close();
  expect(events.length).toBe(12);
  // Event 5's data pad is (5 * 977) % 9000 = 4885 bytes long: it must span a boundary.
  const { readFileSync } = await import("node:fs");
  const file = readFileSync(segment);
  const marker = Buffer.from("p".repeat(4885));
  const start = file.indexOf(marker);
  expect(start).toBeGreaterThan(0);
  const boundary = Math.ceil((start + 1) / BLOCK) * BLOCK;
  expect(boundary).toBeLessThan(start + marker.length);
  flipByte(segment, boundary + 10, 0x01);
  const db = await open(tmp.path);
  try {
    const err = await db.events.readStream("s0").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SeglogError);
    expect((err as SeglogError).code).toBe("CORRUPTION");
    // The events before it still read.
    expect((await db.events.readStream("s0", { count: 5 })).map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4]);
  } finally {
    await db.close();
  }
});

test("when the blocks read exceed the cache, eviction (second chance) keeps every read exact, interleaved with writes", async () => {
  // 6,000 events of ~4 KiB: about 24 MiB of blocks against a cache of 16 MiB.
  const db = await open(tmp.path, { durability: "buffered" });
  try {
    const streams = 600;
    const dataAt = (s: number, v: number): { s: number; v: number; pad: string } => ({ s, v, pad: String.fromCharCode(97 + ((s + v) % 26)).repeat(3900 + ((s * 31 + v) % 300)) });
    for (let v = 0; v < 10; v++) {
      await db.events.appendMany(Array.from({ length: streams }, (_, s) => ({ streamId: `big-${s}`, events: [{ type: "T", data: dataAt(s, v) }] })));
    }
    // Hot streams read again and again between cold ones: their blocks earn a second chance, the cold ones go.
    for (let round = 0; round < 3; round++) {
      for (let s = 0; s < streams; s += 1) {
        const target = s % 5 === 0 ? s % 50 : s;
        const events = await db.events.readStream(`big-${target}`);
        expect(events.map((e) => e.data)).toEqual(Array.from({ length: 10 + round }, (_, v) => dataAt(target, v)));
      }
      await db.events.appendMany(Array.from({ length: streams }, (_, s) => ({ streamId: `big-${s}`, events: [{ type: "T", data: dataAt(s, 10 + round) }] })));
    }
    const all = await db.events.readAll();
    expect(all.length).toBe(streams * 13);
    expect(all.every((e) => (e.data as { pad: string }).pad === dataAt((e.data as { s: number }).s, e.version).pad)).toBe(true);
  } finally {
    await db.close();
  }
});

test("when a record's checksum matches but its body does not decode, the read is CORRUPTION naming the file and offset, without the decoder's words", async () => {
  const db0 = await open(tmp.path);
  for (let i = 0; i < 3; i++) await db0.contexts.setContext(`c${i}`, { note: `marker-${i}-${"m".repeat(20)}` }, 1);
  await db0.close(); // with a checkpoint: the next open does not decode these records again
  const segment = listSegments(tmp.path)[0]!;
  const { readFileSync, writeFileSync } = await import("node:fs");
  const { loadChecksum } = await import("../../engine/format/checksum.js");
  const hash = await loadChecksum();
  const file = readFileSync(segment);
  const at = file.indexOf(Buffer.from("marker-1-"));
  let frame = 32;
  while (frame + 12 + file.readUInt32LE(frame) < at) frame += 12 + file.readUInt32LE(frame);
  const length = file.readUInt32LE(frame);
  file[at - 1] = 0xc1; // the string's header: a byte msgpack never uses, so the document no longer decodes
  file.writeUInt32LE(hash(file.subarray(frame + 8, frame + 12 + length)), frame + 4);
  writeFileSync(segment, file);
  const db = await open(tmp.path);
  try {
    const err = await db.contexts.getContext("c1").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SeglogError);
    const e = err as SeglogError;
    expect(e.code).toBe("CORRUPTION");
    expect(e.file).toBe(segment);
    expect(e.offset).toBe(frame);
    expect(e.message).toBe(`record body does not decode in ${segment} at offset ${frame}`);
    expect((await db.contexts.getContext("c2")).context).toEqual({ note: `marker-2-${"m".repeat(20)}` });
  } finally {
    await db.close();
  }
});
