/**
 * What every store gets from the database: the log to read, the group commit to
 * write through, the clock, and the checks that guard writes.
 */
import type { GroupCommit } from "../log/group-commit.js";
import type { Log } from "../log/log.js";
import type { ArrayArea, ArrayAreaWriter } from "../index/array-area.js";

export interface StoreContext {
  readonly log: Log;
  readonly commit: GroupCommit;
  readonly clock: () => number;
  readonly maxRecordBytes: number;
  /** Throws CLOSED, READ_ONLY or IO_ERROR when the database cannot take a write. */
  checkWritable(): void;
  /** Throws CLOSED after close(). */
  checkOpen(): void;
  isOpen(): boolean;
  /** Wakes readers that wait for new records (subscriptions, long-polls). */
  readonly signal: CommitSignal;
  /**
   * Set while seglog/replication runs with ack "replicated": resolves once
   * JetStream acknowledged everything committed when it was called.
   */
  readonly replicationAck: (() => Promise<void>) | undefined;
}

/**
 * What a store tells the database so that open can rebuild it: which record
 * types it owns, how to apply one found in the log, and its checkpoint section.
 */
/**
 * What a keyed store holds, from its index (no I/O): counts by name (e.g.
 * `objects`) and `bytes`, the frames of its live records on disk. Database
 * stats gather these; the event store's share is what the log holds beyond them.
 */
export type StoreUsage = Record<string, number> & { bytes: number };

export interface LogStore {
  /** Names the store's section in the checkpoint; never changes once released. */
  readonly name: string;
  readonly recordTypes: readonly number[];
  /** Applies a record found in the log at open, in log order. */
  replay(type: number, body: Uint8Array, location: number): void;
  /** Called once after replay, before the first write. */
  recovered(): void;
  /** A read-only database: called after records the writer added meanwhile were replayed. */
  followed?(): void;
  /** The section; large index arrays go to `area` (stored raw, read back as views). */
  checkpoint(area: ArrayAreaWriter): unknown;
  /**
   * True when the store changed state that no record carries, only its
   * checkpoint section (a read renewing a byte stream's TTL), since its last
   * `checkpoint()`. Close skips an unchanged checkpoint otherwise.
   */
  hasUnloggedChanges?(): boolean;
  restore(section: unknown, area: ArrayArea): void;
  /** Problems for verify(): index entries that do not read back as they should. */
  verify(): string[];

  // ---- compaction (engine/compaction/) ----------------------------------------
  /** Called when a compaction plans: decide now what is garbage (a later write only adds garbage). */
  planCompaction(): void;
  /** For each record of a sealed segment being rewritten: is it still needed? */
  keep(type: number, body: Uint8Array, location: number): boolean;
  /**
   * Records that describe state which the dropped records carried (for events: a
   * stream's version after its events are gone). Written at the start of the
   * first rewritten segment, which is swapped in before any other.
   */
  snapshotRecords(): { type: number; body: Uint8Array }[];
  /** After a segment was swapped: move index entries that point into it. */
  relocated(relocation: SegmentRelocation): void;
  /** Bytes of records a compaction would drop now. */
  garbageBytes(): number;
}

/**
 * Where the records of one rewritten segment went: kept records in ascending
 * old offset, each with its new offset. A location into the segment that is not
 * listed was dropped.
 */
export interface SegmentRelocation {
  readonly segment: number;
  /** The new location of `location`, or -1 when that record was dropped. */
  map(location: number): number;
}

/**
 * A level-triggered wake-up for readers that wait for commits. Waiters register
 * synchronously right after a read that found nothing, so no commit can slip
 * between the read and the wait.
 */
export class CommitSignal {
  private waiters: (() => void)[] = [];
  /**
   * Told when someone starts or stops waiting: a reader following a writer in
   * another process keeps the process alive only while a subscription or a
   * long-poll waits for what that writer will commit.
   */
  onWaiting: ((waiting: boolean) => void) | undefined;

  wait(): Promise<void> {
    if (this.waiters.length === 0) this.onWaiting?.(true);
    return new Promise((done) => this.waiters.push(done));
  }

  notify(): void {
    if (this.waiters.length === 0) return;
    const waiting = this.waiters;
    this.waiters = [];
    this.onWaiting?.(false);
    for (const done of waiting) done();
  }
}
