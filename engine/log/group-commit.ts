/**
 * Group commit: every append framed while the previous batch is being written and
 * fsynced goes out together in one write and one fsync.
 *
 * Owns: the batch being filled, the sealed batches waiting their turn, and the
 * writes queued in each.
 * Concurrency: callers frame records synchronously (`frame`) and then `submit`;
 * everything framed between two submits belongs to that submit (one "write",
 * which is one atomic group). One flush loop runs at a time, always started from
 * a microtask, never inside a caller's `submit`: a store finishes registering
 * its write before the write can commit.
 * Invariant: batches reach the file in submit order, and `apply` runs for each
 * write in that order before its promise resolves, so a reader never sees a
 * position before every lower one. A batch never holds more than
 * `batchLimit` bytes (at most what a segment holds) unless one write alone is
 * that large, so a batch fits a fresh segment: a segment grows past
 * segmentBytes only to take one atomic write larger than a segment, alone.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { SeglogError } from "../errors.js";
import { sealFrame, writeFrameFields } from "../format/record.js";
import { GROUP_COMMIT_SOFT_LIMIT, MAX_SEGMENT_BYTES, RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES } from "../limits.js";
import type { Durability } from "../options.js";
import { CommitBatch } from "./commit-batch.js";
import type { Log } from "./log.js";

export interface PendingWrite {
  /**
   * Updates the in-memory indexes once the records are durable (or, buffered,
   * written). `location` is where the write's first record now lies; `frames`
   * holds the write's frames from offset `at` on, in framing order. A record
   * framed at batch offset `framedAt` (what `frame` returned), in a write
   * whose first record was framed at `mark`, lies at `location + framedAt - mark`.
   */
  apply(location: number, frames: Uint8Array, at: number): void;
  /** Undoes what the caller reserved; called only when every queued write is rejected with it. */
  abort(): void;
  resolve(): void;
  reject(err: unknown): void;
}

/** Flushes run from microtasks before one waits for an event-loop turn. */
const MICROTASK_FLUSH_BUDGET = 32;

/** Microtask hops after a commit during which a new append counts as its writer's next one. */
const FOLLOW_WINDOW_HOPS = 16;

/**
 * A lone write up to this size is fsynced on the calling thread (cheaper than
 * the thread-pool hop); a larger one on a worker: flushing 8 MiB on the main
 * thread held the event loop ~8 ms, and every other client with it.
 */
export const BLOCKING_SYNC_MAX_BYTES = 256 * 1024;

/** A batch from this size on is written on a worker thread (Log.writeAsync), not with writeSync. */
export const ASYNC_WRITE_MIN_BYTES = 1024 * 1024;

/**
 * A record whose body is this large or larger gets its checksum in the flush
 * loop, a slice per event-loop turn, before its batch is written, not in the
 * call that framed it: hashing 15 MiB took ~4 ms of that call's turn. The
 * bytes are copied into the batch in the call either way (the caller may reuse
 * its buffer once the call returns).
 */
export const DEFERRED_SEAL_MIN_BYTES = 1024 * 1024;

/** A batch buffer larger than this is dropped after its flush rather than kept for reuse. */
const REUSE_LIMIT_BYTES = 16 * 1024 * 1024;

export class GroupCommit {
  private filling = new CommitBatch();
  /** Batches sealed because they reached batchLimit, oldest first. */
  private readonly sealed: CommitBatch[] = [];
  private spare: CommitBatch | undefined;
  private running = false;
  private scheduled = false;
  private dirtySinceSync = false;
  private timer: NodeJS.Timeout | undefined;
  private drained: (() => void)[] = [];
  private exclusives: (() => Promise<void>)[] = [];
  private following = false;
  private flushesSinceTurn = 0;
  private windows = 0;
  /** Bytes at which a batch is sealed: at most what one segment holds. */
  private readonly batchLimit: number;

  /**
   * `fsyncOnWorker`: never fsync on the calling thread, not even a lone small
   * write. A server wants it: on a busy disk one fdatasync took 100-200 ms, and
   * on the event loop every client waits that long, not just the appender.
   */
  constructor(
    private readonly log: Log,
    private readonly durability: Durability,
    flushIntervalMs: number,
    private readonly fsyncOnWorker = false,
  ) {
    this.batchLimit = Math.min(GROUP_COMMIT_SOFT_LIMIT, log.segmentCapacity);
    if (durability === "buffered") {
      this.timer = setInterval(() => void this.backgroundSync(), flushIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * The most bytes one write (one atomic group) may frame. An atomic group
   * never spans segments; one larger than segmentBytes gets a segment of its
   * own, and offsets inside a segment stay u32.
   */
  get maxWriteBytes(): number {
    return MAX_SEGMENT_BYTES - SEGMENT_HEADER_BYTES;
  }

  /** Where the next record will be framed; pass to `rollback` to drop records framed after it. */
  mark(): number {
    return this.filling.length;
  }

  rollback(mark: number): void {
    this.filling.length = mark;
    this.filling.unsealedFrom(mark);
  }

  /** Bytes framed since `mark` (the size of the write being framed). */
  framedSince(mark: number): number {
    return this.filling.length - mark;
  }

  /** Frames one record with `body` into the pending batch; returns its offset in the batch. */
  frame(type: number, flags: number, body: Uint8Array): number {
    const batch = this.filling;
    const at = batch.length;
    batch.ensureEnd(at + RECORD_HEADER_BYTES + body.length);
    batch.buf.set(body, at + RECORD_HEADER_BYTES);
    batch.length += this.closeFrame(batch, at, type, flags, body.length);
    return at;
  }

  /**
   * Frames one record whose body is `head` followed by `tail`. A store with a
   * small header in front of large bytes (an object of up to maxRecordBytes)
   * would otherwise join the two into a new buffer first and copy the large
   * part twice; here it is copied once, straight into the batch.
   */
  framePair(type: number, flags: number, head: Uint8Array, tail: Uint8Array): number {
    const batch = this.filling;
    const at = batch.length;
    const bodyLength = head.length + tail.length;
    batch.ensureEnd(at + RECORD_HEADER_BYTES + bodyLength);
    batch.buf.set(head, at + RECORD_HEADER_BYTES);
    batch.buf.set(tail, at + RECORD_HEADER_BYTES + head.length);
    batch.length += this.closeFrame(batch, at, type, flags, bodyLength);
    return at;
  }

  /**
   * Starts a frame whose body the caller writes in place, from `frameAt + 12`
   * on, with room for `bodyRoom` bytes; `room` makes more, `endFrame` seals it.
   * The buffer may move when it grows: read `buffer` and `view` after each.
   */
  beginFrame(bodyRoom: number): number {
    const batch = this.filling;
    batch.ensureEnd(batch.length + RECORD_HEADER_BYTES + bodyRoom);
    return batch.length;
  }

  room(end: number): void {
    this.filling.ensureEnd(end);
  }

  get buffer(): Uint8Array {
    return this.filling.buf;
  }

  get view(): DataView {
    return this.filling.view;
  }

  endFrame(frameAt: number, type: number, flags: number, bodyLength: number): void {
    const batch = this.filling;
    batch.length = frameAt + this.closeFrame(batch, frameAt, type, flags, bodyLength);
  }

  /** Seals the frame at `at`, or leaves a large one's checksum to the flush loop; returns the frame length. */
  private closeFrame(batch: CommitBatch, at: number, type: number, flags: number, bodyLength: number): number {
    if (bodyLength < DEFERRED_SEAL_MIN_BYTES) return sealFrame(batch.buf, batch.view, at, type, flags, bodyLength);
    writeFrameFields(batch.buf, batch.view, at, type, flags, bodyLength);
    batch.unsealed.push(at);
    return RECORD_HEADER_BYTES + bodyLength;
  }

  /**
   * Queues the records framed since the last submit as one write; settles the
   * write's promise when committed. Never commits anything before it returns.
   */
  submit(write: PendingWrite): void {
    let batch = this.filling;
    let start = batch.submittedEnd;
    const bytes = batch.length - start;
    // A store checks its write against maxWriteBytes before it submits; a bigger
    // one here could not be addressed inside a segment.
    if (bytes > this.maxWriteBytes) throw new Error(`seglog invariant broken: a write of ${bytes} bytes is over maxWriteBytes`);
    if (batch.length > this.batchLimit && start > 0) {
      // This write takes the batch past its limit: it opens the next batch instead.
      const next = this.newBatch();
      next.ensureEnd(bytes);
      next.buf.set(batch.buf.subarray(start, batch.length));
      next.length = bytes;
      next.unsealed = batch.unsealedFrom(start).map((at) => at - start);
      batch.length = start;
      this.seal(next);
      batch = next;
      start = 0;
    }
    batch.writes.push(write);
    batch.starts.push(start);
    batch.submittedEnd = batch.length;
    if (batch.length >= this.batchLimit) this.seal();
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // Sync: wait for the end of this event-loop turn, so that appends arriving
    // in separate I/O callbacks of one turn (HTTP requests) share the fsync —
    // unless this append follows right on the heels of a commit (an appender
    // awaiting one append after another): nobody else can join it, go at once.
    // Buffered, or a full batch waiting: go at once.
    // Either way, after MICROTASK_FLUSH_BUDGET flushes without one, the next
    // goes through the event loop: an appender awaiting in a tight loop must
    // not starve timers (the buffered fsync), I/O or compaction.
    const atOnce = this.durability === "buffered" || this.following || this.sealed.length > 0;
    if (atOnce && this.flushesSinceTurn < MICROTASK_FLUSH_BUDGET) queueMicrotask(this.start);
    else
      setImmediate(() => {
        this.flushesSinceTurn = 0;
        this.start();
      });
  }

  /** Resolves when nothing is pending or being written. */
  drain(): Promise<void> {
    if (!this.running && !this.scheduled && this.filling.writes.length === 0 && this.sealed.length === 0) return Promise.resolve();
    return new Promise((done) => this.drained.push(done));
  }

  /**
   * Runs `fn` between batches, when no write is in flight (a forced roll). A
   * busy flush loop runs it before its next batch, so a steady stream of
   * appends cannot starve it; writes submitted meanwhile go out right after.
   */
  exclusive(fn: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.exclusives.push(() => fn().then(resolve, reject));
      if (!this.running && !this.scheduled) {
        this.scheduled = true;
        queueMicrotask(this.start);
      }
    });
  }

  /** Makes every written byte durable (close, and the buffered-mode timer). */
  async syncNow(): Promise<void> {
    if (!this.dirtySinceSync) return;
    this.dirtySinceSync = false;
    await this.log.sync();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private readonly start = (): void => {
    this.scheduled = false;
    if (!this.running) void this.run();
  };

  /** Queues the batch being filled and starts filling `next`. */
  private seal(next = this.newBatch()): void {
    this.sealed.push(this.filling);
    this.filling = next;
  }

  private newBatch(): CommitBatch {
    const spare = this.spare;
    this.spare = undefined;
    return spare ?? new CommitBatch();
  }

  private recycle(batch: CommitBatch): void {
    batch.reset();
    if (batch.buf.length <= REUSE_LIMIT_BYTES) this.spare = batch;
  }

  /** The oldest batch with writes: a sealed one, else the one being filled. */
  private nextBatch(): CommitBatch | undefined {
    const sealed = this.sealed.shift();
    if (sealed !== undefined) return sealed;
    if (this.filling.writes.length === 0) return undefined;
    const batch = this.filling;
    this.filling = this.newBatch();
    return batch;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        if (this.exclusives.length > 0) for (const fn of this.exclusives.splice(0)) await fn();
        const batch = this.nextBatch();
        if (batch === undefined) break;
        // Out of framing's reach now (nextBatch took it): its bytes cannot change while it is sealed.
        if (batch.unsealed.length > 0) await batch.sealPending();
        const company = batch.writes.length > 1;
        try {
          // Most batches (buffered, or a lone sync write) complete without waiting:
          // no promise hop for them.
          const waiting = this.flush(batch);
          if (waiting !== undefined) await waiting;
        } finally {
          this.recycle(batch);
        }
        this.flushesSinceTurn++;
        // Let the appenders that just resolved frame their next records, so the
        // next write carries all of them (a lone appender needs no wait); and
        // give the event loop a turn when microtasks alone have run too long.
        if ((this.durability === "sync" && company) || this.flushesSinceTurn >= MICROTASK_FLUSH_BUDGET) {
          await nextTurn();
          this.flushesSinceTurn = 0;
        }
      }
    } finally {
      this.running = false;
      for (const done of this.drained.splice(0)) done();
    }
  }

  /** Writes (and, sync, fsyncs) one batch; returns a promise only when it has to wait. */
  private flush(batch: CommitBatch): Promise<void> | undefined {
    if (this.log.mustRoll(batch.length)) {
      return this.log.makeRoom(batch.length).then(
        () => this.writeOut(batch),
        (err: unknown) => this.rejectAll(batch, err),
      );
    }
    return this.writeOut(batch);
  }

  private writeOut(batch: CommitBatch): Promise<void> | undefined {
    if (batch.length >= ASYNC_WRITE_MIN_BYTES) {
      return this.log.writeAsync(batch.buf, batch.length).then(
        (location) => this.written(batch, location),
        (err: unknown) => this.rejectAll(batch, err),
      );
    }
    let location: number;
    try {
      location = this.log.write(batch.buf, batch.length);
    } catch (err) {
      this.rejectAll(batch, err);
      return undefined;
    }
    return this.written(batch, location);
  }

  /** After the batch's write: fsync when sync, then commit. */
  private written(batch: CommitBatch, location: number): Promise<void> | undefined {
    this.dirtySinceSync = true;
    if (this.durability === "sync") {
      this.dirtySinceSync = false;
      // A lone small write with nobody queued behind it: flush on this thread,
      // the thread-pool round trip would cost as much as the fsync. Any company
      // (a batch of several, or arrivals already waiting) takes the worker
      // path, so appends keep gathering into the next batch meanwhile; so does
      // a large batch, whose flush would hold the event loop.
      if (this.fsyncOnWorker || batch.writes.length !== 1 || this.filling.writes.length !== 0 || this.sealed.length !== 0 || batch.length > BLOCKING_SYNC_MAX_BYTES) {
        return this.log.sync().then(
          () => this.commit(batch, location),
          (err: unknown) => this.undo(batch, location, err),
        );
      }
      try {
        this.log.syncBlocking();
      } catch (err) {
        this.undo(batch, location, err);
        return undefined;
      }
    }
    this.commit(batch, location);
    return undefined;
  }

  private commit(batch: CommitBatch, location: number): void {
    this.log.publish();
    const { writes, starts } = batch;
    let applied = 0;
    try {
      for (; applied < writes.length; applied++) writes[applied]!.apply(location + starts[applied]!, batch.buf, starts[applied]!);
    } catch (err) {
      // The records are durable but an index refused them: this process can no
      // longer say what is committed. Stop writing; a reopen replays the log.
      const failure = this.log.failInternal(err);
      for (let i = 0; i < applied; i++) writes[i]!.resolve();
      for (let i = applied; i < writes.length; i++) writes[i]!.reject(failure);
      this.rejectQueued(failure);
      return;
    }
    for (const w of writes) w.resolve();
    if (this.durability === "sync") this.openFollowWindow();
  }

  /** Rejected writes leave nothing behind: bytes written before a failed fsync are cut. */
  private undo(batch: CommitBatch, location: number, err: unknown): void {
    this.log.cutBack(location);
    this.rejectAll(batch, err);
  }

  /** A failed batch takes every queued write with it: their checks assumed it would land. */
  private rejectAll(batch: CommitBatch, err: unknown): void {
    for (const w of batch.writes) w.abort();
    this.rejectQueued(err, batch.writes);
  }

  /** Rejects every write of the sealed batches and the one being filled (and `also`). */
  private rejectQueued(err: unknown, also: PendingWrite[] = []): void {
    const queued: PendingWrite[] = [];
    for (const b of this.sealed.splice(0)) queued.push(...b.writes);
    queued.push(...this.filling.writes);
    this.filling.reset();
    for (const w of queued) w.abort();
    for (const w of also) w.reject(err);
    for (const w of queued) w.reject(err);
  }

  /**
   * For the next few microtask hops after a commit resolved its writers, an
   * append can only come from one of them continuing (the hops of an async
   * function's return and its caller's await). Appends from other sources (I/O
   * callbacks, timers) arrive after the window closes.
   */
  private openFollowWindow(): void {
    this.following = true;
    const window = ++this.windows;
    let hops = FOLLOW_WINDOW_HOPS;
    const hop = () => {
      if (--hops > 0) queueMicrotask(hop);
      // Only the newest window closes the door: an older one may still be counting.
      else if (window === this.windows) this.following = false;
    };
    queueMicrotask(hop);
  }

  private async backgroundSync(): Promise<void> {
    if (this.running || !this.dirtySinceSync) return;
    try {
      await this.syncNow();
    } catch {
      // The log is now failed; the next write reports it.
    }
  }
}

/** TOO_LARGE for a write (one atomic group) over maxWriteBytes. */
export function writeTooLarge(bytes: number, limit: number, what: string, streamId?: string): SeglogError {
  return new SeglogError("TOO_LARGE", `${what} makes ${bytes} bytes in one atomic write, over the limit of ${limit}`, { argument: what, streamId });
}
