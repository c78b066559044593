/**
 * Reads of the event store: by stream through the stream table's locations, and
 * in global order through the sparse position index and segment scans. All reads
 * are synchronous underneath (page-cache reads cost less than a thread-pool hop),
 * which also lets subscriptions wait for commits without a race.
 */
import { corruption, SeglogError } from "../../errors.js";
import { RecordType } from "../../format/constants.js";
import { FrameStatus } from "../../format/record.js";
import type { PositionIndex } from "../../index/position-index.js";
import { StreamState, type StreamEntry, type StreamTable } from "../../index/stream-table.js";
import type { Log } from "../../log/log.js";
import { followedByValidFrame, resynchronise } from "../../log/recovery.js";
import { SCAN_CHUNK_BYTES, SEGMENT_HEADER_BYTES } from "../../limits.js";
import type { RecordedEvent } from "../../types.js";
import { decodeEvent, peekPosition } from "./event-codec.js";
import type { CheckedRead } from "./validation.js";

const decodeRecordBody = (record: { body: Uint8Array }): RecordedEvent => decodeEvent(record.body);

export class EventReader {
  /** Lent to every scan: scans are synchronous, so one buffer serves them all. */
  private scratch = new Uint8Array(SCAN_CHUNK_BYTES);

  constructor(
    private readonly log: Log,
    private readonly table: StreamTable,
    private readonly positions: PositionIndex,
    private readonly clock: () => number,
  ) {}

  readStream(streamId: string, read: CheckedRead): RecordedEvent[] {
    const entry = this.table.get(streamId);
    const out: RecordedEvent[] = [];
    if (entry === undefined || entry.version < 0) return out;
    if (entry.state === StreamState.HardDeleted) {
      throw new SeglogError("STREAM_DELETED", `stream ${streamId} is deleted`, { streamId });
    }
    const lo = entry.readableFrom;
    const hi = entry.version;
    const oldest = this.oldestAllowed(entry);
    if (read.count === 0) return out;
    if (!read.backward) {
      for (let v = Math.max(lo, read.from ?? 0); v <= hi && out.length < read.count; v++) this.collect(entry, v, oldest, out);
    } else {
      for (let v = Math.min(hi, read.from ?? hi); v >= lo && out.length < read.count; v--) this.collect(entry, v, oldest, out);
    }
    return out;
  }

  readEvent(location: number): RecordedEvent {
    return this.log.reader.decodeAt(location, decodeRecordBody);
  }

  readAll(read: CheckedRead): RecordedEvent[] {
    const out: RecordedEvent[] = [];
    if (read.count === 0 || this.positions.lastPosition < 0) return out;
    const now = this.clock();
    if (!read.backward) this.readAllForward(read.from ?? 0, read.count, now, out);
    else this.readAllBackward(read.from ?? this.positions.lastPosition, read.count, now, out);
    return out;
  }

  /** Whether the event would be returned by readStream right now. */
  isVisible(e: RecordedEvent, now: number): boolean {
    return this.isVisibleIn(this.table.get(e.streamId), e, now);
  }

  /** The same, given the event's stream entry (a caller reading many events of one stream looks it up once). */
  isVisibleIn(entry: StreamEntry | undefined, e: RecordedEvent, now: number): boolean {
    if (entry === undefined || entry.state !== StreamState.Live) return false;
    if (e.version < entry.readableFrom || e.version > entry.version) return false;
    return entry.maxAgeMs < 0 || e.timestamp >= now - entry.maxAgeMs;
  }

  private oldestAllowed(entry: StreamEntry): number {
    return entry.maxAgeMs < 0 ? -Infinity : this.clock() - entry.maxAgeMs;
  }

  private collect(entry: StreamEntry, version: number, oldest: number, out: RecordedEvent[]): void {
    const e = this.readEvent(entry.location(version));
    if (e.streamId !== entry.id || e.version !== version) {
      throw corruption(`stream ${entry.id}`, version, "index points at a record of another event");
    }
    if (e.timestamp >= oldest) out.push(e);
  }

  private readAllForward(from: number, count: number, now: number, out: RecordedEvent[]): void {
    const index = this.positions;
    for (let i = index.firstSegmentReaching(from); i < index.segments.length && out.length < count; i++) {
      const sp = index.segments[i]!;
      const segment = this.log.segment(sp.segment);
      // From the segment's start when the read starts before its first event, so
      // damage ahead of that event is met, not jumped over.
      const start = from <= sp.first ? SEGMENT_HEADER_BYTES : sp.entryOffset(sp.floorEntry(from));
      this.scan(sp.segment, start, segment.committedEnd, from, Infinity, now, count, out);
    }
  }

  private readAllBackward(from: number, count: number, now: number, out: RecordedEvent[]): void {
    const index = this.positions;
    const block: RecordedEvent[] = [];
    for (let i = index.lastSegmentStartingBy(from); i >= 0 && out.length < count; i--) {
      const sp = index.segments[i]!;
      const segment = this.log.segment(sp.segment);
      for (let entry = sp.floorEntry(from); entry >= 0 && out.length < count; entry--) {
        const start = entry === 0 ? SEGMENT_HEADER_BYTES : sp.entryOffset(entry);
        const end = entry + 1 < sp.entries ? sp.entryOffset(entry + 1) : segment.committedEnd;
        block.length = 0;
        this.scan(sp.segment, start, end, 0, from, now, Infinity, block);
        for (let k = block.length - 1; k >= 0 && out.length < count; k--) out.push(block[k]!);
      }
    }
  }

  /**
   * Collects visible events with lo <= position <= hi from one range of a segment.
   * Damage is never skipped silently: the walk resynchronises past a bad frame and
   * throws CORRUPTION unless the good events around it prove the lost record lies
   * outside [lo, hi] (the next good position is <= lo, or the last one >= hi).
   */
  private scan(segmentNumber: number, start: number, end: number, lo: number, hi: number, now: number, count: number, out: RecordedEvent[]): void {
    const segment = this.log.segment(segmentNumber);
    const cursor = this.log.cursor(segment, Math.max(start, SEGMENT_HEADER_BYTES), end, this.scratch);
    let previous = -1;
    let damagedAt = -1;
    while (out.length < count && cursor.examine()) {
      if (cursor.status !== FrameStatus.Ok) {
        if (damagedAt < 0) damagedAt = cursor.offset;
        const trusted = cursor.status === FrameStatus.Corrupt && followedByValidFrame(cursor, end);
        if (!resynchronise(cursor, cursor.offset, trusted)) break;
        continue;
      }
      if (cursor.frame.type === RecordType.Event) {
        const body = cursor.body();
        const position = peekPosition(body);
        if (damagedAt >= 0) {
          if (position > lo && previous < hi) throw corruption(segment.path, damagedAt, "record checksum or frame check failed");
          damagedAt = -1;
        }
        previous = position;
        if (position > hi) return;
        if (position >= lo) {
          const e = decodeEvent(body);
          if (this.isVisible(e, now)) out.push(e);
        }
      }
      cursor.advance();
    }
    if (damagedAt >= 0 && previous < hi) throw corruption(segment.path, damagedAt, "record checksum or frame check failed");
  }
}
