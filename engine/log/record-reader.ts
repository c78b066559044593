/**
 * Random-access reads of single records by location. Keeps one small window of
 * the file so that records written next to each other (one append of many
 * events) cost one read. The window never reaches past a segment's committedEnd,
 * so it can never hold bytes of a record that is still being written.
 */
import { corruption, SeglogError } from "../errors.js";
import { examineFrame, FrameStatus, newFrameView, type FrameView } from "../format/record.js";
import { READ_WINDOW_BYTES, RECORD_HEADER_BYTES } from "../limits.js";
import { DAMAGED, offsetOf, segmentOf } from "./location.js";
import type { Segment } from "./segment.js";

export interface RecordView {
  type: number;
  body: Uint8Array;
}

export class RecordReader {
  private window = new Uint8Array(READ_WINDOW_BYTES);
  private view = new DataView(this.window.buffer);
  private windowSegment: Segment | undefined;
  private windowStart = 0;
  private windowLength = 0;
  private readonly frame: FrameView = newFrameView();
  private readonly result: RecordView = { type: 0, body: this.window };

  constructor(
    private readonly segmentFor: (segmentNumber: number) => Segment,
    private readonly maxBody: number,
  ) {}

  /** Reads the record at `location`; its body is valid until the next read. Throws CORRUPTION. */
  read(location: number): RecordView {
    const segment = location === DAMAGED ? undefined : this.segmentFor(segmentOf(location));
    if (segment === undefined) throw new SeglogError("CORRUPTION", "record lost to damage found when the log was opened (see verify())");
    const offset = offsetOf(location);
    let frame = this.examine(segment, offset);
    if (frame.status === FrameStatus.Torn && offset + frame.frameLength <= segment.committedEnd) {
      this.fill(segment, offset, frame.frameLength);
      frame = this.examine(segment, offset);
    }
    if (frame.status !== FrameStatus.Ok) throw corruption(segment.path, offset, "record checksum or frame check failed");
    this.result.type = frame.type;
    this.result.body = this.window.subarray(frame.bodyStart, frame.bodyStart + frame.bodyLength);
    return this.result;
  }

  /** Bytes of the whole frame at `location` (header + body). */
  frameLength(location: number): number {
    return this.read(location).body.length + RECORD_HEADER_BYTES;
  }

  /** Forgets the window (after a segment was truncated or swapped). */
  invalidate(): void {
    this.windowSegment = undefined;
  }

  private examine(segment: Segment, offset: number): FrameView {
    const inWindow =
      this.windowSegment === segment &&
      offset >= this.windowStart &&
      offset + RECORD_HEADER_BYTES <= this.windowStart + this.windowLength;
    if (!inWindow) this.fill(segment, offset, READ_WINDOW_BYTES);
    return examineFrame(this.window, this.view, offset - this.windowStart, this.windowLength, this.maxBody, this.frame);
  }

  private fill(segment: Segment, offset: number, want: number): void {
    if (want > this.window.length) {
      this.window = new Uint8Array(want);
      this.view = new DataView(this.window.buffer);
    }
    const length = Math.max(0, Math.min(want, segment.committedEnd - offset));
    this.windowSegment = segment;
    this.windowStart = offset;
    this.windowLength = length > 0 ? segment.read(this.window, 0, length, offset) : 0;
  }
}
