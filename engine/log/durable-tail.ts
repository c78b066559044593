/**
 * The durable tail: where the log's fsynced bytes end, published by the writer
 * in the small file `TAIL` after every successful fsync, for readers in other
 * processes (readOnly opens). A reader never applies a byte past it, so it
 * never returns a record that a crash or power cut could still take back, and
 * it learns of new records by watching this one file instead of the segments.
 *
 * Layout (little-endian, 32 bytes; docs/format.md):
 *   0   1  version (1)
 *   1   7  reserved, 0
 *   8   4  segment number
 *   12  4  reserved, 0
 *   16  8  durable end offset in that segment (u64, below 2^53)
 *   24  4  xxHash32 of bytes [0, 24)
 *   28  4  reserved, 0
 * One pwrite of 32 bytes at offset 0; a reader that meets a torn or stale
 * copy sees a checksum mismatch and looks again at the next change.
 * Nothing is fsynced: it speaks to readers on this machine, and what it said
 * stays true after a crash (bytes below it were fsynced and are valid records,
 * so a writer's recovery never cuts below it); the next fsync moves it on.
 */
import { join } from "node:path";
import { checksum } from "../format/checksum.js";
import type { FileHandle, FileSystem } from "../io/file-system.js";

export const DURABLE_TAIL_FILE = "TAIL";
const VERSION = 1;
const BYTES = 32;

export interface DurableTail {
  segment: number;
  end: number;
}

/** The writer's side: one handle, opened at the first publish, rewritten in place. */
export class DurableTailWriter {
  private readonly buffer = new Uint8Array(BYTES);
  private readonly view = new DataView(this.buffer.buffer);
  private handle: FileHandle | undefined;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
  ) {}

  /**
   * Says that everything below `end` in segment `segment` is durable. A failure
   * here loses no data (the segments hold it); readers only see it later, so it
   * is not allowed to stop the writer.
   */
  publish(segment: number, end: number): void {
    this.buffer.fill(0);
    this.buffer[0] = VERSION;
    this.view.setUint32(8, segment, true);
    this.view.setUint32(16, end % 2 ** 32, true);
    this.view.setUint32(20, Math.floor(end / 2 ** 32), true);
    this.view.setUint32(24, checksum(this.buffer.subarray(0, 24)), true);
    try {
      if (this.handle === undefined) {
        const path = join(this.dir, DURABLE_TAIL_FILE);
        this.handle = this.fs.openWrite(path, !this.fs.exists(path));
      }
      this.handle.write(this.buffer, 0, BYTES, 0);
    } catch {
      // See above: readers catch up at the next publish that works.
    }
  }

  close(): void {
    this.handle?.close();
    this.handle = undefined;
  }
}

/** The published tail, or undefined when there is none (a database no writer of this version has opened) or it is torn. */
export function readDurableTail(fs: FileSystem, dir: string): DurableTail | undefined {
  const path = join(dir, DURABLE_TAIL_FILE);
  let bytes: Uint8Array;
  try {
    if (!fs.exists(path)) return undefined;
    bytes = fs.readFile(path);
  } catch {
    return undefined;
  }
  if (bytes.length < BYTES || bytes[0] !== VERSION) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, BYTES);
  if (view.getUint32(24, true) !== checksum(bytes.subarray(0, 24))) return undefined;
  return { segment: view.getUint32(8, true), end: view.getUint32(16, true) + view.getUint32(20, true) * 2 ** 32 };
}
