/**
 * Record bodies made of a small msgpack head and a separately encoded tail,
 * shared by the cassette, recording and context records:
 *
 *   offset  size  field
 *   0       4     head length n (u32, little-endian)
 *   4       n     head, msgpack (the fields replay and compaction need)
 *   4 + n   rest  tail (msgpack; the record type says of what)
 *
 * Replay and keep() decode only the head, so a large tail (a recording's events,
 * a context) is never decoded to rebuild an index. Writers pass head and tail
 * to GroupCommit.framePair, so the two are never joined into a third buffer.
 */
import { corruption } from "../errors.js";
import { decode, encode } from "../format/codec.js";

/** A body starts with the u32 length of its head. */
export const HEAD_LENGTH_BYTES = 4;
const LENGTH_BYTES = HEAD_LENGTH_BYTES;

/**
 * Where the tail starts in a body whose first bytes are `prefix` (at least its
 * length field): for a reader that reads a large body in pieces and only its
 * beginning first.
 */
export function tailStart(prefix: Uint8Array): number {
  if (prefix.length < LENGTH_BYTES) throw corruption("(record body)", 0, "body is shorter than its head length");
  return LENGTH_BYTES + new DataView(prefix.buffer, prefix.byteOffset, LENGTH_BYTES).getUint32(0, true);
}

/** The length-prefixed head, in its own memory (it must outlive the next encode()). */
export function encodeHead(value: unknown): Uint8Array {
  const packed = encode(value);
  const out = new Uint8Array(LENGTH_BYTES + packed.length);
  new DataView(out.buffer).setUint32(0, packed.length, true);
  out.set(packed, LENGTH_BYTES);
  return out;
}

/** The head's msgpack bytes inside `body` (a view, valid as long as `body` is). */
export function headBytes(body: Uint8Array): Uint8Array {
  return body.subarray(LENGTH_BYTES, headEnd(body));
}

export function decodeHead(body: Uint8Array): unknown {
  return decode(headBytes(body));
}

/** The tail inside `body` (a view). */
export function tailBytes(body: Uint8Array): Uint8Array {
  return body.subarray(headEnd(body));
}

function headEnd(body: Uint8Array): number {
  const end = tailStart(body);
  if (end > body.length) throw corruption("(record body)", 0, "head runs past the end of the body");
  return end;
}
