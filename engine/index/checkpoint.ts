/**
 * The checkpoint file: a snapshot of every in-memory index as of one point of the
 * log (`logEnd`), so that open reads it and replays only what was written after.
 *
 *   offset  size  field
 *   0       4     magic "SGLG"
 *   4       1     file type = 2 (checkpoint)
 *   5       1     format version of the writer (4)
 *   6       1     oldest reader version that understands it (4)
 *   7       1     reserved, 0
 *   8       4     body length n (u32 LE)
 *   12      4     xxHash32 of bytes 16 … 24 + n (area length, reserved, body)
 *   16      4     array area length m (u32 LE)
 *   20      4     reserved, 0
 *   24      n     body, msgpack map (docs/format.md); `arrays` lists every array's checksum
 *   A       m     array area (array-area.ts), A = 24 + n rounded up to a multiple of 8
 *
 * Open reads the header and the body only; arrays are read when a section
 * first needs them, each checked against its own checksum.
 *
 * The checkpoint is derived data: when it is missing, damaged, of another
 * version, or names a segment generation that is no longer on disk, open ignores
 * it and rebuilds from the log. So it needs no repair path of its own.
 */
import { join } from "node:path";
import { checksum } from "../format/checksum.js";
import { decodeOwned, encode } from "../format/codec.js";
import { CHECKPOINT_FILE, CHECKPOINT_FORMAT_VERSION, FileType, MAGIC } from "../format/constants.js";
import type { FileHandle, FileSystem } from "../io/file-system.js";
import { align8, ArrayArea, ArrayAreaWriter } from "./array-area.js";

const HEADER_BYTES = 24;

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
  /** [at, byteLength, xxHash32, …] of every array in the area (written by writeCheckpoint). */
  arrays?: number[];
}

export interface LoadedCheckpoint {
  body: CheckpointBody;
  area: ArrayArea;
}

/** How many bytes before logEnd the tail check covers. */
export const TAIL_CHECK_BYTES = 4096;

export async function writeCheckpoint(fs: FileSystem, dir: string, body: CheckpointBody, area = new ArrayAreaWriter()): Promise<void> {
  const encoded = encode({ ...body, arrays: area.table() });
  const areaStart = align8(HEADER_BYTES + encoded.length);
  const file = new Uint8Array(areaStart + area.byteLength);
  const view = new DataView(file.buffer);
  view.setUint32(0, MAGIC, true);
  file[4] = FileType.Checkpoint;
  file[5] = CHECKPOINT_FORMAT_VERSION;
  file[6] = CHECKPOINT_FORMAT_VERSION;
  view.setUint32(8, encoded.length, true);
  view.setUint32(16, area.byteLength, true);
  file.set(encoded, HEADER_BYTES);
  area.writeInto(file, areaStart);
  view.setUint32(12, checksum(file.subarray(16, HEADER_BYTES + encoded.length)), true);
  await fs.writeFileAtomic(join(dir, CHECKPOINT_FILE), file);
}

/**
 * The checkpoint of `dir`, or undefined when there is none this code can trust.
 * The caller closes `area` once it no longer needs arrays from it.
 */
export function readCheckpoint(fs: FileSystem, dir: string): LoadedCheckpoint | undefined {
  const path = join(dir, CHECKPOINT_FILE);
  if (!fs.exists(path)) return undefined;
  let handle: FileHandle;
  try {
    handle = fs.openRead(path);
  } catch {
    return undefined;
  }
  let loaded: LoadedCheckpoint | undefined;
  try {
    loaded = readOpened(handle);
  } catch {
    loaded = undefined;
  }
  if (loaded === undefined) handle.close();
  return loaded;
}

function readOpened(handle: FileHandle): LoadedCheckpoint | undefined {
  const header = new Uint8Array(HEADER_BYTES);
  if (handle.read(header, 0, HEADER_BYTES, 0) !== HEADER_BYTES) return undefined;
  const view = new DataView(header.buffer);
  if (view.getUint32(0, true) !== MAGIC || header[4] !== FileType.Checkpoint) return undefined;
  // A newer layout this code cannot read, or an older one it no longer reads: replay instead.
  if (header[6]! > CHECKPOINT_FORMAT_VERSION || header[5]! < CHECKPOINT_FORMAT_VERSION) return undefined;
  const length = view.getUint32(8, true);
  const areaLength = view.getUint32(16, true);
  const areaStart = align8(HEADER_BYTES + length);
  if (areaStart + areaLength !== handle.size()) return undefined;
  const checked = new Uint8Array(8 + length);
  checked.set(header.subarray(16, 24));
  if (handle.read(checked, 8, length, HEADER_BYTES) !== length) return undefined;
  if (checksum(checked) !== view.getUint32(12, true)) return undefined;
  const decoded = decodeOwned(checked.subarray(8)) as CheckpointBody;
  if (!Array.isArray(decoded.logEnd) || !Array.isArray(decoded.segments) || !Array.isArray(decoded.tail) || typeof decoded.sections !== "object" || !Array.isArray(decoded.arrays)) return undefined;
  return { body: decoded, area: new ArrayArea(handle, areaStart, areaLength, decoded.arrays) };
}
