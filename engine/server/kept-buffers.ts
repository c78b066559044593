/**
 * Large buffers the server keeps and reuses: for request bodies and for the
 * answers (and pieces of answers) it reads. Writing into freshly allocated
 * memory pays a page fault for every 4 KiB the first time (measured on this
 * project's 2-core VM: 14 ms to copy 4 MiB into a new buffer, 1 ms into one
 * already touched; reading 1 MiB from the page cache into new memory 4 ms, into
 * touched memory 0.05 ms), all of it on the event loop, and dropping it adds a
 * share of the garbage collection that frees it.
 *
 * Idle kept buffers are memory the server holds, so they are reserved from the
 * server's MemoryBudget like bodies and queued output, at most `maxIdleBytes`
 * of them; a client's reservation that would not fit reclaims them first.
 *
 * A buffer comes back only when nothing can read or write it any more: see
 * RequestMemory.
 */
import type { MemoryBudget } from "./memory-budget.js";

/** New buffers are rounded up to this, so bodies of nearly one size share buffers. */
const SIZE_STEP_BYTES = 256 * 1024;

export class KeptBuffers {
  /** Oldest first. */
  private readonly idle: Buffer[] = [];
  private idleBytes = 0;

  constructor(
    private readonly budget: MemoryBudget,
    readonly maxIdleBytes: number,
  ) {
    budget.reclaimWith((bytes) => this.dropIdle(bytes));
  }

  get keptBytes(): number {
    return this.idleBytes;
  }

  /**
   * A buffer of at least `length` bytes for a body whose reservation holds
   * `length`: the smallest kept one up to a quarter larger, when `reserve` can
   * add the bytes it has beyond `length` to that reservation (a kept buffer's
   * pages are all resident), else a new one, whose pages past `length` stay
   * untouched.
   */
  take(length: number, reserve: (bytes: number) => boolean): Buffer {
    let best = -1;
    for (let i = 0; i < this.idle.length; i++) {
      const size = this.idle[i]!.length;
      if (size >= length && size <= length + length / 4 + SIZE_STEP_BYTES && (best < 0 || size < this.idle[best]!.length)) best = i;
    }
    if (best >= 0) {
      const buffer = this.idle[best]!;
      this.idle.splice(best, 1);
      this.idleBytes -= buffer.length;
      this.budget.give(buffer.length);
      if (reserve(buffer.length - length)) return buffer;
    }
    return Buffer.allocUnsafeSlow(Math.ceil(length / SIZE_STEP_BYTES) * SIZE_STEP_BYTES);
  }

  /** Keeps `buffer` for a later body, when the budget can spare it; the oldest kept ones make room. */
  give(buffer: Buffer): void {
    if (buffer.length > this.maxIdleBytes) return;
    this.dropIdle(this.idleBytes + buffer.length - this.maxIdleBytes);
    if (!this.budget.takeSpare(buffer.length)) return;
    this.idle.push(buffer);
    this.idleBytes += buffer.length;
  }

  /** Drops kept buffers, oldest first, until `bytes` are given back to the budget (or none are kept). */
  private dropIdle(bytes: number): void {
    let dropped = 0;
    while (dropped < bytes && this.idle.length > 0) {
      const buffer = this.idle.shift()!;
      this.idleBytes -= buffer.length;
      this.budget.give(buffer.length);
      dropped += buffer.length;
    }
  }
}
