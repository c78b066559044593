/**
 * The record frame. Every record in a segment is laid out as (little-endian):
 *
 *   offset  size  field
 *   0       4     body length in bytes (u32)
 *   4       4     checksum: xxHash32 (seed 0) of bytes [8, 12 + body length)
 *   8       1     record type (engine/format/constants.ts RecordType)
 *   9       1     flags; bit 0 = last record of an atomic group
 *   10      2     reserved, always 0
 *   12      n     body, msgpack (layout owned by the record type)
 *
 * A record's version is its type: a new body layout is a new type number.
 * The decoder answers ok, torn (the bytes end inside the record) or corrupt
 * (the bytes are all there but the checksum or a fixed field is wrong).
 */
import { RECORD_HEADER_BYTES } from "../limits.js";
import { checksum } from "./checksum.js";

export const enum FrameStatus {
  Ok = 0,
  Torn = 1,
  Corrupt = 2,
}

export interface FrameView {
  status: FrameStatus;
  type: number;
  flags: number;
  /** Offset of the body inside the buffer that was examined. */
  bodyStart: number;
  bodyLength: number;
  /** Total bytes of the frame (header + body). */
  frameLength: number;
}

/** Writes a header for a body already placed at `at + 12` and returns the frame length. */
export function sealFrame(buf: Uint8Array, view: DataView, at: number, type: number, flags: number, bodyLength: number): number {
  writeFrameFields(buf, view, at, type, flags, bodyLength);
  const end = at + RECORD_HEADER_BYTES + bodyLength;
  view.setUint32(at + 4, checksum(buf.subarray(at + 8, end)), true);
  return RECORD_HEADER_BYTES + bodyLength;
}

/** The header without its checksum, for a writer that computes that later (over bytes [at + 8, at + 12 + bodyLength)). */
export function writeFrameFields(buf: Uint8Array, view: DataView, at: number, type: number, flags: number, bodyLength: number): void {
  view.setUint32(at, bodyLength, true);
  buf[at + 8] = type;
  buf[at + 9] = flags;
  buf[at + 10] = 0;
  buf[at + 11] = 0;
}

/**
 * Examines the frame starting at `at` in `buf[0, end)`. `maxBody` bounds a sane
 * length: a longer one is corrupt, not torn, because no writer ever framed it.
 * Reuses `out` so that scans allocate nothing per record.
 */
export function examineFrame(buf: Uint8Array, view: DataView, at: number, end: number, maxBody: number, out: FrameView): FrameView {
  out.bodyStart = at + RECORD_HEADER_BYTES;
  if (end - at < RECORD_HEADER_BYTES) return setStatus(out, FrameStatus.Torn, 0);
  const bodyLength = view.getUint32(at, true);
  out.type = buf[at + 8]!;
  out.flags = buf[at + 9]!;
  out.bodyLength = bodyLength;
  if (bodyLength > maxBody || buf[at + 10] !== 0 || buf[at + 11] !== 0 || out.type === 0 || (out.flags & ~1) !== 0) {
    return setStatus(out, FrameStatus.Corrupt, bodyLength);
  }
  const frameEnd = at + RECORD_HEADER_BYTES + bodyLength;
  if (frameEnd > end) return setStatus(out, FrameStatus.Torn, bodyLength);
  const stored = view.getUint32(at + 4, true);
  if (checksum(buf.subarray(at + 8, frameEnd)) !== stored) return setStatus(out, FrameStatus.Corrupt, bodyLength);
  return setStatus(out, FrameStatus.Ok, bodyLength);
}

export function newFrameView(): FrameView {
  return { status: FrameStatus.Ok, type: 0, flags: 0, bodyStart: 0, bodyLength: 0, frameLength: 0 };
}

function setStatus(out: FrameView, status: FrameStatus, bodyLength: number): FrameView {
  out.status = status;
  out.frameLength = RECORD_HEADER_BYTES + bodyLength;
  return out;
}
