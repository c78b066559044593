/**
 * The global position index: a sparse map from event position to location.
 *
 * Owns: for each segment that holds events, its first and last position and one
 * (position, offset) entry every POSITION_INDEX_INTERVAL events. A lookup lands
 * on the entry at or before the position and scans forward from there.
 * Rebuildable from the log; checkpointed so open need not rebuild it.
 * Invariant: positions grow strictly along the log, so every list here is sorted.
 */
import { POSITION_INDEX_INTERVAL } from "../limits.js";
import type { ArrayArea, ArrayAreaWriter } from "./array-area.js";
import { GrowableFloat64 } from "./growable.js";

export class SegmentPositions {
  first = -1;
  last = -1;
  count = 0;
  private sparseArray = new GrowableFloat64();
  /** After a checkpoint restore, until first used: read the pairs from the checkpoint, or rebuild them from the segment. */
  private deferred: { load(): Float64Array; rebuild(): Float64Array } | undefined;

  constructor(readonly segment: number) {}

  /** Pairs (position, offset). */
  get sparse(): GrowableFloat64 {
    const d = this.deferred;
    if (d !== undefined) {
      let pairs: Float64Array;
      try {
        pairs = d.load();
      } catch {
        // The checkpoint is derived data: the segment holds the same facts.
        pairs = d.rebuild();
      }
      this.deferred = undefined;
      this.sparseArray = GrowableFloat64.over(pairs);
    }
    return this.sparseArray;
  }

  set sparse(value: GrowableFloat64) {
    this.deferred = undefined;
    this.sparseArray = value;
  }

  defer(load: () => Float64Array, rebuild: () => Float64Array): void {
    this.deferred = { load, rebuild };
  }

  /** Index of the sparse entry at or before `position` (entries are pairs). */
  floorEntry(position: number): number {
    let lo = 0;
    let hi = this.sparse.length / 2 - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.sparse.get(mid * 2) <= position) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  entryOffset(entry: number): number {
    return this.sparse.get(entry * 2 + 1);
  }

  get entries(): number {
    return this.sparse.length / 2;
  }
}

/** [segment, first, last, count, sparse pairs' offset in the array area, their element count]. */
type PositionSnapshot = [number, number, number, number, number, number];

export class PositionIndex {
  readonly segments: SegmentPositions[] = [];
  /** Highest position ever assigned and committed; -1 before the first event. */
  lastPosition = -1;

  add(position: number, segment: number, offset: number): void {
    let s = this.segments[this.segments.length - 1];
    if (s === undefined || s.segment !== segment) {
      s = new SegmentPositions(segment);
      this.segments.push(s);
      s.first = position;
    }
    if (s.count % POSITION_INDEX_INTERVAL === 0) {
      s.sparse.push(position);
      s.sparse.push(offset);
    }
    s.count++;
    s.last = position;
    if (position > this.lastPosition) this.lastPosition = position;
  }

  /** Index into `segments` of the first segment whose last position is >= position. */
  firstSegmentReaching(position: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = this.segments.length;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.segments[mid]!.last >= position) {
        found = mid;
        hi = mid - 1;
      } else lo = mid + 1;
    }
    return found;
  }

  /** Index of the last segment whose first position is <= position, or -1. */
  lastSegmentStartingBy(position: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.segments[mid]!.first <= position) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** After compaction rewrote a segment: its entries, rebuilt from the new file (or none left). */
  replaceSegment(segment: number, rebuilt: SegmentPositions | undefined): void {
    const i = this.segments.findIndex((s) => s.segment === segment);
    if (i < 0) return;
    if (rebuilt === undefined) this.segments.splice(i, 1);
    else this.segments[i] = rebuilt;
  }

  /** A position floor written by compaction: positions below it were assigned once. */
  raiseLastPosition(position: number): void {
    if (position > this.lastPosition) this.lastPosition = position;
  }

  snapshot(area: ArrayAreaWriter): PositionSnapshot[] {
    return this.segments.map((s) => {
      const sparse = s.sparse;
      return [s.segment, s.first, s.last, s.count, area.add(sparse.data, sparse.length), sparse.length];
    });
  }

  /** Each segment's sparse pairs stay in the checkpoint until first used; `rebuild` makes them from the segment when that read fails. */
  restore(snapshot: PositionSnapshot[], lastPosition: number, area: ArrayArea, rebuild: (segment: number) => Float64Array): void {
    for (const [segment, first, last, count, at, length] of snapshot) {
      const s = new SegmentPositions(segment);
      s.first = first;
      s.last = last;
      s.count = count;
      s.defer(
        () => area.f64(at, length),
        () => rebuild(segment),
      );
      this.segments.push(s);
    }
    this.lastPosition = lastPosition;
  }

  /** Reads every segment's pairs still deferred to the checkpoint (before compaction rewrites anything). */
  loadAll(): void {
    for (const s of this.segments) void s.sparse;
  }
}
