/**
 * Where the kept records of one rewritten segment went. Old offsets are recorded
 * in ascending order as the rewriter copies, so a lookup is a binary search.
 */
import { GrowableFloat64 } from "../index/growable.js";
import { offsetOf, packLocation, segmentOf } from "../log/location.js";
import type { SegmentRelocation } from "../stores/context.js";

export class Relocation implements SegmentRelocation {
  private readonly oldOffsets = new GrowableFloat64(1024);
  private readonly newOffsets = new GrowableFloat64(1024);

  constructor(readonly segment: number) {}

  record(oldOffset: number, newOffset: number): void {
    this.oldOffsets.push(oldOffset);
    this.newOffsets.push(newOffset);
  }

  get kept(): number {
    return this.oldOffsets.length;
  }

  map(location: number): number {
    if (segmentOf(location) !== this.segment) return location;
    const offset = offsetOf(location);
    let lo = 0;
    let hi = this.oldOffsets.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = this.oldOffsets.get(mid);
      if (at === offset) return packLocation(this.segment, this.newOffsets.get(mid));
      if (at < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
