/**
 * Append-only typed arrays that double when full: indexes keep one number per
 * record in them instead of one object per record.
 */
export class GrowableFloat64 {
  data: Float64Array;
  length = 0;

  constructor(capacity = 8) {
    this.data = new Float64Array(capacity);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(Math.max(2, this.data.length * 2));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  get(i: number): number {
    return this.data[i]!;
  }

  /** The used part as bytes, for checkpoints. */
  bytes(): Uint8Array {
    return new Uint8Array(this.data.buffer, this.data.byteOffset, this.length * 8);
  }

  /** Takes `view` as the used part (growing copies it). */
  static over(view: Float64Array): GrowableFloat64 {
    const g = new GrowableFloat64(0);
    g.data = view;
    g.length = view.length;
    return g;
  }

  static fromBytes(bytes: Uint8Array): GrowableFloat64 {
    const n = bytes.byteLength / 8;
    const g = new GrowableFloat64(0);
    g.data = new Float64Array(filledWith(bytes, Math.max(8, n) * 8));
    g.length = n;
    return g;
  }
}

export class GrowableUint32 {
  data: Uint32Array;
  length = 0;

  constructor(capacity = 8) {
    this.data = new Uint32Array(capacity);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(Math.max(8, this.data.length * 2));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  get(i: number): number {
    return this.data[i]!;
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.data.buffer, this.data.byteOffset, this.length * 4);
  }

  /**
   * Uses `view` (a checkpoint's array, read at open) as it is: no copy until
   * the first push outgrows it.
   */
  static over(view: Uint32Array): GrowableUint32 {
    const g = new GrowableUint32(0);
    g.data = view;
    g.length = view.length;
    return g;
  }

  static fromBytes(bytes: Uint8Array): GrowableUint32 {
    const n = bytes.byteLength / 4;
    const g = new GrowableUint32(0);
    g.data = new Uint32Array(filledWith(bytes, Math.max(8, n) * 4));
    g.length = n;
    return g;
  }
}

/**
 * A new aligned buffer of `size` bytes starting with `bytes` (which may sit at
 * any offset of a file buffer). Not zero-filled first: at open this copies
 * every event's index entry, and filling that memory twice would be waste. The
 * part past `bytes` is never read before it is written (length bounds it).
 */
function filledWith(bytes: Uint8Array, size: number): ArrayBuffer {
  const buffer = Buffer.allocUnsafeSlow(size);
  buffer.set(bytes);
  return buffer.buffer as ArrayBuffer;
}
