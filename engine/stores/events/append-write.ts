/**
 * One append (or appendMany) whose events are framed in the pending batch and
 * wait for their group commit. A class rather than an object of closures: the
 * append path makes one of these per call, and it is the hottest path there is.
 *
 * When the batch commits, `apply` moves the committed view: every event's
 * location and id fingerprint into its stream's entry, every position into the
 * position index, then wakes the subscriptions.
 */
import type { PositionIndex } from "../../index/position-index.js";
import type { StreamEntry, StreamTable } from "../../index/stream-table.js";
import { offsetOf, segmentOf } from "../../log/location.js";
import type { PendingWrite } from "../../log/group-commit.js";
import { RECORD_HEADER_BYTES } from "../../limits.js";
import type { CommitSignal } from "../context.js";
import type { AppendResult } from "../../types.js";

/** One stream's share of an append: its events got consecutive versions and positions. */
export interface StreamAppend {
  entry: StreamEntry;
  firstVersion: number;
  firstPosition: number;
  /** The events' id fingerprints (idHash), in order. */
  idHashes: number[];
}

/** `T`: what the call resolves to once committed (known at framing time). */
export class AppendWrite<T> implements PendingWrite {
  readonly committed: Promise<T>;
  private settle!: (result: T) => void;
  private fail!: (err: unknown) => void;

  constructor(
    readonly start: number,
    readonly end: number,
    private readonly plans: StreamAppend[],
    private readonly result: T,
    private readonly table: StreamTable,
    private readonly positions: PositionIndex,
    private readonly signal: CommitSignal,
  ) {
    this.committed = new Promise<T>((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
  }

  resolve(): void {
    this.settle(this.result);
  }

  reject(err: unknown): void {
    this.fail(err);
  }

  apply(batchLocation: number, batch: Uint8Array): void {
    const segment = segmentOf(batchLocation);
    const base = offsetOf(batchLocation);
    let at = this.start;
    for (const p of this.plans) {
      const wasLive = p.entry.exists;
      for (let i = 0; i < p.idHashes.length; i++) {
        p.entry.addEvent(p.firstVersion + i, batchLocation + at, p.idHashes[i]!);
        this.positions.add(p.firstPosition + i, segment, base + at);
        // The frame's u32 little-endian length leads each record.
        at += RECORD_HEADER_BYTES + (batch[at]! | (batch[at + 1]! << 8) | (batch[at + 2]! << 16)) + batch[at + 3]! * 0x1000000;
      }
      if (!wasLive) this.table.membershipChanged();
    }
    this.signal.notify();
  }

  /** The batch failed: the writer's view of every stream goes back to what is committed. */
  abort(): void {
    for (const p of this.plans) p.entry.resetWriter();
  }
}

export function resultOf(p: StreamAppend): AppendResult {
  const last = p.idHashes.length - 1;
  return { streamId: p.entry.id, firstVersion: p.firstVersion, lastVersion: p.firstVersion + last, firstPosition: p.firstPosition, lastPosition: p.firstPosition + last };
}
