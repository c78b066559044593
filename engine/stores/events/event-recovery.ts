/**
 * How open rebuilds the event store from the log: each record replayed in log
 * order, and what damage hides kept as floors, so that a version or position
 * that was ever assigned is never assigned again.
 *
 * Owns: the keys salvaged from damaged frames until replay ends.
 * Invariant: a stream's version never goes below what any durable record or
 * checkpoint showed; versions the log cannot show any more are DAMAGED.
 */
import { RecordType } from "../../format/constants.js";
import type { PositionIndex } from "../../index/position-index.js";
import { categoryOf, IndexKind, indexKey, type QueryIndex } from "../../index/query-index.js";
import { StreamState, type StreamEntry, type StreamTable } from "../../index/stream-table.js";
import { RECORD_HEADER_BYTES } from "../../limits.js";
import { DAMAGED, offsetOf, packLocation, segmentOf } from "../../log/location.js";
import type { Log } from "../../log/log.js";
import { POSITION_INDEX_INTERVAL, SEGMENT_HEADER_BYTES } from "../../limits.js";
import { FrameStatus } from "../../format/record.js";
import { followedByValidFrame, resynchronise } from "../../log/recovery.js";
import { decodeEventKey, peekPosition, peekStreamVersion, decodeMeta, decodePositionFloor, decodeStreamSnapshot, idHash, MetaOp, salvageEventKey } from "./event-codec.js";

export class EventRecovery {
  private salvaged: { position: number; streamId: string; version: number }[] = [];

  constructor(
    private readonly table: StreamTable,
    private readonly positions: PositionIndex,
    private readonly queries: QueryIndex,
  ) {}

  replay(type: number, body: Uint8Array, location: number): void {
    if (type === RecordType.Event) {
      const k = decodeEventKey(body);
      const entry = this.table.getOrCreate(k.streamId);
      entry.addEvent(k.version, location, idHash(k.id));
      this.positions.add(k.position, segmentOf(location), offsetOf(location));
      this.queries.add(k.type, k.tags, categoryOf(k.streamId), location);
    } else if (type === RecordType.StreamMeta) {
      const [op, streamId, a, b] = decodeMeta(body);
      applyMeta(this.table.getOrCreate(streamId), op, a, b);
    } else if (type === RecordType.StreamSnapshot) {
      const [streamId, firstKept, minVersion, state, maxCount, maxAgeMs] = decodeStreamSnapshot(body);
      const entry = this.table.getOrCreate(streamId);
      entry.dropBelow(firstKept);
      entry.minVersion = Math.max(entry.minVersion, minVersion);
      entry.state = state;
      entry.maxCount = maxCount;
      entry.maxAgeMs = maxAgeMs;
    } else if (type === RecordType.PositionFloor) {
      this.positions.raiseLastPosition(decodePositionFloor(body));
    }
  }

  /**
   * A damaged frame found at open: if its envelope still reads as an event,
   * that version existed. Kept until replay ends; then `finish` holds the
   * stream's version at least that high (the event itself reads as
   * CORRUPTION), so that no later append reuses the number of a lost event.
   */
  salvage(frame: Uint8Array): void {
    if (frame[8] !== RecordType.Event) return;
    const key = salvageEventKey(frame.subarray(RECORD_HEADER_BYTES));
    if (key !== undefined) this.salvaged.push(key);
  }

  /**
   * A checkpoint that no longer describes the segments (so open replayed the
   * log) still lists versions and positions that were durable when it was
   * written. When the replay met damage, they are floors: a version the log no
   * longer shows was lost, not unwritten.
   */
  raiseFloors(section: unknown): void {
    const s = section as { streams?: unknown; lastPosition?: unknown } | undefined;
    if (Array.isArray(s?.streams)) {
      for (const t of s.streams as unknown[]) {
        if (!Array.isArray(t) || typeof t[0] !== "string" || !Number.isSafeInteger(t[1])) continue;
        const entry = this.table.getOrCreate(t[0]);
        if ((t[1] as number) > entry.version) entry.addEvent(t[1] as number, DAMAGED, 0);
      }
    }
    if (Number.isSafeInteger(s?.lastPosition)) this.positions.raiseLastPosition(s!.lastPosition as number);
  }

  /** After the whole replay: salvaged keys become DAMAGED versions. */
  finish(): void {
    // A salvaged key counts only as the very next version of its stream: a
    // damaged byte in the version field would hardly land there.
    for (const key of this.salvaged) {
      const entry = this.table.getOrCreate(key.streamId);
      if (key.version !== entry.version + 1) {
        this.table.forgetIfUnused(entry);
        continue;
      }
      entry.addEvent(key.version, DAMAGED, 0);
      this.positions.raiseLastPosition(key.position);
    }
    this.salvaged = [];
  }
}

/** A stream-metadata record applied to the committed view (at commit and at replay). */
export function applyMeta(entry: StreamEntry, op: MetaOp, a: number, b: number): void {
  switch (op) {
    case MetaOp.SoftDelete:
    case MetaOp.HardDelete:
      entry.state = op === MetaOp.SoftDelete ? StreamState.SoftDeleted : StreamState.HardDeleted;
      entry.minVersion = entry.version + 1;
      break;
    case MetaOp.Truncate:
      entry.minVersion = Math.max(entry.minVersion, Math.min(a, entry.version + 1));
      break;
    case MetaOp.Retention:
      entry.maxCount = a;
      entry.maxAgeMs = b;
      break;
  }
}

/**
 * A stream's offsets and id fingerprints made from the log, for when its
 * checkpoint arrays cannot be read: the segments its runs name are scanned for
 * its events with versions base … base + held − 1. A version found nowhere
 * (damage) stays DAMAGED (offset 0), as replay leaves it.
 */
export function rebuildStreamArrays(log: Log, entry: StreamEntry, held: number, runSegments: readonly number[]): [Uint32Array, Uint32Array] {
  const offsets = new Uint32Array(held);
  const hashes = new Uint32Array(held);
  for (const number of new Set(runSegments)) {
    eachEventIn(log, number, (body, offset) => {
      const { streamId, version } = peekStreamVersion(body);
      const i = version - entry.baseVersion;
      if (streamId === entry.id && i >= 0 && i < held) {
        offsets[i] = offset;
        hashes[i] = idHash(decodeEventKey(body).id);
      }
    });
  }
  return [offsets, hashes];
}

/** A segment's sparse position pairs made from the segment, for when its checkpoint array cannot be read. */
export function rebuildSparsePositions(log: Log, number: number): Float64Array {
  const pairs: number[] = [];
  let count = 0;
  eachEventIn(log, number, (body, offset) => {
    if (count++ % POSITION_INDEX_INTERVAL === 0) pairs.push(peekPosition(body), offset);
  });
  return new Float64Array(pairs);
}

/**
 * One posting list of the query index made from the log, for when its
 * checkpoint array cannot be read: every segment that holds events is scanned.
 */
export function rebuildPostingList(log: Log, positions: PositionIndex, key: string): Float64Array {
  const locations: number[] = [];
  for (const sp of positions.segments) {
    eachEventIn(log, sp.segment, (body, offset) => {
      const k = decodeEventKey(body);
      const category = categoryOf(k.streamId);
      const keys = [indexKey(IndexKind.Type, k.type), ...(k.tags ?? []).map((t) => indexKey(IndexKind.Tag, t))];
      if (category !== undefined) keys.push(indexKey(IndexKind.Category, category));
      if (keys.includes(key)) locations.push(packLocation(sp.segment, offset));
    });
  }
  return new Float64Array(locations);
}

/** Every intact event record of one segment, in order; past damage to the next frame that checks, as every scan does. */
function eachEventIn(log: Log, number: number, visit: (body: Uint8Array, offset: number) => void): void {
  const segment = log.segment(number);
  const cursor = log.cursor(segment, SEGMENT_HEADER_BYTES, segment.committedEnd);
  while (cursor.examine()) {
    if (cursor.status !== FrameStatus.Ok) {
      const trusted = cursor.status === FrameStatus.Corrupt && followedByValidFrame(cursor, segment.committedEnd);
      if (!resynchronise(cursor, cursor.offset, trusted)) break;
      continue;
    }
    if (cursor.frame.type === RecordType.Event) visit(cursor.body(), cursor.offset);
    cursor.advance();
  }
}
