/**
 * The segmented log: an ordered list of segments, of which only the newest (the
 * active one) is written.
 *
 * Owns: the segment files of the directory and the writer's failure state.
 * Concurrency: one writer (GroupCommit) calls `makeRoom`, `write`, `sync` and
 * `publish` strictly one batch at a time; readers call `reader.read` and
 * `cursor` at any moment and only ever see bytes below a segment's committedEnd.
 * Invariant: records are appended, never modified in place; a failed write or
 * fsync stops all later writes until the database is reopened (fail-stop),
 * because after a failed fsync the kernel may have dropped the dirty pages
 * while reporting a later fsync as successful.
 */
import { join } from "node:path";
import { SeglogError } from "../errors.js";
import { parseSegmentFileName, segmentFileName } from "../format/constants.js";
import type { FileSystem } from "../io/file-system.js";
import { MAX_SEGMENT_NUMBER, SEGMENT_HEADER_BYTES } from "../limits.js";
import { offsetOf, packLocation, segmentOf } from "./location.js";
import { RecordReader } from "./record-reader.js";
import { SegmentCursor } from "./segment-cursor.js";
import type { DurableTail, DurableTailWriter } from "./durable-tail.js";
import { createSegment, openSegment, type Segment } from "./segment.js";

export class Log {
  readonly reader: RecordReader;
  /** Called after a roll, between batches, so the owner can write a checkpoint. */
  onRoll: (() => Promise<void>) | undefined;
  /** The writer's: where fsynced bytes end, told to readers in other processes after every fsync. */
  durableTail: DurableTailWriter | undefined;
  /**
   * Where fsynced bytes end in this process: everything in segments before
   * `durable.segment`, and below `durable.end` in it. Replication forwards only
   * what lies below it (a buffered write may still be taken back by a crash).
   */
  readonly durable = { segment: 0, end: SEGMENT_HEADER_BYTES };
  /** Told after every fsync that moved `durable`. */
  readonly durableListeners = new Set<() => void>();
  private failure: SeglogError | undefined;
  private readonly byNumber = new Map<number, Segment>();

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    readonly segments: Segment[],
    private readonly segmentBytes: number,
    readonly maxBody: number,
  ) {
    for (const s of segments) this.byNumber.set(s.number, s);
    this.reader = new RecordReader((n) => this.segment(n), maxBody);
  }

  /** Opens every segment of `dir`, creating the first one in an empty writable directory. */
  static async open(fs: FileSystem, dir: string, segmentBytes: number, maxBody: number, readOnly: boolean): Promise<Log> {
    const names = fs.list(dir);
    // A `.cleaned` file is a compaction copy that was never swapped in: the
    // segment it would replace is still whole, so the copy is dropped.
    if (!readOnly) for (const name of names) if (name.endsWith(".seg.cleaned")) fs.remove(join(dir, name));
    const numbers = names
      .map(parseSegmentFileName)
      .filter((n): n is number => n !== undefined)
      .sort((a, b) => a - b);
    const segments: Segment[] = [];
    for (let i = 0; i < numbers.length; i++) {
      const path = join(dir, segmentFileName(numbers[i]!));
      const newest = i === numbers.length - 1;
      const segment = openSegment(fs, path, numbers[i]!, newest && !readOnly);
      if (segment !== undefined) {
        segments.push(segment);
        continue;
      }
      if (!newest) throw new SeglogError("CORRUPTION", `${path} has no readable header`, { file: path, offset: 0 });
      // The crash came while this segment was being created: it holds nothing.
      if (!readOnly) fs.remove(path);
    }
    if (!readOnly && segments.length > 0) {
      const last = segments[segments.length - 1]!;
      if (numbers[numbers.length - 1] !== last.number) {
        // The previous segment becomes the active one again: reopen it writable.
        last.close();
        segments[segments.length - 1] = openSegment(fs, last.path, last.number, true)!;
      }
    }
    if (segments.length === 0 && !readOnly) {
      segments.push(await createSegment(fs, dir, { segmentNumber: 0, generation: 0 }));
    }
    return new Log(fs, dir, segments, segmentBytes, maxBody);
  }

  get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  get isEmpty(): boolean {
    return this.segments.length === 0;
  }

  segment(number: number): Segment {
    const s = this.byNumber.get(number);
    if (s === undefined) throw new SeglogError("CORRUPTION", `segment ${number} is missing from ${this.dir}`, { offset: 0 });
    return s;
  }

  locationOf(segment: Segment, offset: number): number {
    return packLocation(segment.number, offset);
  }

  /**
   * Puts a rewritten sealed segment in place of the one with its number (the
   * compaction swap). Synchronous, so no read sees half of it; the old handle
   * closes because no read is ever in flight across a turn.
   */
  replaceSegment(next: Segment): void {
    const i = this.segments.findIndex((s) => s.number === next.number);
    if (i < 0 || i === this.segments.length - 1) throw new Error("seglog invariant broken: only sealed segments are replaced");
    const old = this.segments[i]!;
    this.segments[i] = next;
    this.byNumber.set(next.number, next);
    this.reader.invalidate();
    old.close();
  }

  /** Starts a new active segment now (compaction seals the data it wants to clean). */
  async roll(): Promise<void> {
    await this.makeRoom(Infinity);
  }

  /** `scratch`: a buffer the caller lends for a synchronous scan (never across an await). */
  cursor(segment: Segment, start: number, end: number, scratch?: Uint8Array): SegmentCursor {
    return new SegmentCursor(segment, start, end, this.maxBody, scratch);
  }

  /** Bytes of records one segment holds: a write (one atomic group) must fit in it. */
  get segmentCapacity(): number {
    return this.segmentBytes - SEGMENT_HEADER_BYTES;
  }

  get failed(): SeglogError | undefined {
    return this.failure;
  }

  checkWritable(): void {
    if (this.failure !== undefined) {
      throw new SeglogError("IO_ERROR", `writes are stopped after an I/O error: ${this.failure.message}`, { cause: this.failure.cause });
    }
  }

  /** Whether `bytes` more would take the active segment past segmentBytes (a segment holds at least one batch). */
  mustRoll(bytes: number): boolean {
    const active = this.active;
    return active.size !== SEGMENT_HEADER_BYTES && active.size + bytes > this.segmentBytes;
  }

  /** Rolls to a new segment when `bytes` would take the active one past segmentBytes. */
  async makeRoom(bytes: number): Promise<void> {
    if (!this.mustRoll(bytes)) return;
    const active = this.active;
    if (active.number >= MAX_SEGMENT_NUMBER) throw new SeglogError("IO_ERROR", "the log has reached its largest segment number");
    try {
      await active.handle.sync();
      this.madeDurable(active.number, active.size);
      const next = await createSegment(this.fs, this.dir, { segmentNumber: active.number + 1, generation: 0 });
      this.segments.push(next);
      this.byNumber.set(next.number, next);
    } catch (err) {
      throw this.fail(err, "rolling to a new segment");
    }
    if (this.onRoll !== undefined) await this.onRoll();
  }

  /** Writes a batch at the end of the active segment; returns the batch's location. */
  write(batch: Uint8Array, length: number): number {
    this.checkWritable();
    const active = this.active;
    const start = active.size;
    try {
      active.handle.write(batch, 0, length, start);
    } catch (err) {
      throw this.failWrite(active, start, err);
    }
    active.size = start + length;
    return packLocation(active.number, start);
  }

  /**
   * The same on a worker thread, for batches large enough that copying them
   * into the page cache would hold the event loop. The group commit writes one
   * batch at a time, so nothing else writes or rolls the log meanwhile; an
   * fsync started meanwhile (the buffered flush timer) covers only what was
   * written before, since the size moves after the write.
   */
  async writeAsync(batch: Uint8Array, length: number): Promise<number> {
    this.checkWritable();
    const active = this.active;
    const start = active.size;
    try {
      await active.handle.writeAsync(batch, 0, length, start);
    } catch (err) {
      throw this.failWrite(active, start, err);
    }
    // A failure meanwhile (that fsync) stopped writes: this batch is an unacknowledged tail.
    this.checkWritable();
    active.size = start + length;
    return packLocation(active.number, start);
  }

  async sync(): Promise<void> {
    // What the fsync covers is what was written when it started.
    const active = this.active;
    const end = active.size;
    try {
      await active.handle.sync();
    } catch (err) {
      throw this.fail(err, "fsync");
    }
    this.madeDurable(active.number, end);
  }

  syncBlocking(): void {
    const active = this.active;
    try {
      active.handle.syncBlocking();
    } catch (err) {
      throw this.fail(err, "fsync");
    }
    this.madeDurable(active.number, active.size);
  }

  /** After open's recovery: what is on disk now is what a crash leaves. */
  markAllDurable(): void {
    const active = this.segments[this.segments.length - 1];
    if (active !== undefined) this.madeDurable(active.number, active.size);
  }

  private madeDurable(segment: number, end: number): void {
    this.durableTail?.publish(segment, end);
    if (segment < this.durable.segment || (segment === this.durable.segment && end <= this.durable.end)) return;
    this.durable.segment = segment;
    this.durable.end = end;
    for (const listener of this.durableListeners) listener();
  }

  // ---- a reader following a writer in another process --------------------------

  /**
   * A reader's open: keeps only what the writer's last fsync covered (`tail`),
   * so no record a crash could still take back is ever replayed. Segments past
   * the tail's hold nothing durable yet.
   */
  boundTo(tail: DurableTail): void {
    // Only the newest segment can hold bytes not yet fsynced: the writer fsyncs a
    // segment whole before it creates the next one.
    const newest = this.segments[this.segments.length - 1];
    if (newest === undefined) return;
    if (newest.number === tail.segment) newest.size = newest.committedEnd = Math.max(SEGMENT_HEADER_BYTES, Math.min(newest.size, tail.end));
    else if (newest.number > tail.segment) newest.size = newest.committedEnd = SEGMENT_HEADER_BYTES;
  }

  /**
   * A reader's step towards the writer's durable tail: the segments to replay
   * and where to start, after growing the last one and opening new ones to what
   * `tail` makes durable. Undefined when there is nothing new.
   */
  extendTo(tail: DurableTail): { startIndex: number; startOffset: number } | undefined {
    const last = this.active;
    if (tail.segment < last.number || (tail.segment === last.number && tail.end <= last.size)) return undefined;
    // Every new segment is opened before anything changes, so a failure (a file
    // the writer's compaction removed meanwhile) leaves the reader where it was.
    const opened: Segment[] = [];
    try {
      for (let n = last.number + 1; n <= tail.segment; n++) {
        const next = openSegment(this.fs, join(this.dir, segmentFileName(n)), n, false);
        if (next === undefined) break; // created but its header not yet whole: wait for the next publish
        next.size = n < tail.segment ? next.size : Math.min(next.size, tail.end);
        opened.push(next);
      }
    } catch (err) {
      for (const s of opened) s.close();
      throw err;
    }
    const startIndex = this.segments.length - 1;
    const startOffset = last.size;
    // A segment the writer rolled away from was fsynced whole before the roll.
    last.size = tail.segment > last.number ? last.handle.size() : tail.end;
    for (const next of opened) {
      this.segments.push(next);
      this.byNumber.set(next.number, next);
    }
    return { startIndex, startOffset };
  }

  /** After the replay of an extension: readers may now see every byte it covered. */
  publishFollowed(): void {
    for (const s of this.segments) s.committedEnd = s.size;
  }

  /**
   * Best effort after a failed batch: cut the active segment back to where the
   * batch began, so a reopen does not replay what was rejected. The database is
   * failed already; a failing cut changes nothing more.
   */
  cutBack(batchLocation: number): void {
    const active = this.active;
    if (segmentOf(batchLocation) !== active.number) return;
    const offset = offsetOf(batchLocation);
    try {
      active.handle.truncate(offset);
      active.size = offset;
    } catch {
      // Left as is: recovery treats those bytes like any unacknowledged tail.
    }
  }

  /** Makes everything written so far visible to readers. */
  publish(): void {
    const active = this.active;
    active.committedEnd = active.size;
  }

  /** Bytes of all segments. */
  diskBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  close(): void {
    for (const s of this.segments) s.close();
    this.durableTail?.close();
    this.durableTail = undefined;
  }

  /**
   * A write that ran out of space is cut back so that nothing of it stays; the
   * database stays open when that works. Any other failure is fail-stop.
   */
  private failWrite(active: Segment, start: number, err: unknown): SeglogError {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOSPC") {
      try {
        active.handle.truncate(start);
        return new SeglogError("IO_ERROR", `no space left to append to ${active.path}`, { cause: err, file: active.path, offset: start });
      } catch {
        // The cut failed too: fall through to fail-stop.
      }
    }
    return this.fail(err, `write to ${active.path}`);
  }

  /**
   * An index refused a committed record (a bug): what this process believes is
   * committed can no longer be trusted, so writes stop as after a failed fsync.
   */
  failInternal(err: unknown): SeglogError {
    return this.fail(err, "applying a committed batch");
  }

  private fail(err: unknown, what: string): SeglogError {
    if (err instanceof SeglogError && this.failure !== undefined) return err;
    const cause = err instanceof SeglogError ? err.cause ?? err : err;
    this.failure = new SeglogError("IO_ERROR", `${what} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    return this.failure;
  }
}
