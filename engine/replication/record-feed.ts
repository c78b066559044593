/**
 * The event store's records in log order, as replication forwards them: events,
 * stream operations (delete, truncate, retention) and compaction's snapshots and
 * position floors, each with its flags and body exactly as in the segment, and
 * only up to where the log is durable (a buffered write a crash could still take
 * back never leaves the machine).
 *
 * Every record has a key that does not depend on where it lies on disk:
 * (position, index) — the position of the last event at or before it and how
 * many records came after that event (0 for the event itself; position -1
 * before the first event). A database restored from the forwarded records has
 * them in the same order, so the keys carry over and a restored database can
 * resume forwarding where the original stopped.
 */
import { SeglogError } from "../errors.js";
import { FLAG_GROUP_END, RecordType } from "../format/constants.js";
import { FrameStatus } from "../format/record.js";
import type { PositionIndex } from "../index/position-index.js";
import type { Log } from "../log/log.js";
import { SEGMENT_HEADER_BYTES } from "../limits.js";
import { peekPosition } from "../stores/events/event-codec.js";

export interface FeedKey {
  position: number;
  index: number;
}

export interface FeedRecord {
  key: FeedKey;
  type: number;
  flags: number;
  /** A copy: it outlives the scan. */
  body: Uint8Array;
}

const FORWARDED_TYPES = new Set<number>([RecordType.Event, RecordType.StreamMeta, RecordType.StreamSnapshot, RecordType.PositionFloor]);

export function isGroupEnd(flags: number): boolean {
  return (flags & FLAG_GROUP_END) !== 0;
}

export function compareKeys(a: FeedKey, b: FeedKey): number {
  return a.position !== b.position ? a.position - b.position : a.index - b.index;
}

export class RecordFeed {
  private segment: number;
  private offset: number;
  /** The generation of `segment` when the feed got there: compaction rewriting it moves every offset. */
  private generation = -1;
  /** The key of the last record passed (read or skipped). */
  private last: FeedKey;

  private constructor(
    private readonly log: Log,
    segment: number,
    offset: number,
    last: FeedKey,
  ) {
    this.segment = segment;
    this.offset = offset;
    this.last = last;
  }

  /** From the first record of the log. */
  static fromStart(log: Log): RecordFeed {
    const first = log.segments[0];
    return new RecordFeed(log, first?.number ?? 0, SEGMENT_HEADER_BYTES, { position: -1, index: 0 });
  }

  /**
   * Just after the record with `key`, whose body must be `body` (what the other
   * side holds as the last record it has). Throws REPLICATION_CONFLICT when this
   * log does not hold that record: it is ahead of this database, or holds
   * another history.
   */
  static after(log: Log, positions: PositionIndex, key: FeedKey, holds: (body: Uint8Array) => boolean): { feed: RecordFeed; record: FeedRecord } {
    if (key.position > positions.lastPosition) {
      throw conflict(`it holds position ${key.position} and this database ends at ${positions.lastPosition}: the stream is ahead of the local log`);
    }
    let feed: RecordFeed;
    if (key.position < 0) feed = RecordFeed.fromStart(log);
    else {
      const at = locateEvent(log, positions, key.position);
      if (at === undefined) throw conflict(`this database no longer holds position ${key.position} (compacted away before it was forwarded?)`);
      feed = new RecordFeed(log, at.segment, at.offset, { position: key.position, index: -1 });
    }
    const found = feed.next(key.index + (key.position < 0 ? 0 : 1));
    const mine = found[found.length - 1];
    if (mine === undefined || compareKeys(mine.key, key) !== 0) {
      throw conflict(`it holds record ${key.position}.${key.index}, which this database's durable log does not have: the stream is ahead of the local log`);
    }
    if (!holds(mine.body)) {
      throw conflict(`record ${key.position}.${key.index} differs from this database's: the stream holds another database's history`);
    }
    return { feed, record: mine };
  }

  /** Where the next read starts: every forwarded record lies before it. */
  get at(): { segment: number; offset: number } {
    return { segment: this.segment, offset: this.offset };
  }

  /** Up to `max` records after the last one taken, only from durable bytes. */
  next(max: number): FeedRecord[] {
    const out: FeedRecord[] = [];
    const log = this.log;
    while (out.length < max) {
      const segmentIndex = log.segments.findIndex((s) => s.number === this.segment);
      if (segmentIndex < 0) throw new SeglogError("CORRUPTION", `segment ${this.segment} left the log while replication was reading it`);
      const segment = log.segments[segmentIndex]!;
      if (this.generation < 0) this.generation = segment.generation;
      else if (segment.generation !== this.generation) throw new SeglogError("IO_ERROR", `segment ${this.segment} was rewritten by a compaction while replication read it; it looks for its place again`);
      const durableEnd = this.segment < log.durable.segment ? segment.committedEnd : this.segment === log.durable.segment ? Math.min(log.durable.end, segment.committedEnd) : SEGMENT_HEADER_BYTES;
      const cursor = log.cursor(segment, this.offset, durableEnd);
      while (out.length < max && cursor.examine()) {
        if (cursor.status !== FrameStatus.Ok) throw new SeglogError("CORRUPTION", `record at ${segment.path} offset ${cursor.offset} is damaged; replication stops before it`, { file: segment.path, offset: cursor.offset });
        const type = cursor.frame.type;
        if (FORWARDED_TYPES.has(type)) {
          const body = cursor.body();
          const key = type === RecordType.Event ? { position: peekPosition(body), index: 0 } : { position: this.last.position, index: this.last.index + 1 };
          out.push({ key, type, flags: cursor.frame.flags, body: body.slice() });
          this.last = key;
        }
        cursor.advance();
      }
      this.offset = cursor.offset;
      if (out.length >= max) break;
      // Move to the next segment only when this one is sealed and read to its end.
      const nextSegment = log.segments[segmentIndex + 1];
      if (nextSegment === undefined || this.offset < segment.committedEnd || this.segment >= log.durable.segment) break;
      this.segment = nextSegment.number;
      this.offset = SEGMENT_HEADER_BYTES;
      this.generation = -1;
    }
    return out;
  }
}

/** Segment and offset of the event at `position`, found through the sparse index. */
function locateEvent(log: Log, positions: PositionIndex, position: number): { segment: number; offset: number } | undefined {
  const sp = positions.segments[positions.firstSegmentReaching(position)];
  if (sp === undefined || position < sp.first) return undefined;
  const segment = log.segment(sp.segment);
  const cursor = log.cursor(segment, sp.entryOffset(sp.floorEntry(position)), segment.committedEnd);
  while (cursor.examine()) {
    if (cursor.status === FrameStatus.Ok && cursor.frame.type === RecordType.Event) {
      const p = peekPosition(cursor.body());
      if (p === position) return { segment: sp.segment, offset: cursor.offset };
      if (p > position) return undefined;
    }
    cursor.advance();
  }
  return undefined;
}

function conflict(why: string): SeglogError {
  return new SeglogError("REPLICATION_CONFLICT", `the replication stream does not follow this database: ${why}`);
}
