/**
 * The event store's side of compaction.
 *
 * Plan: for each stream, the first version to keep (`floor`): everything below it
 * can no longer be read (truncated, deleted, outside retention). Only prefixes
 * are ever dropped, so one number per stream says it all.
 * Keep: an event stays when its version is at or above its stream's floor;
 * stream-metadata records, old snapshots and old position floors never stay,
 * because the snapshot records written at the start of the first rewritten
 * segment carry the same state.
 * Relocate: when that first segment is swapped in, versions below the floors are
 * forgotten; for every swapped segment, locations move to the new offsets and
 * the segment's sparse position entries are rebuilt from the new file, and the
 * query index's lists drop what was not kept.
 */
import { RecordType } from "../../format/constants.js";
import { FrameStatus } from "../../format/record.js";
import { SegmentPositions, type PositionIndex } from "../../index/position-index.js";
import type { QueryIndex } from "../../index/query-index.js";
import { StreamState, type StreamEntry, type StreamTable } from "../../index/stream-table.js";
import { DAMAGED, packLocation } from "../../log/location.js";
import type { Log } from "../../log/log.js";
import { POSITION_INDEX_INTERVAL, SEGMENT_HEADER_BYTES } from "../../limits.js";
import type { SegmentRelocation } from "../context.js";
import { encodePositionFloor, encodeStreamSnapshot, peekPosition, peekStreamVersion } from "./event-codec.js";
import type { EventReader } from "./event-reads.js";

export class EventCompaction {
  private floors = new Map<string, number>();
  private lastPosition = -1;
  private floorsApplied = true;

  constructor(
    private readonly table: StreamTable,
    private readonly positions: PositionIndex,
    private readonly queries: QueryIndex,
    private readonly reader: EventReader,
    private readonly log: Log,
    private readonly clock: () => number,
  ) {}

  plan(): void {
    this.floors.clear();
    const now = this.clock();
    for (const entry of this.table.entries()) {
      if (entry.version < 0) continue;
      this.floors.set(entry.id, this.firstReadable(entry, now));
    }
    this.lastPosition = this.positions.lastPosition;
    this.floorsApplied = false;
  }

  keep(type: number, body: Uint8Array): boolean {
    if (type !== RecordType.Event) return false;
    const k = peekStreamVersion(body);
    return k.version >= (this.floors.get(k.streamId) ?? 0);
  }

  snapshotRecords(): { type: number; body: Uint8Array }[] {
    const out: { type: number; body: Uint8Array }[] = [];
    for (const entry of this.table.entries()) {
      const floor = this.floors.get(entry.id);
      if (floor === undefined) continue;
      if (floor === 0 && entry.minVersion === 0 && entry.state === StreamState.Live && entry.maxCount < 0 && entry.maxAgeMs < 0) continue;
      // encode() reuses its buffer: copy each body out.
      out.push({ type: RecordType.StreamSnapshot, body: encodeStreamSnapshot([entry.id, floor, entry.minVersion, entry.state, entry.maxCount, entry.maxAgeMs]).slice() });
    }
    out.push({ type: RecordType.PositionFloor, body: encodePositionFloor(this.lastPosition).slice() });
    return out;
  }

  relocated(relocation: SegmentRelocation): void {
    if (!this.floorsApplied) {
      // The first swapped segment holds the snapshots: from now on the log says
      // these versions are gone.
      for (const [id, floor] of this.floors) this.table.get(id)?.dropBelow(floor);
      this.floorsApplied = true;
    }
    const map = (location: number) => relocation.map(location);
    for (const entry of this.table.entries()) entry.relocate(relocation.segment, map);
    this.queries.relocate(packLocation(relocation.segment, 0), packLocation(relocation.segment + 1, 0), map);
    this.positions.replaceSegment(relocation.segment, this.rebuildPositions(relocation.segment));
  }

  /** Bytes of event records below the current floors (what a compaction now would drop). */
  garbageBytes(): number {
    const now = this.clock();
    let bytes = 0;
    for (const entry of this.table.entries()) {
      const floor = this.firstReadable(entry, now);
      for (let v = entry.baseVersion; v < floor && v <= entry.version; v++) {
        const location = entry.location(v);
        if (location >= 0) bytes += this.log.reader.frameLength(location);
      }
    }
    return bytes;
  }

  private firstReadable(entry: StreamEntry, now: number): number {
    let floor = Math.max(entry.baseVersion, entry.readableFrom);
    if (entry.state === StreamState.Live && entry.maxAgeMs >= 0) {
      const oldest = now - entry.maxAgeMs;
      while (floor <= entry.version) {
        const location = entry.location(floor);
        if (location === DAMAGED || this.reader.readEvent(location).timestamp >= oldest) break;
        floor++;
      }
    }
    return floor;
  }

  private rebuildPositions(segmentNumber: number): SegmentPositions | undefined {
    const segment = this.log.segment(segmentNumber);
    const cursor = this.log.cursor(segment, SEGMENT_HEADER_BYTES, segment.committedEnd);
    let rebuilt: SegmentPositions | undefined;
    while (cursor.examine() && cursor.status === FrameStatus.Ok) {
      if (cursor.frame.type === RecordType.Event) {
        const position = peekPosition(cursor.body());
        rebuilt ??= new SegmentPositions(segmentNumber);
        if (rebuilt.count === 0) rebuilt.first = position;
        if (rebuilt.count % POSITION_INDEX_INTERVAL === 0) {
          rebuilt.sparse.push(position);
          rebuilt.sparse.push(cursor.offset);
        }
        rebuilt.count++;
        rebuilt.last = position;
      }
      cursor.advance();
    }
    return rebuilt;
  }
}
