/**
 * What every store gets from the database: the log to read, the group commit to
 * write through, the clock, and the checks that guard writes.
 */
import type { GroupCommit } from "../log/group-commit.js";
import type { Log } from "../log/log.js";

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
}

/**
 * What a store tells the database so that open can rebuild it: which record
 * types it owns, how to apply one found in the log, and its checkpoint section.
 */
export interface LogStore {
  /** Names the store's section in the checkpoint; never changes once released. */
  readonly name: string;
  readonly recordTypes: readonly number[];
  /** Applies a record found in the log at open, in log order. */
  replay(type: number, body: Uint8Array, location: number): void;
  /** Called once after replay, before the first write. */
  recovered(): void;
  checkpoint(): unknown;
  restore(section: unknown): void;
  /** Problems for verify(): index entries that do not read back as they should. */
  verify(): string[];
}

/**
 * A level-triggered wake-up for readers that wait for commits. Waiters register
 * synchronously right after a read that found nothing, so no commit can slip
 * between the read and the wait.
 */
export class CommitSignal {
  private waiters: (() => void)[] = [];

  wait(): Promise<void> {
    return new Promise((done) => this.waiters.push(done));
  }

  notify(): void {
    if (this.waiters.length === 0) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const done of waiting) done();
  }
}
