/**
 * Rewrites one sealed segment into `<segment>.cleaned` without the records its
 * stores no longer need. Kept frames are copied byte for byte; the only frame
 * ever changed is the last kept record of an atomic group whose closing record
 * was dropped: it gets the group-end flag and a new checksum, so the group stays
 * closed for recovery. The source is never modified.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { corruption } from "../errors.js";
import { checksum } from "../format/checksum.js";
import { FLAG_GROUP_END } from "../format/constants.js";
import { FrameStatus, sealFrame } from "../format/record.js";
import { encodeSegmentHeader } from "../format/segment-header.js";
import type { FileSystem } from "../io/file-system.js";
import type { Log } from "../log/log.js";
import type { Segment } from "../log/segment.js";
import { RECORD_HEADER_BYTES, SCAN_CHUNK_BYTES, SEGMENT_HEADER_BYTES } from "../limits.js";
import { Relocation } from "./relocation.js";

export const CLEANED_SUFFIX = ".cleaned";
/** Work between two yields to the event loop: small, so appends wait little. */
export const YIELD_BYTES = 128 * 1024;

export interface RewriteResult {
  path: string;
  relocation: Relocation;
  /** Of the dropped records, those of the types the prefix renews (old snapshots). */
  snapshotsReplaced: number;
  recordsDropped: number;
  bytesWritten: number;
}

/** Decides per record whether it stays. */
export type KeepFn = (type: number, body: Uint8Array, location: number) => boolean;

export async function rewriteSegment(
  fs: FileSystem,
  log: Log,
  segment: Segment,
  keep: KeepFn,
  prefix: { type: number; body: Uint8Array }[],
  onBytes: (n: number) => void,
  shouldStop: () => boolean,
): Promise<RewriteResult | undefined> {
  const path = segment.path + CLEANED_SUFFIX;
  fs.remove(path);
  const out = fs.openWrite(path, true);
  const writer = new OutputBuffer(out.write.bind(out));
  const relocation = new Relocation(segment.number);
  let recordsDropped = 0;
  let snapshotsReplaced = 0;
  const renewed = new Set(prefix.map((r) => r.type));
  try {
    writer.append(encodeSegmentHeader({ segmentNumber: segment.number, generation: segment.generation + 1 }));
    for (const r of prefix) writer.frame(r.type, FLAG_GROUP_END, r.body);
    const cursor = log.cursor(segment, SEGMENT_HEADER_BYTES, segment.committedEnd);
    let sinceYield = 0;
    // Offset (in the output) of the last kept record of the group still open, if any.
    let openGroupLastKept = -1;
    while (cursor.examine()) {
      if (cursor.status !== FrameStatus.Ok) throw corruption(segment.path, cursor.offset, "compaction met a damaged record");
      const frame = cursor.frame;
      const body = cursor.body();
      const location = log.locationOf(segment, cursor.offset);
      const ends = (frame.flags & FLAG_GROUP_END) !== 0;
      if (keep(frame.type, body, location)) {
        relocation.record(cursor.offset, writer.position);
        const at = writer.position;
        writer.copyFrame(frame.type, frame.flags, body);
        openGroupLastKept = ends ? -1 : at;
      } else {
        recordsDropped++;
        if (renewed.has(frame.type)) snapshotsReplaced++;
        if (ends && openGroupLastKept >= 0) writer.closeGroupAt(openGroupLastKept);
        if (ends) openGroupLastKept = -1;
      }
      if (ends) writer.flushIfFull();
      sinceYield += frame.frameLength;
      if (sinceYield >= YIELD_BYTES) {
        onBytes(sinceYield);
        sinceYield = 0;
        // Appends, reads and subscriptions run between chunks.
        await nextTurn();
        if (shouldStop()) {
          out.close();
          fs.remove(path);
          return undefined;
        }
      }
      cursor.advance();
    }
    onBytes(sinceYield);
    writer.flush();
    await out.sync();
    out.close();
  } catch (err) {
    out.close();
    fs.remove(path);
    throw err;
  }
  return { path, relocation, recordsDropped, snapshotsReplaced, bytesWritten: writer.position };
}

/**
 * Collects output and writes it in large pieces. A group is never split across a
 * flush, so the frame that closes a group can still be patched in memory.
 */
class OutputBuffer {
  private buf = new Uint8Array(SCAN_CHUNK_BYTES);
  private view = new DataView(this.buf.buffer);
  private length = 0;
  /** File offset of buf[0]. */
  private flushedTo = 0;

  constructor(private readonly write: (b: Uint8Array, o: number, l: number, p: number) => void) {}

  get position(): number {
    return this.flushedTo + this.length;
  }

  append(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  frame(type: number, flags: number, body: Uint8Array): void {
    this.ensure(RECORD_HEADER_BYTES + body.length);
    this.buf.set(body, this.length + RECORD_HEADER_BYTES);
    this.length += sealFrame(this.buf, this.view, this.length, type, flags, body.length);
  }

  /** Copies a verified frame; re-sealing recomputes the same checksum, so bytes are identical. */
  copyFrame(type: number, flags: number, body: Uint8Array): void {
    this.frame(type, flags, body);
  }

  /** Sets the group-end flag of the frame at file offset `at` and reseals it. */
  closeGroupAt(at: number): void {
    const rel = at - this.flushedTo;
    if (rel < 0) throw new Error("seglog invariant broken: a group was flushed before it closed");
    this.buf[rel + 9] = this.buf[rel + 9]! | FLAG_GROUP_END;
    const length = this.view.getUint32(rel, true);
    this.view.setUint32(rel + 4, checksum(this.buf.subarray(rel + 8, rel + RECORD_HEADER_BYTES + length)), true);
  }

  flushIfFull(): void {
    if (this.length >= SCAN_CHUNK_BYTES) this.flush();
  }

  flush(): void {
    if (this.length === 0) return;
    this.write(this.buf, 0, this.length, this.flushedTo);
    this.flushedTo += this.length;
    this.length = 0;
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}
