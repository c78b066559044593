/**
 * One committed record read in pieces: for answers so large that reading,
 * checking and copying them whole would hold the event loop (a 15 MiB message
 * took 26 ms before its first byte was sent). Each piece is one pread into a
 * buffer of its own, handed out before the next is read, so the caller can send
 * it and let the event loop turn in between.
 *
 * The checksum covers the whole body, so every piece is hashed on the way and
 * the sum is compared after the last one: a damaged record throws CORRUPTION
 * then, after some of its bytes were handed out. A caller that cannot take
 * bytes back (an HTTP answer) must abort what it sent, so that bad bytes are
 * never taken for data. A compaction that replaces the record's segment
 * meanwhile ends the read the same way (the location means another record now).
 */
import { SeglogError } from "../errors.js";
import { checksumStream } from "../format/checksum.js";
import { RECORD_HEADER_BYTES } from "../limits.js";
import { DAMAGED, offsetOf, segmentOf } from "./location.js";
import type { Log } from "./log.js";

/** What a piece-wise read hands out: body bytes [from, to) of the record, in pieces of at most pieceBytes. */
export interface BodyRange {
  from: number;
  to: number;
}

/**
 * The record's body length and type, read from its header (fixed fields checked);
 * then `pieces` yields body bytes [range.from, range.to).
 */
export interface RecordPieces {
  type: number;
  bodyLength: number;
  /** Body bytes [0, length), not yet checked (the pieces check the whole body): to find where the range lies. */
  prefix(length: number): Uint8Array;
  /** `allocate(length)` gives the memory each piece is read into (a view of `length` bytes). */
  pieces(range: BodyRange, pieceBytes: number, allocate?: (length: number) => Uint8Array): Generator<Uint8Array>;
}

export function openRecordPieces(log: Log, location: number): RecordPieces {
  if (location === DAMAGED) throw new SeglogError("CORRUPTION", "record lost to damage found when the log was opened (see verify())");
  const number = segmentOf(location);
  const segment = log.segment(number);
  const offset = offsetOf(location);
  const header = new Uint8Array(RECORD_HEADER_BYTES);
  const damaged = (why: string): SeglogError => new SeglogError("CORRUPTION", `record at ${segment.path}:${offset}: ${why}`, { file: segment.path, offset });
  if (offset + RECORD_HEADER_BYTES > segment.committedEnd || segment.read(header, 0, RECORD_HEADER_BYTES, offset) !== RECORD_HEADER_BYTES) throw damaged("its header is not all there");
  const view = new DataView(header.buffer);
  const bodyLength = view.getUint32(0, true);
  const stored = view.getUint32(4, true);
  const type = header[8]!;
  if (header[10] !== 0 || header[11] !== 0 || type === 0 || (header[9]! & ~1) !== 0) throw damaged("its header is not a record's");
  if (offset + RECORD_HEADER_BYTES + bodyLength > segment.committedEnd) throw damaged("its body runs past the committed log");

  function prefix(length: number): Uint8Array {
    if (length > bodyLength) throw damaged("its body is shorter than its own head says");
    const bytes = new Uint8Array(length);
    if (segment.read(bytes, 0, length, offset + RECORD_HEADER_BYTES) !== length) throw damaged("its body is not all there");
    return bytes;
  }

  function* pieces(range: BodyRange, pieceBytes: number, allocate = (length: number): Uint8Array => new Uint8Array(length)): Generator<Uint8Array> {
    const sum = checksumStream();
    sum.update(header.subarray(8, RECORD_HEADER_BYTES));
    for (let at = 0; at < bodyLength; ) {
      if (log.segment(number) !== segment) throw damaged("its segment was replaced by compaction while it was read");
      // Pieces line up with the range, so that each handed-out piece is a whole buffer.
      const until = at < range.from ? range.from : at < range.to ? Math.min(range.to, at + pieceBytes) : bodyLength;
      const length = Math.min(until, bodyLength) - at;
      // Pieces skipped before the range are read only to be hashed: into memory of their own.
      const handOut = at >= range.from && at < range.to;
      const piece = handOut ? allocate(length) : new Uint8Array(length);
      if (segment.read(piece, 0, length, offset + RECORD_HEADER_BYTES + at) !== length) throw damaged("its body is not all there");
      sum.update(piece);
      at += length;
      if (at === bodyLength && sum.digest() !== stored) throw damaged("its checksum does not match");
      if (handOut) yield piece;
    }
    if (bodyLength === 0 && sum.digest() !== stored) throw damaged("its checksum does not match");
  }

  return { type, bodyLength, prefix, pieces };
}
