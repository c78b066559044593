/**
 * The memory one request holds: its reservation from the server's budget, and
 * the kept buffers its body was assembled in or its answer was read into.
 *
 * When a buffer may go back to KeptBuffers for another request:
 * - a body's, when the request is over (`release`): a store copies a write's
 *   data into its batch when the call is made, and the request is over only
 *   once the store's call has settled;
 * - an answer's, when the socket has taken it (`written`, from the write's
 *   callback or the response's finish): until then the bytes may still be
 *   queued. A piece whose write never completed is not reused at all.
 */
import type { KeptBuffers } from "./kept-buffers.js";
import type { Reservation } from "./memory-budget.js";

/** Smaller answers come from node's allocator, which reuses small blocks well. */
export const KEPT_FROM_BYTES = 64 * 1024;

export class RequestMemory {
  /** Kept buffers held, by their memory (answers are handed out as views of them). */
  private readonly bodies: Buffer[] = [];
  private readonly answers = new Map<ArrayBufferLike, { buffer: Buffer; reserved: number }>();

  constructor(
    readonly reservation: Reservation,
    private readonly kept: KeptBuffers,
  ) {}

  /** A buffer for a body of `length` bytes, which the reservation already holds. */
  bodyBuffer(length: number): Buffer {
    const buffer = this.kept.take(length, (extra) => this.reservation.grow(extra));
    this.bodies.push(buffer);
    return buffer;
  }

  /**
   * Memory for an answer (or a piece) of `length` bytes, reserved for this
   * request; new memory outside the budget's count when the budget cannot
   * spare it.
   */
  readonly answerBuffer = (length: number): Uint8Array => {
    if (length < KEPT_FROM_BYTES || !this.reservation.grow(length)) return Buffer.allocUnsafe(length);
    let reserved = length;
    const buffer = this.kept.take(length, (extra) => {
      if (!this.reservation.grow(extra)) return false;
      reserved += extra;
      return true;
    });
    this.answers.set(buffer.buffer, { buffer, reserved });
    return buffer;
  };

  /** The socket has taken `answer` (a view of a buffer from answerBuffer, or other memory): its buffer can serve again. */
  written(answer: Uint8Array): void {
    const held = this.answers.get(answer.buffer);
    if (held === undefined) return;
    this.answers.delete(answer.buffer);
    this.reservation.shrink(held.reserved);
    this.kept.give(held.buffer);
  }

  /**
   * The request is over: its reservation is given back and its bodies' buffers
   * go back for reuse. An answer still being sent goes back when `written` says
   * so; one whose write never completes is left to the garbage collector.
   */
  release(): void {
    this.reservation.release();
    for (const buffer of this.bodies.splice(0)) this.kept.give(buffer);
  }
}
