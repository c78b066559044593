/**
 * A location names one record: (segment number, byte offset in the segment),
 * packed into one double as segment * 2^32 + offset so that indexes store it in
 * a Float64Array without an object per record. Segment numbers stay below 2^21
 * (limits.ts), which keeps every packed value an exact integer.
 */
const SEGMENT_UNIT = 4294967296;

/** Stands in for a record that recovery knows existed but could not read back. */
export const DAMAGED = -1;

export function packLocation(segment: number, offset: number): number {
  return segment * SEGMENT_UNIT + offset;
}

export function segmentOf(location: number): number {
  return Math.floor(location / SEGMENT_UNIT);
}

export function offsetOf(location: number): number {
  return location % SEGMENT_UNIT;
}
