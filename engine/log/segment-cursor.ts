/**
 * Walks the frames of one segment from an offset to an end, reading chunks that
 * start at 64 KiB and double up to 1 MiB, so a short page of a read costs one
 * small read and a long scan (readAll, recovery, verify) one read per megabyte.
 * The body view of the current frame stays valid until the next call to
 * `examine()`; callers decode it before moving on. A caller that scans
 * synchronously may lend a scratch buffer, so scans allocate nothing.
 */
import { examineFrame, FrameStatus, newFrameView, type FrameView } from "../format/record.js";
import { RECORD_HEADER_BYTES, SCAN_CHUNK_BYTES } from "../limits.js";
import type { Segment } from "./segment.js";

const FIRST_FILL_BYTES = 64 * 1024;

export class SegmentCursor {
  /** Offset in the segment of the current frame. */
  offset: number;
  readonly frame: FrameView = newFrameView();
  private chunk: Uint8Array;
  private view: DataView;
  private chunkStart = 0;
  private chunkLength = 0;
  private nextFill = FIRST_FILL_BYTES;

  constructor(
    private readonly segment: Segment,
    start: number,
    private readonly end: number,
    private readonly maxBody: number,
    scratch?: Uint8Array,
  ) {
    this.offset = start;
    this.chunk = scratch ?? new Uint8Array(Math.min(FIRST_FILL_BYTES, Math.max(RECORD_HEADER_BYTES, end - start)));
    this.view = new DataView(this.chunk.buffer, this.chunk.byteOffset, this.chunk.byteLength);
  }

  /** Examines the frame at `offset`. Returns false at the end of the range. */
  examine(): boolean {
    if (this.offset >= this.end) return false;
    const rel = this.offset - this.chunkStart;
    if (this.offset < this.chunkStart || rel + RECORD_HEADER_BYTES > this.chunkLength) this.fill(RECORD_HEADER_BYTES);
    let status = examineFrame(this.chunk, this.view, this.offset - this.chunkStart, this.chunkLength, this.maxBody, this.frame).status;
    if (status === FrameStatus.Torn && this.offset + this.frame.frameLength <= this.end && this.frame.frameLength > this.chunkLength - (this.offset - this.chunkStart)) {
      // The frame runs past the chunk, not past the range: read it whole.
      this.fill(this.frame.frameLength);
      status = examineFrame(this.chunk, this.view, 0, this.chunkLength, this.maxBody, this.frame).status;
    }
    return true;
  }

  get status(): FrameStatus {
    return this.frame.status;
  }

  /** The body of the current (Ok) frame. */
  body(): Uint8Array {
    const start = this.frame.bodyStart;
    return this.chunk.subarray(start, start + this.frame.bodyLength);
  }

  /** Moves past the current frame. */
  advance(): void {
    this.offset += this.frame.frameLength;
  }

  seek(offset: number): void {
    this.offset = offset;
  }

  private fill(minimum: number): void {
    const want = Math.max(minimum, Math.min(this.nextFill, this.end - this.offset));
    this.nextFill = Math.min(SCAN_CHUNK_BYTES, this.nextFill * 2);
    if (want > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(want, Math.min(SCAN_CHUNK_BYTES, this.chunk.length * 2)));
      this.view = new DataView(this.chunk.buffer);
    }
    const length = Math.min(want, Math.max(0, this.end - this.offset));
    this.chunkStart = this.offset;
    this.chunkLength = length > 0 ? this.segment.read(this.chunk, 0, length, this.offset) : 0;
  }
}
