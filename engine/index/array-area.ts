/**
 * The checkpoint's array area: the per-event index arrays (every stream's record
 * offsets and id fingerprints, the position index's sparse entries) stored as
 * raw, 8-byte-aligned bytes after the msgpack body. At 10M events they are
 * nearly all of the checkpoint; open makes typed-array views of the file it read
 * instead of decoding and copying them.
 *
 * A section refers to an array by [byte offset in the area, element count].
 */
import { SeglogError } from "../errors.js";

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

  /** Copies the area to `target` from `start` (a multiple of 8 in the file); padding stays zero. */
  writeInto(target: Uint8Array, start: number): void {
    for (const { at, bytes } of this.parts) target.set(bytes, start + at);
  }
}

/** The array area of a checkpoint that was read: views, not copies. */
export class ArrayArea {
  /** `bytes` must start at a multiple of 8 within its ArrayBuffer (readCheckpoint sees to it). */
  constructor(private readonly bytes: Uint8Array) {}

  u32(at: number, count: number): Uint32Array {
    this.check(at, count * 4);
    return new Uint32Array(this.bytes.buffer, this.bytes.byteOffset + at, count);
  }

  f64(at: number, count: number): Float64Array {
    this.check(at, count * 8);
    return new Float64Array(this.bytes.buffer, this.bytes.byteOffset + at, count);
  }

  private check(at: number, bytes: number): void {
    // The checksum held, so an array outside the area is a writer's bug, not damage on disk.
    if (!Number.isSafeInteger(at) || at < 0 || at % 8 !== 0 || at + bytes > this.bytes.length) {
      throw new SeglogError("CORRUPTION", `checkpoint array at ${at} (${bytes} bytes) lies outside its array area`);
    }
  }
}

export function align8(n: number): number {
  return (n + 7) & ~7;
}
