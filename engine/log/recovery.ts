/**
 * Recovery: replays the log written after the checkpoint and decides, record by
 * record, what a crash left behind. The decision table is docs/recovery.md; the
 * passes here follow it:
 *
 *   1. Walk each segment from the start point, frame by frame.
 *   2. Records of an atomic group are held back until the group's last record
 *      (flag bit 0) is seen, then replayed together.
 *   3. In the newest segment, a bad frame with no intact frame anywhere after it
 *      starts the torn tail: the file is cut back to the start of the open group
 *      (only the writer cuts; a read-only open just stops there). An intact frame
 *      after it means acknowledged records follow: that is damage, not a tear,
 *      and nothing is cut.
 *   4. Anywhere else a bad frame is damage: it is reported, never replayed, and
 *      the walk resynchronises on the next valid frame.
 */
import { FLAG_GROUP_END } from "../format/constants.js";
import { FrameStatus } from "../format/record.js";
import { SEGMENT_HEADER_BYTES } from "../limits.js";
import { offsetOf, packLocation } from "./location.js";
import { SegmentCursor } from "./segment-cursor.js";
import type { Segment } from "./segment.js";

export type ReplayFn = (type: number, body: Uint8Array, location: number) => void;

export interface Damage {
  file: string;
  offset: number;
  reason: string;
}

export interface RecoveryResult {
  damage: Damage[];
  /** Intact frames whose bodies their store refused: only open can tell, so verify() repeats these. */
  rejected: Damage[];
  /** Bytes cut (or, read-only, ignored) from the end of the newest segment. */
  tornBytes: number;
  records: number;
}

interface HeldRecord {
  type: number;
  body: Uint8Array;
  location: number;
}

export function recover(
  segments: Segment[],
  startIndex: number,
  startOffset: number,
  maxBody: number,
  readOnly: boolean,
  replay: ReplayFn,
): RecoveryResult {
  const result: RecoveryResult = { damage: [], rejected: [], tornBytes: 0, records: 0 };
  for (let i = startIndex; i < segments.length; i++) {
    const segment = segments[i]!;
    const from = i === startIndex ? startOffset : SEGMENT_HEADER_BYTES;
    const validEnd = walkSegment(segment, from, i === segments.length - 1, maxBody, replay, result);
    if (validEnd < segment.size) {
      result.tornBytes += segment.size - validEnd;
      if (!readOnly) segment.handle.truncate(validEnd);
      segment.size = validEnd;
      segment.committedEnd = validEnd;
    }
  }
  return result;
}

/** Replays one segment and returns where its valid records end. */
function walkSegment(segment: Segment, from: number, isNewest: boolean, maxBody: number, store: ReplayFn, result: RecoveryResult): number {
  const cursor = new SegmentCursor(segment, from, segment.size, maxBody);
  const replay: ReplayFn = (type, body, location) => {
    try {
      store(type, body, location);
    } catch (err) {
      // The frame's checksum matched but its body is not what its type says
      // (a writer bug or a forged file): damage, reported and never replayed.
      result.rejected.push({ file: segment.path, offset: offsetOf(location), reason: `record body rejected: ${(err as Error).message}` });
    }
  };
  let held: HeldRecord[] = [];
  let groupStart = from;
  while (cursor.examine()) {
    const frame = cursor.frame;
    if (frame.status === FrameStatus.Ok) {
      const location = packLocation(segment.number, cursor.offset);
      result.records++;
      if ((frame.flags & FLAG_GROUP_END) === 0) {
        held.push({ type: frame.type, body: cursor.body().slice(), location });
      } else {
        for (const r of held) replay(r.type, r.body, r.location);
        held = [];
        replay(frame.type, cursor.body(), location);
        groupStart = cursor.offset + frame.frameLength;
      }
      cursor.advance();
      continue;
    }
    const badOffset = cursor.offset;
    const status = frame.status;
    const lengthTrusted = status === FrameStatus.Corrupt && followedByValidFrame(cursor, segment.size);
    // Past the bad frame: the next intact one, by its stated length or byte by byte.
    const resumed = resynchronise(cursor, badOffset, lengthTrusted);
    // Nothing intact after it in the newest segment: the torn tail of a crash.
    if (isNewest && !resumed) return groupStart;
    result.damage.push({ file: segment.path, offset: badOffset, reason: status === FrameStatus.Torn ? "record runs past the end of a sealed segment" : "record checksum or frame check failed" });
    // The records of a group around damage were acknowledged; keep what is readable.
    for (const r of held) replay(r.type, r.body, r.location);
    held = [];
    if (!resumed) return segment.size;
    groupStart = cursor.offset;
  }
  if (held.length > 0) {
    if (isNewest) return groupStart;
    result.damage.push({ file: segment.path, offset: groupStart, reason: "atomic group cut short at the end of a sealed segment" });
    for (const r of held) replay(r.type, r.body, r.location);
  }
  return cursor.offset;
}

/** True when the frame after the current (corrupt) one, by its stated length, is intact. */
export function followedByValidFrame(cursor: SegmentCursor, end: number): boolean {
  const here = cursor.offset;
  const next = here + cursor.frame.frameLength;
  if (next >= end) return false;
  cursor.seek(next);
  const ok = cursor.examine() && cursor.status === FrameStatus.Ok;
  cursor.seek(here);
  cursor.examine();
  return ok;
}

/** Moves the cursor to the next intact frame after damage; false when none is left. */
export function resynchronise(cursor: SegmentCursor, badOffset: number, lengthTrusted: boolean): boolean {
  if (lengthTrusted) {
    cursor.advance();
    return true;
  }
  for (let at = badOffset + 1; ; at++) {
    cursor.seek(at);
    if (!cursor.examine()) return false;
    if (cursor.status === FrameStatus.Ok) return true;
  }
}
