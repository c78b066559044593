/**
 * One append (or appendMany) whose events are framed in the pending batch and
 * wait for their group commit. A class rather than an object of closures: the
 * append path makes one of these per call, and it is the hottest path there is.
 *
 * When the batch commits, `apply` moves the committed view: every event's
 * location and id fingerprint into its stream's entry, every position into the
 * position index, every type, tag and category into the query index, then wakes
 * the subscriptions.
 */
import type { PositionIndex } from "../../index/position-index.js";
import { categoryOf, type QueryIndex } from "../../index/query-index.js";
import type { InFlightAppend, StreamEntry, StreamState, StreamTable } from "../../index/stream-table.js";
import { offsetOf, packLocation, segmentOf } from "../../log/location.js";
import type { PendingWrite } from "../../log/group-commit.js";
import { RECORD_HEADER_BYTES } from "../../limits.js";
import type { CommitSignal } from "../context.js";
import type { AppendResult } from "../../types.js";
import type { InFlightAppends } from "./append-condition.js";

/** One stream's share of an append: its events got consecutive versions and positions. */
export interface StreamAppend {
  entry: StreamEntry;
  firstVersion: number;
  firstPosition: number;
  /** The events' id fingerprints (idHash), in order. */
  idHashes: number[];
  /** The events' types and tags as framed (the caller's objects may change before the commit). */
  types: string[];
  tags: (readonly string[] | undefined)[] | undefined;
  /** The writer's view of the stream's state before this append (restored when framing fails). */
  priorState: StreamState;
  /** Set when the events carried ids: the entry lists it until it commits. */
  inFlight: InFlightAppend | undefined;
}

/** `T`: what the call resolves to once committed (known at framing time). */
export class AppendWrite<T> implements PendingWrite {
  readonly committed: Promise<T>;
  private settle!: (result: T) => void;
  private fail!: (err: unknown) => void;

  constructor(
    readonly plans: StreamAppend[],
    private readonly result: T,
    private readonly table: StreamTable,
    private readonly positions: PositionIndex,
    private readonly queries: QueryIndex,
    private readonly inFlight: InFlightAppends,
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
    this.inFlight.delete(this);
    this.fail(err);
  }

  apply(location: number, frames: Uint8Array, at: number): void {
    this.inFlight.delete(this);
    // Every record of one write lies in one segment, one after another.
    const segment = segmentOf(location);
    let offset = offsetOf(location);
    for (const p of this.plans) {
      const entry = p.entry;
      const wasLive = entry.exists;
      const category = categoryOf(entry.id);
      for (let i = 0; i < p.idHashes.length; i++) {
        const eventLocation = packLocation(segment, offset);
        entry.addEvent(p.firstVersion + i, eventLocation, p.idHashes[i]!);
        this.positions.add(p.firstPosition + i, segment, offset);
        this.queries.add(p.types[i]!, p.tags?.[i], category, eventLocation);
        // The frame's u32 little-endian length leads each record.
        const length = RECORD_HEADER_BYTES + (frames[at]! | (frames[at + 1]! << 8) | (frames[at + 2]! << 16)) + frames[at + 3]! * 0x1000000;
        at += length;
        offset += length;
      }
      if (p.inFlight !== undefined) settleInFlight(entry, p.inFlight);
      if (!wasLive) this.table.membershipChanged();
    }
    this.signal.notify();
  }

  /** Every queued write failed with this one: the writer's view of each stream goes back to what is committed. */
  abort(): void {
    for (const p of this.plans) p.entry.resetWriter();
  }
}

/** Takes a committed (or rolled back) append off its stream's in-flight list. */
export function settleInFlight(entry: StreamEntry, append: InFlightAppend): void {
  const list = entry.inFlight;
  if (list === undefined) return;
  const i = list.indexOf(append);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) entry.inFlight = undefined;
}

export function resultOf(p: StreamAppend): AppendResult {
  const last = p.idHashes.length - 1;
  return { streamId: p.entry.id, firstVersion: p.firstVersion, lastVersion: p.firstVersion + last, firstPosition: p.firstPosition, lastPosition: p.firstPosition + last };
}
