/**
 * The segment file header, 32 bytes, little-endian:
 *
 *   offset  size  field
 *   0       4     magic "SGLG"
 *   4       1     file type = 1 (segment)
 *   5       1     format version of the writer (1)
 *   6       1     oldest reader version that understands the file (1)
 *   7       1     reserved, 0
 *   8       8     segment number (u64; < 2^53)
 *   16      8     generation (u64): 0 when first written, +1 each time compaction rewrites it
 *   24      4     reserved, 0
 *   28      4     xxHash32 of bytes [0, 28)
 *
 * Records follow from offset 32.
 */
import { SeglogError } from "../errors.js";
import { SEGMENT_HEADER_BYTES } from "../limits.js";
import { checksum } from "./checksum.js";
import { FileType, MAGIC, SEGMENT_FORMAT_VERSION } from "./constants.js";

export interface SegmentHeader {
  segmentNumber: number;
  generation: number;
}

export function encodeSegmentHeader(header: SegmentHeader): Uint8Array {
  const buf = new Uint8Array(SEGMENT_HEADER_BYTES);
  const view = new DataView(buf.buffer);
  view.setUint32(0, MAGIC, true);
  buf[4] = FileType.Segment;
  buf[5] = SEGMENT_FORMAT_VERSION;
  buf[6] = SEGMENT_FORMAT_VERSION;
  view.setBigUint64(8, BigInt(header.segmentNumber), true);
  view.setBigUint64(16, BigInt(header.generation), true);
  view.setUint32(28, checksum(buf.subarray(0, 28)), true);
  return buf;
}

/**
 * Returns the header, `undefined` when the bytes are short or fail their checksum
 * (a segment whose creation was torn), and throws CORRUPTION for a file that is
 * whole but of a version this code cannot read.
 */
export function decodeSegmentHeader(buf: Uint8Array, file: string): SegmentHeader | undefined {
  if (buf.length < SEGMENT_HEADER_BYTES) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, SEGMENT_HEADER_BYTES);
  if (checksum(buf.subarray(0, 28)) !== view.getUint32(28, true)) return undefined;
  if (view.getUint32(0, true) !== MAGIC || buf[4] !== FileType.Segment) {
    throw new SeglogError("CORRUPTION", `${file} is not a seglog segment`, { file, offset: 0 });
  }
  if (buf[6]! > SEGMENT_FORMAT_VERSION) {
    throw new SeglogError("CORRUPTION", `${file} needs segment format version ${buf[6]}; this seglog reads up to ${SEGMENT_FORMAT_VERSION}`, { file, offset: 6 });
  }
  return { segmentNumber: Number(view.getBigUint64(8, true)), generation: Number(view.getBigUint64(16, true)) };
}
