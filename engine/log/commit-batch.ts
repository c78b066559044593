/**
 * One group-commit batch: the framed bytes of the writes that go out together
 * in one write and one fsync, where each write starts, and the frames whose
 * checksum is still to be computed (records of DEFERRED_SEAL_MIN_BYTES or more,
 * sealed by the flush loop a slice a turn: group-commit.ts).
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { checksumStream } from "../format/checksum.js";
import { RECORD_HEADER_BYTES } from "../limits.js";
import type { PendingWrite } from "./group-commit.js";

const INITIAL_BATCH_BYTES = 64 * 1024;

/** Bytes hashed per event-loop turn when a batch's pending checksums are computed. */
const SEAL_SLICE_BYTES = 1024 * 1024;

export class CommitBatch {
  buf = new Uint8Array(INITIAL_BATCH_BYTES);
  view = new DataView(this.buf.buffer);
  length = 0;
  writes: PendingWrite[] = [];
  /** Where each write's first record lies in `buf`. */
  starts: number[] = [];
  /** End of the last submitted write: bytes after it belong to the write being framed. */
  submittedEnd = 0;
  /** Where the frames whose checksum is still to be computed start, in framing order. */
  unsealed: number[] = [];

  ensureEnd(need: number): void {
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    // The whole old buffer: a frame being written in place lies past `length`.
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  reset(): void {
    this.length = 0;
    this.submittedEnd = 0;
    this.writes = [];
    this.starts = [];
    this.unsealed = [];
  }

  /** Forgets the pending checksums of frames from `at` on (dropped, or moved to another batch); returns them. */
  unsealedFrom(at: number): number[] {
    let keep = this.unsealed.length;
    while (keep > 0 && this.unsealed[keep - 1]! >= at) keep--;
    return this.unsealed.splice(keep);
  }

  /**
   * Computes the pending checksums, SEAL_SLICE_BYTES a turn. Only for a batch
   * nothing frames into any more: its bytes must not change meanwhile.
   */
  async sealPending(): Promise<void> {
    for (const at of this.unsealed) {
      const end = at + RECORD_HEADER_BYTES + this.view.getUint32(at, true);
      const sum = checksumStream();
      for (let from = at + 8; from < end; from += SEAL_SLICE_BYTES) {
        sum.update(this.buf.subarray(from, Math.min(end, from + SEAL_SLICE_BYTES)));
        if (from + SEAL_SLICE_BYTES < end) await nextTurn();
      }
      this.view.setUint32(at + 4, sum.digest(), true);
    }
    this.unsealed = [];
  }
}
