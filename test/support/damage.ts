/**
 * Test-side knowledge of the on-disk layout, used to damage databases the way
 * crashes and bad disks do. This is an independent oracle: it parses segments
 * with its own few lines of code instead of the engine's decoder, so a bug in the
 * engine's parser cannot hide itself.
 *
 * Segment file: 32-byte header (magic "SGLG", type, writer version, oldest reader
 * version at byte 6, segment number, generation, xxh32 of [0, 28) at [28, 32)),
 * then record frames: u32 body length, u32 xxh32 of [8, 12 + n), u8 type,
 * u8 flags (bit 0 = last record of an atomic group), u16 reserved, n body bytes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import xxhash from "xxhash-wasm";

export const SEGMENT_HEADER_BYTES = 32;
export const RECORD_HEADER_BYTES = 12;
export const FLAG_GROUP_END = 0x01;
export const CHECKPOINT_FILE = "checkpoint.ckpt";

export interface ScannedRecord {
  file: string;
  /** Offset of the frame's first byte in the file. */
  offset: number;
  /** Offset one past the frame's last byte. */
  end: number;
  bodyStart: number;
  bodyLength: number;
  type: number;
  flags: number;
  body: Buffer;
}

let h32: ((bytes: Uint8Array, seed?: number) => number) | undefined;

/** xxHash32 with seed 0, as the engine uses it. */
export async function xxh32(bytes: Uint8Array): Promise<number> {
  h32 ??= (await xxhash()).h32Raw;
  return h32(bytes, 0) >>> 0;
}

/** Segment files of a database, in log order (the last one is the active segment). */
export function listSegments(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => /^[0-9]{20}\.seg$/.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

export function activeSegment(dir: string): string {
  const segments = listSegments(dir);
  if (segments.length === 0) throw new Error(`no segment in ${dir}`);
  return segments[segments.length - 1]!;
}

/**
 * Every whole, checksum-valid record of a segment, in file order. Stops at the
 * first frame that is short, zero-filled or fails its checksum (a fresh file written
 * by the engine has none of those before its end).
 */
export async function scanRecords(file: string): Promise<ScannedRecord[]> {
  const bytes = fs.readFileSync(file);
  const records: ScannedRecord[] = [];
  let at = SEGMENT_HEADER_BYTES;
  while (bytes.length - at >= RECORD_HEADER_BYTES) {
    const bodyLength = bytes.readUInt32LE(at);
    const type = bytes[at + 8]!;
    const flags = bytes[at + 9]!;
    const end = at + RECORD_HEADER_BYTES + bodyLength;
    if (type === 0 || end > bytes.length) break;
    const stored = bytes.readUInt32LE(at + 4);
    if ((await xxh32(bytes.subarray(at + 8, end))) !== stored) break;
    records.push({ file, offset: at, end, bodyStart: at + RECORD_HEADER_BYTES, bodyLength, type, flags, body: bytes.subarray(at + RECORD_HEADER_BYTES, end) });
    at = end;
  }
  return records;
}

export async function scanAllRecords(dir: string): Promise<ScannedRecord[]> {
  const all: ScannedRecord[] = [];
  for (const file of listSegments(dir)) all.push(...(await scanRecords(file)));
  return all;
}

/**
 * The record whose msgpack body holds `needle` (an event id: msgpack keeps strings
 * as raw UTF-8, so a unique id is found byte for byte whatever the body layout).
 */
export async function findRecord(dir: string, needle: string): Promise<ScannedRecord> {
  const want = Buffer.from(needle, "utf8");
  const found = (await scanAllRecords(dir)).filter((r) => r.body.includes(want));
  if (found.length !== 1) throw new Error(`expected one record holding ${needle}, found ${found.length}`);
  return found[0]!;
}

/** Cuts (or extends with zeros) a file to `length` bytes. */
export function cutFile(file: string, length: number): void {
  fs.truncateSync(file, length);
}

export function appendBytes(file: string, bytes: Uint8Array): void {
  fs.appendFileSync(file, bytes);
}

export function readBytes(file: string, offset: number, length: number): Buffer {
  return fs.readFileSync(file).subarray(offset, offset + length);
}

/** XORs one byte in place (mask 0 would change nothing, so it is refused). */
export function flipByte(file: string, offset: number, mask = 0xff): void {
  if ((mask & 0xff) === 0) throw new Error("flipByte needs a non-zero mask");
  const fd = fs.openSync(file, "r+");
  try {
    const one = Buffer.alloc(1);
    if (fs.readSync(fd, one, 0, 1, offset) !== 1) throw new Error(`${file} has no byte at ${offset}`);
    one[0] = one[0]! ^ mask;
    fs.writeSync(fd, one, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
}

export function overwrite(file: string, offset: number, bytes: Uint8Array): void {
  const fd = fs.openSync(file, "r+");
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Rewrites a segment header so that it needs reader version `version` (byte 6, the
 * oldest reader that understands the file) and still carries a valid header
 * checksum: a well-formed file from a future seglog. Nothing else changes.
 */
export async function forgeHeaderVersion(file: string, version: number): Promise<void> {
  const header = Buffer.from(readBytes(file, 0, SEGMENT_HEADER_BYTES));
  if (header.toString("latin1", 0, 4) !== "SGLG") throw new Error(`${file} does not start with SGLG`);
  header[6] = version;
  header.writeUInt32LE(await xxh32(header.subarray(0, 28)), 28);
  overwrite(file, 0, header);
}

export function deleteCheckpoint(dir: string): void {
  fs.rmSync(path.join(dir, CHECKPOINT_FILE), { force: true });
}

export function hasCheckpoint(dir: string): boolean {
  return fs.existsSync(path.join(dir, CHECKPOINT_FILE));
}

/** Copies a closed database directory (for cases that each damage a fresh copy). */
export function copyDatabase(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}
