/**
 * The checkpoint file: a snapshot of every in-memory index as of one point of the
 * log (`logEnd`), so that open reads it and replays only what was written after.
 *
 *   offset  size  field
 *   0       4     magic "SGLG"
 *   4       1     file type = 2 (checkpoint)
 *   5       1     format version of the writer (1)
 *   6       1     oldest reader version that understands it (1)
 *   7       1     reserved, 0
 *   8       4     body length n (u32 LE)
 *   12      4     xxHash32 of the body
 *   16      n     body, msgpack map (docs/format.md)
 *
 * The checkpoint is derived data: when it is missing, damaged, of another
 * version, or names a segment generation that is no longer on disk, open ignores
 * it and rebuilds from the log. So it needs no repair path of its own.
 */
import { join } from "node:path";
import { checksum } from "../format/checksum.js";
import { decodeOwned, encode } from "../format/codec.js";
import { CHECKPOINT_FILE, CHECKPOINT_FORMAT_VERSION, FileType, MAGIC } from "../format/constants.js";
import type { FileSystem } from "../io/file-system.js";

const HEADER_BYTES = 16;

export interface CheckpointBody {
  /** [segment number, offset]: everything before it is reflected in the sections. */
  logEnd: [number, number];
  /** [segment number, generation, size] of every segment; sealed ones must match exactly. */
  segments: [number, number, number][];
  /** Byte order of the typed arrays inside the sections. */
  littleEndian: boolean;
  /**
   * [length, xxHash32] of the last bytes before logEnd. Open re-reads them: if
   * they changed (the file was cut or damaged under the checkpoint), the
   * checkpoint no longer describes the log and a full replay decides instead.
   */
  tail: [number, number];
  sections: Record<string, unknown>;
}

/** How many bytes before logEnd the tail check covers. */
export const TAIL_CHECK_BYTES = 4096;

export async function writeCheckpoint(fs: FileSystem, dir: string, body: CheckpointBody): Promise<void> {
  const encoded = encode(body);
  const file = new Uint8Array(HEADER_BYTES + encoded.length);
  const view = new DataView(file.buffer);
  view.setUint32(0, MAGIC, true);
  file[4] = FileType.Checkpoint;
  file[5] = CHECKPOINT_FORMAT_VERSION;
  file[6] = CHECKPOINT_FORMAT_VERSION;
  view.setUint32(8, encoded.length, true);
  file.set(encoded, HEADER_BYTES);
  view.setUint32(12, checksum(file.subarray(HEADER_BYTES)), true);
  await fs.writeFileAtomic(join(dir, CHECKPOINT_FILE), file);
}

/** The checkpoint of `dir`, or undefined when there is none this code can trust. */
export function readCheckpoint(fs: FileSystem, dir: string): CheckpointBody | undefined {
  const path = join(dir, CHECKPOINT_FILE);
  if (!fs.exists(path)) return undefined;
  let file: Uint8Array;
  try {
    file = fs.readFile(path);
  } catch {
    return undefined;
  }
  if (file.length < HEADER_BYTES) return undefined;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (view.getUint32(0, true) !== MAGIC || file[4] !== FileType.Checkpoint || file[6]! > CHECKPOINT_FORMAT_VERSION) return undefined;
  const length = view.getUint32(8, true);
  if (HEADER_BYTES + length !== file.length) return undefined;
  const body = file.subarray(HEADER_BYTES);
  if (checksum(body) !== view.getUint32(12, true)) return undefined;
  try {
    const decoded = decodeOwned(body) as CheckpointBody;
    if (!Array.isArray(decoded.logEnd) || !Array.isArray(decoded.segments) || !Array.isArray(decoded.tail) || typeof decoded.sections !== "object") return undefined;
    return decoded;
  } catch {
    return undefined;
  }
}
