/**
 * One segment file: a header and records back to back (format in docs/format.md).
 *
 * Owns: the file handle and `size`, the end of the bytes written so far. Only the
 * active (newest) segment is written, by the single writer; sealed segments are
 * immutable until compaction swaps in a rewritten file with a higher generation.
 * `committedEnd` is the end of the records readers may see: it trails `size`
 * while a group commit is between its write and its fsync.
 */
import { corruption, SeglogError } from "../errors.js";
import { segmentFileName } from "../format/constants.js";
import { decodeSegmentHeader, encodeSegmentHeader, type SegmentHeader } from "../format/segment-header.js";
import type { FileHandle, FileSystem } from "../io/file-system.js";
import { SEGMENT_HEADER_BYTES } from "../limits.js";
import { join } from "node:path";

export class Segment {
  size: number;
  committedEnd: number;

  constructor(
    readonly number: number,
    readonly generation: number,
    readonly path: string,
    readonly handle: FileHandle,
    size: number,
  ) {
    this.size = size;
    this.committedEnd = size;
  }

  get name(): string {
    return segmentFileName(this.number);
  }

  /** Reads bytes of the segment; a failing read is IO_ERROR (reads never stop the database). */
  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    try {
      return this.handle.read(buffer, offset, length, position);
    } catch (err) {
      throw new SeglogError("IO_ERROR", `read of ${this.path} at ${position} failed: ${(err as Error).message}`, { cause: err, file: this.path, offset: position });
    }
  }

  close(): void {
    this.handle.close();
  }
}

/** Creates a new, empty segment and makes its existence durable. */
export async function createSegment(fs: FileSystem, dir: string, header: SegmentHeader): Promise<Segment> {
  const path = join(dir, segmentFileName(header.segmentNumber));
  const handle = fs.openWrite(path, true);
  try {
    handle.write(encodeSegmentHeader(header), 0, SEGMENT_HEADER_BYTES, 0);
    await handle.sync();
    await fs.syncDirectory(dir);
  } catch (err) {
    handle.close();
    throw new SeglogError("IO_ERROR", `could not create segment ${path}: ${(err as Error).message}`, { cause: err, file: path });
  }
  return new Segment(header.segmentNumber, header.generation, path, handle, SEGMENT_HEADER_BYTES);
}

/**
 * Opens an existing segment. Returns undefined when its header is torn (a crash
 * while the segment was being created, so it holds no record).
 */
export function openSegment(fs: FileSystem, path: string, expectedNumber: number, writable: boolean): Segment | undefined {
  const handle = writable ? fs.openWrite(path, false) : fs.openRead(path);
  const head = new Uint8Array(SEGMENT_HEADER_BYTES);
  const got = handle.read(head, 0, SEGMENT_HEADER_BYTES, 0);
  let header: SegmentHeader | undefined;
  try {
    header = decodeSegmentHeader(head.subarray(0, got), path);
  } catch (err) {
    handle.close();
    throw err;
  }
  if (header === undefined) {
    const size = handle.size();
    handle.close();
    // Only a file that never got past its header can be a torn creation; a longer
    // one had a whole header once (it is fsynced before the first record).
    if (size > SEGMENT_HEADER_BYTES) throw corruption(path, 0, "segment header checksum failed");
    return undefined;
  }
  if (header.segmentNumber !== expectedNumber) {
    handle.close();
    throw corruption(path, 8, `segment header says number ${header.segmentNumber}`);
  }
  return new Segment(header.segmentNumber, header.generation, path, handle, handle.size());
}
