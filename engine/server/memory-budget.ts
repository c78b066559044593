/**
 * The bytes the server holds for its clients at once: request bodies being
 * received, and event-stream output queued for readers slower than the
 * stream. Per-request limits alone let a hundred clients that each send
 * 15 MiB and stop one byte short hold 1.5 GB, or a thousand stalled SSE
 * readers a read each; with one budget, a body that would take the total past
 * it is refused (503, Retry-After) before its bytes are kept, and an SSE
 * connection whose queued output would is ended (its client reconnects from
 * the last offset it saw).
 *
 * Each holder takes a `Reservation`: bytes are reserved before they are held
 * and given back when they are not any more, whatever the outcome.
 */
/** Takes smaller than this go on under pressure: a small append's body, a little queued output. */
export const PRESSURE_EXEMPT_BYTES = 64 * 1024;

export class MemoryBudget {
  private used = 0;
  private reclaim: ((bytes: number) => void) | undefined;
  private pressed = false;

  constructor(readonly limit: number) {}

  /**
   * `reclaim(bytes)` gives back bytes the server keeps only to reuse (idle body
   * buffers); it is asked before a take is refused, so kept memory never turns
   * a client away.
   */
  reclaimWith(reclaim: (bytes: number) => void): void {
    this.reclaim = reclaim;
  }

  get inUse(): number {
    return this.used;
  }

  reservation(): Reservation {
    return new Reservation(this);
  }

  /** Takes `bytes` if the total stays within the limit. */
  take(bytes: number): boolean {
    if (this.pressed && bytes >= PRESSURE_EXEMPT_BYTES) return false;
    if (this.used + bytes > this.limit) this.reclaim?.(this.used + bytes - this.limit);
    return this.add(bytes);
  }

  /** Takes `bytes` only if the budget has them without reclaiming anything (and nothing presses). */
  takeSpare(bytes: number): boolean {
    return !this.pressed && this.add(bytes);
  }

  private add(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }

  /**
   * The process holds nearly the limit in all (StreamServer's resident-memory
   * watch): memory the count cannot see — garbage not yet collected, the heap,
   * a thousand connections' objects — has filled what it leaves. Until it
   * drops, takes from PRESSURE_EXEMPT_BYTES on are refused and kept memory is
   * let go.
   */
  press(on: boolean): void {
    this.pressed = on;
    if (on) this.reclaim?.(Number.POSITIVE_INFINITY);
  }

  get underPressure(): boolean {
    return this.pressed;
  }
}

export class Reservation {
  private held = 0;

  constructor(private readonly budget: MemoryBudget) {}

  /** Reserves `bytes` more for this holder; false when the budget cannot spare them. */
  grow(bytes: number): boolean {
    if (!this.budget.take(bytes)) return false;
    this.held += bytes;
    return true;
  }

  /** Gives back `bytes` of what this holder reserved, for memory it no longer holds. */
  shrink(bytes: number): void {
    const given = Math.min(bytes, this.held);
    this.budget.give(given);
    this.held -= given;
  }

  release(): void {
    this.budget.give(this.held);
    this.held = 0;
  }
}

/** The server holds as many bytes for clients as it may: try again shortly. */
export class ServerBusy extends Error {
  constructor(readonly limit: number) {
    super(`the server holds its limit of ${limit} bytes for clients; try again shortly`);
  }
}
