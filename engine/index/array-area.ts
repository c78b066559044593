/**
 * The checkpoint's array area: the per-event index arrays (every stream's record
 * offsets and id fingerprints, the position index's sparse entries) stored as
 * raw, 8-byte-aligned bytes after the msgpack body, each with a checksum of its
 * own. At 10M events they are nearly all of the checkpoint, so open does not
 * read them: a section takes a loader, and the array is read (and checked) the
 * first time it is needed — open's cost follows streams, not events.
 *
 * A section refers to an array by [byte offset in the area, element count].
 */
import { SeglogError } from "../errors.js";
import { checksum } from "../format/checksum.js";
import type { FileHandle } from "../io/file-system.js";

type IndexArray = Uint32Array | Float64Array;

/** Collects arrays while a checkpoint is built; the file writer lays them out. */
export class ArrayAreaWriter {
  private readonly parts: { at: number; bytes: Uint8Array }[] = [];
  private length = 0;

  /** Adds the first `count` elements of `array`; returns their byte offset in the area. */
  add(array: IndexArray, count: number): number {
    const at = this.length;
    const bytes = new Uint8Array(array.buffer, array.byteOffset, count * array.BYTES_PER_ELEMENT);
    this.parts.push({ at, bytes });
    this.length = align8(at + bytes.length);
    return at;
  }

  get byteLength(): number {
    return this.length;
  }

  /** [at, byteLength, xxHash32, …] of every array, for the body: each array is checked when it is read. */
  table(): number[] {
    const out: number[] = [];
    for (const { at, bytes } of this.parts) out.push(at, bytes.length, checksum(bytes));
    return out;
  }

  /** Copies the area to `target` from `start` (a multiple of 8 in the file); padding stays zero. */
  writeInto(target: Uint8Array, start: number): void {
    for (const { at, bytes } of this.parts) target.set(bytes, start + at);
  }
}

/**
 * The array area of a checkpoint that was read, on the file it came from: the
 * handle stays open until `close()` (the database's close), so arrays read later
 * come from this very file even after a newer checkpoint replaced its name.
 */
export class ArrayArea {
  private readonly sums = new Map<number, [number, number]>();
  private handle: FileHandle | undefined;

  constructor(handle: FileHandle | undefined, private readonly start: number, private readonly length: number, table: number[]) {
    this.handle = handle;
    for (let i = 0; i + 2 < table.length; i += 3) this.sums.set(table[i]!, [table[i + 1]!, table[i + 2]!]);
  }

  u32(at: number, count: number): Uint32Array {
    return new Uint32Array(this.read(at, count * 4));
  }

  f64(at: number, count: number): Float64Array {
    return new Float64Array(this.read(at, count * 8));
  }

  close(): void {
    this.handle?.close();
    this.handle = undefined;
  }

  /** The bytes of one array in a buffer of their own, checked against the body's table; CORRUPTION when they do not match. */
  private read(at: number, bytes: number): ArrayBuffer {
    // The body's checksum held, so an array outside the area is a writer's bug, not damage on disk.
    if (!Number.isSafeInteger(at) || at < 0 || at % 8 !== 0 || at + bytes > this.length) {
      throw new SeglogError("CORRUPTION", `checkpoint array at ${at} (${bytes} bytes) lies outside its array area`);
    }
    const buffer = new ArrayBuffer(bytes);
    if (bytes === 0) return buffer;
    const expected = this.sums.get(at);
    if (expected === undefined || expected[0] !== bytes) throw new SeglogError("CORRUPTION", `checkpoint array at ${at} (${bytes} bytes) is not in its table`);
    if (this.handle === undefined) throw new SeglogError("CLOSED", "the checkpoint was closed before its array was read");
    const view = new Uint8Array(buffer);
    let got = 0;
    try {
      got = this.handle.read(view, 0, bytes, this.start + at);
    } catch (err) {
      throw new SeglogError("CORRUPTION", `checkpoint array at ${at} could not be read: ${(err as Error).message}`, { cause: err });
    }
    if (got !== bytes || checksum(view) !== expected[1]) throw new SeglogError("CORRUPTION", `checkpoint array at ${at} (${bytes} bytes) fails its checksum`);
    return buffer;
  }
}

export function align8(n: number): number {
  return (n + 7) & ~7;
}
