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
