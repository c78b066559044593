/**
 * open(): wires io → log → recovery → indexes → stores, and the Database
 * object that owns them until close().
 *
 * Open runs the passes of docs/recovery.md: lock, open segments (dropping a
 * newest segment whose creation was torn), load the checkpoint if it still
 * matches the segments on disk, replay the log after it (cutting a torn tail),
 * then start the writer.
 */
import { resolve } from "node:path";
import { invalidArgument, SeglogError } from "./errors.js";
import { checksum, loadChecksum } from "./format/checksum.js";
import { ArrayAreaWriter, type ArrayArea } from "./index/array-area.js";
import { readCheckpoint, TAIL_CHECK_BYTES, writeCheckpoint, type CheckpointBody } from "./index/checkpoint.js";
import type { DirectoryLock, FileSystem } from "./io/file-system.js";
import { NodeFileSystem } from "./io/node-file-system.js";
import { watchDurableTail, type TailWatch } from "./io/tail-watch.js";
import { compact, type CompactionHost } from "./compaction/compactor.js";
import { DurableTailWriter, readDurableTail } from "./log/durable-tail.js";
import { GroupCommit } from "./log/group-commit.js";
import { Log } from "./log/log.js";
import { recover, type Damage } from "./log/recovery.js";
import type { Segment } from "./log/segment.js";
import { verifyLog } from "./log/verify.js";
import { MAX_RECORD_BYTES_LIMIT, SEGMENT_HEADER_BYTES, checkLimits } from "./limits.js";
import { resolveOptions, type EngineOptions, type ResolvedOptions } from "./options.js";
import { CommitSignal, type LogStore, type StoreContext } from "./stores/context.js";
import { CassetteStore } from "./stores/cassettes/cassette-store.js";
import { ContextStore } from "./stores/contexts/context-store.js";
import { EventStore } from "./stores/events/event-store.js";
import { ObjectStore } from "./stores/objects/object-store.js";
import { RecordingStore } from "./stores/recordings/recording-store.js";
import { ByteStreamStore } from "./stores/streams/byte-stream-store.js";
import type * as api from "./types.js";
import type { PositionIndex } from "./index/position-index.js";
import { readReplicationState } from "./replication/replication-state.js";

export async function open(dir: string, options?: EngineOptions): Promise<api.Database> {
  if (typeof dir !== "string" || dir.length === 0) throw invalidArgument("dir", "must be a non-empty path");
  const resolved = resolveOptions(options);
  checkLimits(resolved.segmentBytes, resolved.maxRecordBytes);
  const fs = options?.fileSystem ?? new NodeFileSystem();
  await loadChecksum();
  if (resolved.readOnly) {
    if (!fs.isDirectory(dir)) throw invalidArgument("dir", `${dir} is not a database directory`);
  } else {
    if (fs.exists(dir) && !fs.isDirectory(dir)) throw invalidArgument("dir", `${dir} is not a directory`);
    try {
      fs.mkdirp(dir);
    } catch (err) {
      throw new SeglogError("IO_ERROR", `cannot create ${dir}: ${(err as Error).message}`, { cause: err });
    }
  }
  try {
    const lock = resolved.readOnly ? undefined : fs.lock(dir);
    try {
      return await DatabaseImpl.start(fs, resolve(dir), resolved, lock);
    } catch (err) {
      lock?.release();
      throw err;
    }
  } catch (err) {
    if (err instanceof SeglogError) throw err;
    throw new SeglogError("IO_ERROR", `open of ${dir} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}

/** What seglog/replication uses of an open database; not part of the public API. */
export interface ReplicationHost {
  readonly fs: FileSystem;
  readonly dir: string;
  readonly log: Log;
  readonly positions: PositionIndex;
  readonly signal: CommitSignal;
  readonly readOnly: boolean;
  isOpen(): boolean;
  /** Sets (or clears) the wait every event-store write makes before it answers. */
  setReplicationAck(ack: (() => Promise<void>) | undefined): void;
  /** Runs at the start of close(), before the log stops; close waits for it. */
  onClose(listener: () => Promise<void>): void;
}

export function replicationHost(db: api.Database): ReplicationHost {
  if (!(db instanceof DatabaseImpl)) throw invalidArgument("db", "must be a database returned by open()");
  return db.asReplicationHost();
}

/** Enough of a damaged frame for its header and an event envelope with the longest stream id. */
const SALVAGE_BYTES = 16 * 1024;

function damagedFrame(segments: Segment[], d: Damage): Uint8Array {
  const segment = segments.find((s) => s.path === d.file);
  if (segment === undefined) return new Uint8Array(0);
  const bytes = new Uint8Array(Math.max(0, Math.min(SALVAGE_BYTES, segment.size - d.offset)));
  try {
    return bytes.subarray(0, segment.read(bytes, 0, bytes.length, d.offset));
  } catch {
    return new Uint8Array(0);
  }
}

/** Checkpoint arrays are the host's typed arrays: a host of the other byte order rebuilds instead. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

class DatabaseImpl implements api.Database, StoreContext {
  readonly events: EventStore;
  readonly objects: ObjectStore;
  readonly cassettes: CassetteStore;
  readonly recordings: RecordingStore;
  readonly contexts: ContextStore;
  readonly streams: ByteStreamStore;
  /** Every store on the log, in the order open replays and checkpoints them. */
  private readonly stores: LogStore[];
  private readonly storeByType = new Map<number, LogStore>();
  readonly signal = new CommitSignal();
  readonly commit: GroupCommit;
  replicationAck: (() => Promise<void>) | undefined;
  private readonly closeListeners: (() => Promise<void>)[] = [];
  private state: "open" | "closing" | "closed" = "open";
  private closing: Promise<void> | undefined;
  /** Bytes of a torn tail cut at open (reported by stats() as repairedBytes). */
  private tornBytesCut = 0;
  /** Records open replayed from the log and their store refused (reported by verify()). */
  private rejectedAtOpen: Damage[] = [];
  private compacting: Promise<void> | undefined;
  private checkpointing: Promise<void> = Promise.resolve();
  /** The checkpoint open restored from: index arrays not needed yet are still read from it. */
  private checkpointArea: ArrayArea | undefined;
  /** A read-only database's watch on the writer's durable tail. */
  private follower: TailWatch | undefined;
  /** Why the last step of following the writer failed, while it keeps failing. */
  private followFailure: string | undefined;
  /**
   * The log's shape (every segment's number, generation and committed end) that
   * the checkpoint on disk describes. Every change to any store is a record, so
   * while the shape is the same the checkpoint is too, and close need not
   * rewrite it (at 10M events that is a 120 MB file).
   */
  private checkpointShape: string | undefined;

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    readonly log: Log,
    private readonly options: ResolvedOptions,
    private readonly lock: DirectoryLock | undefined,
  ) {
    this.commit = new GroupCommit(log, options.durability, options.flushIntervalMs, options.fsyncOnWorker);
    this.events = new EventStore(this);
    this.objects = new ObjectStore(this);
    this.cassettes = new CassetteStore(this);
    this.recordings = new RecordingStore(this);
    this.contexts = new ContextStore(this);
    this.streams = new ByteStreamStore(this);
    this.stores = [this.events, this.objects, this.cassettes, this.recordings, this.contexts, this.streams];
    for (const store of this.stores) for (const type of store.recordTypes) this.storeByType.set(type, store);
  }

  static async start(fs: FileSystem, dir: string, options: ResolvedOptions, lock: DirectoryLock | undefined): Promise<DatabaseImpl> {
    // Frames are read with the format's own bound, not this open's maxRecordBytes:
    // a smaller limit today must not turn yesterday's larger records into damage.
    const log = await Log.open(fs, dir, options.segmentBytes, MAX_RECORD_BYTES_LIMIT, options.readOnly);
    // A reader replays only what the writer's last fsync covered.
    const tail = options.readOnly ? readDurableTail(fs, dir) : undefined;
    if (tail !== undefined) log.boundTo(tail);
    const db = new DatabaseImpl(fs, dir, log, options, lock);
    try {
      await db.recover();
      log.markAllDurable();
      // Every fsync from now on tells readers in other processes how far the log is durable.
      if (!options.readOnly) log.durableTail = new DurableTailWriter(fs, dir);
    } catch (err) {
      db.commit.stop();
      db.closeCheckpointArea();
      log.close();
      throw err;
    }
    if (options.readOnly) {
      db.commit.stop();
      const follower = watchDurableTail(dir, () => db.followWriter(), fs instanceof NodeFileSystem);
      db.follower = follower;
      db.signal.onWaiting = (waiting) => follower.hold(waiting);
    } else log.onRoll = () => db.saveCheckpoint();
    return db;
  }

  get clock(): () => number {
    return this.options.clock;
  }

  get maxRecordBytes(): number {
    return this.options.maxRecordBytes;
  }

  // ---- StoreContext ---------------------------------------------------------

  checkOpen(): void {
    if (this.state !== "open") throw new SeglogError("CLOSED", `database ${this.dir} is closed`);
  }

  isOpen(): boolean {
    return this.state === "open";
  }

  checkWritable(): void {
    this.checkOpen();
    if (this.options.readOnly) throw new SeglogError("READ_ONLY", `database ${this.dir} is open read-only`);
    this.log.checkWritable();
  }

  // ---- Database -------------------------------------------------------------

  health(): api.Health {
    if (this.state !== "open") return { ok: false, state: "closed" };
    const failed = this.log.failed;
    if (failed !== undefined) return { ok: false, state: "failed", reason: failed.message };
    if (this.followFailure !== undefined) return { ok: false, state: "failed", reason: this.followFailure };
    return { ok: true, state: "open" };
  }

  async stats(): Promise<api.Stats> {
    this.checkOpen();
    let streams = 0;
    let events = 0;
    for (const entry of this.events.table.entries()) {
      if (!entry.exists) continue;
      streams++;
      events += this.events.readableCount(entry);
    }
    const diskBytes = this.log.diskBytes();
    const garbageBytes = this.stores.reduce((n, store) => n + store.garbageBytes(), 0);
    const keyed = {
      streams: this.streams.usage() as api.Stats["stores"]["streams"],
      objects: this.objects.usage() as api.Stats["stores"]["objects"],
      cassettes: this.cassettes.usage() as api.Stats["stores"]["cassettes"],
      recordings: this.recordings.usage() as api.Stats["stores"]["recordings"],
      contexts: this.contexts.usage() as api.Stats["stores"]["contexts"],
    };
    const keyedBytes = Object.values(keyed).reduce((n, u) => n + u.bytes, 0);
    const eventBytes = Math.max(0, diskBytes - this.log.segments.length * SEGMENT_HEADER_BYTES - keyedBytes - garbageBytes);
    return {
      diskBytes,
      segments: this.log.segments.length,
      streams,
      events,
      lastPosition: this.events.positions.lastPosition,
      garbageBytes,
      repairedBytes: this.tornBytesCut,
      stores: { events: { streams, events, bytes: eventBytes }, ...keyed },
    };
  }

  async verify(options?: { onProgress?: (p: { done: number; total: number }) => void }): Promise<api.VerifyReport> {
    this.checkOpen();
    const scan = await verifyLog(this.log, options?.onProgress);
    this.checkOpen();
    const problems = [...scan.problems, ...this.rejectedAtOpen.map((d) => `${d.file} offset ${d.offset}: ${d.reason}`)];
    for (const store of this.stores) problems.push(...store.verify());
    return { ok: problems.length === 0, records: scan.records, segments: this.log.segments.length, problems };
  }

  async compact(options?: { onProgress?: (p: { done: number; total: number }) => void }): Promise<api.CompactionReport> {
    this.checkWritable();
    const o = options ?? {};
    if (typeof o !== "object") throw invalidArgument("options", "must be an object");
    if (o.onProgress !== undefined && typeof o.onProgress !== "function") throw invalidArgument("options.onProgress", "must be a function");
    // One compaction at a time: a second call runs after the first.
    const previous = this.compacting ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(() => {
        this.checkWritable();
        return compact(this.compactionHost(), o.onProgress);
      })
      .catch((err: unknown) => {
        // A failed compaction leaves the log as it was (docs/compaction.md); say so with a code.
        if (err instanceof SeglogError) throw err;
        throw new SeglogError("IO_ERROR", `compaction failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      });
    this.compacting = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  asReplicationHost(): ReplicationHost {
    return {
      fs: this.fs,
      dir: this.dir,
      log: this.log,
      positions: this.events.positions,
      signal: this.signal,
      readOnly: this.options.readOnly,
      isOpen: () => this.isOpen(),
      setReplicationAck: (ack) => {
        this.replicationAck = ack;
      },
      onClose: (listener) => {
        this.closeListeners.push(listener);
      },
    };
  }

  // ---- internals ------------------------------------------------------------

  private async shutdown(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closing";
    await Promise.allSettled(this.closeListeners.map((listener) => listener()));
    this.follower?.close();
    this.signal.onWaiting = undefined;
    try {
      // A running compaction sees the state and stops at its next chunk.
      await this.compacting;
      await this.commit.drain();
      this.commit.stop();
      if (!this.options.readOnly && this.log.failed === undefined) {
        await this.commit.syncNow();
        if (this.logShape() !== this.checkpointShape || this.stores.some((s) => s.hasUnloggedChanges?.() === true)) await this.saveCheckpoint();
      }
    } finally {
      this.state = "closed";
      this.closeCheckpointArea();
      this.log.close();
      this.lock?.release();
      this.signal.notify();
    }
  }

  /**
   * A read-only database in another process than the writer: applies what the
   * writer has made durable since the last step, then wakes subscriptions and
   * long-polls. Synchronous, so no read ever sees half a step. The writer's
   * compactions do not disturb it: segments it has open stay readable as they
   * were (the writer renames over them, it never writes into them).
   */
  followWriter(): void {
    if (this.state !== "open") return;
    const tail = readDurableTail(this.fs, this.dir);
    if (tail === undefined) return;
    let step: { startIndex: number; startOffset: number } | undefined;
    try {
      step = this.log.extendTo(tail);
      this.followFailure = undefined;
    } catch (err) {
      // Called from a timer: never thrown. Reads go on with what was applied;
      // health() says the reader is behind until a later step works (or a reopen).
      this.followFailure = `following the writer failed (reopen to catch up): ${(err as Error)?.message ?? String(err)}`;
      return;
    }
    if (step === undefined) return;
    let result: ReturnType<typeof recover>;
    try {
      result = recover(this.log.segments, step.startIndex, step.startOffset, this.log.maxBody, true, (type, body, location) =>
        this.storeByType.get(type)?.replay(type, body, location),
      );
    } catch (err) {
      // A read failed halfway through a step: what this reader holds is only good up
      // to the last step, so it stops following and says so.
      this.followFailure = `following the writer stopped (reopen to catch up): ${(err as Error)?.message ?? String(err)}`;
      this.follower?.close();
      this.follower = undefined;
      return;
    }
    // Damage met on the way is reported by verify(), as damage found at open is.
    this.rejectedAtOpen.push(...result.rejected, ...result.damage);
    for (const store of this.stores) store.followed?.();
    this.log.publishFollowed();
    this.signal.notify();
  }

  private async recover(): Promise<void> {
    const segments = this.log.segments;
    if (segments.length === 0) return;
    const loaded = readCheckpoint(this.fs, this.dir);
    const checkpoint = loaded?.body;
    this.checkpointArea = loaded?.area;
    let startIndex = 0;
    let startOffset = SEGMENT_HEADER_BYTES;
    const trusted = checkpoint !== undefined && this.checkpointMatches(checkpoint);
    if (!trusted) this.closeCheckpointArea();
    if (trusted) {
      for (const store of this.stores) store.restore(checkpoint.sections[store.name], loaded!.area);
      startIndex = segments.findIndex((s) => s.number === checkpoint.logEnd[0]);
      startOffset = checkpoint.logEnd[1];
    }
    // Record types no store claims come from a newer writer's stores; this code skips them.
    const result = recover(segments, startIndex, startOffset, this.log.maxBody, this.options.readOnly, (type, body, location) =>
      this.storeByType.get(type)?.replay(type, body, location),
    );
    this.tornBytesCut = result.tornBytes;
    this.rejectedAtOpen = result.rejected;
    if (result.damage.length > 0) {
      // Versions and positions must never go back to reuse what damage hides.
      for (const d of result.damage) this.events.salvage(damagedFrame(segments, d));
      if (checkpoint !== undefined && !trusted) this.events.raiseFloors(checkpoint.sections[this.events.name]);
    }
    for (const store of this.stores) store.recovered();
    if (result.tornBytes > 0 && !this.options.readOnly) await this.log.sync();
    if (trusted) this.checkpointShape = JSON.stringify(checkpoint.segments);
  }

  private closeCheckpointArea(): void {
    this.checkpointArea?.close();
    this.checkpointArea = undefined;
  }

  private logShape(): string {
    return JSON.stringify(this.log.segments.map((s) => [s.number, s.generation, s.committedEnd]));
  }

  /** A checkpoint is trusted only if every segment it points into is still the same file. */
  private checkpointMatches(c: CheckpointBody): boolean {
    if (c.littleEndian !== HOST_LITTLE_ENDIAN) return false;
    // Every store's section must be there: a store added since would otherwise start empty.
    if (this.stores.some((store) => c.sections[store.name] === undefined)) return false;
    const [endSegment, endOffset] = c.logEnd;
    const end = this.log.segments.find((s) => s.number === endSegment);
    if (end === undefined || end.size < endOffset || endOffset < SEGMENT_HEADER_BYTES) return false;
    const [tailLength, tailChecksum] = c.tail;
    if (tailLength > 0) {
      const bytes = new Uint8Array(tailLength);
      if (end.read(bytes, 0, tailLength, endOffset - tailLength) !== tailLength || checksum(bytes) !== tailChecksum) return false;
    }
    // Sealed segments must be the very files the checkpoint saw: same generation, same size.
    const onDisk = new Map(this.log.segments.map((s) => [s.number, s]));
    for (const [number, generation, size] of c.segments) {
      const segment = onDisk.get(number);
      if (segment === undefined || segment.generation !== generation) return false;
      if (number < endSegment && segment.size !== size) return false;
    }
    return this.log.segments.every((s) => s.number > endSegment || c.segments.some(([n]) => n === s.number));
  }

  private compactionHost(): CompactionHost {
    return {
      fs: this.fs,
      log: this.log,
      stores: this.stores,
      exclusive: (fn) => this.commit.exclusive(fn),
      saveCheckpoint: () => this.saveCheckpoint(),
      isOpen: () => this.state === "open",
      holdFrom: () => this.replicationHold(),
    };
  }

  /**
   * Compaction leaves segments from this one on as they are: replication has not
   * confirmed their records forwarded (a damaged state file holds everything).
   */
  private replicationHold(): number {
    try {
      return readReplicationState(this.fs, this.dir)?.holdSegment ?? Infinity;
    } catch {
      return 0;
    }
  }

  /** Checkpoints are written one at a time (a roll and a compaction may both ask). */
  private saveCheckpoint(): Promise<void> {
    const next = this.checkpointing.then(() => this.writeCheckpointNow());
    this.checkpointing = next;
    return next;
  }

  private async writeCheckpointNow(): Promise<void> {
    const active = this.log.active;
    const end = active.committedEnd;
    const tailLength = Math.min(TAIL_CHECK_BYTES, end - SEGMENT_HEADER_BYTES);
    const tail = new Uint8Array(tailLength);
    if (tailLength > 0) active.read(tail, 0, tailLength, end - tailLength);
    const area = new ArrayAreaWriter();
    const body: CheckpointBody = {
      logEnd: [active.number, end],
      tail: [tailLength, checksum(tail)],
      segments: this.log.segments.map((s) => [s.number, s.generation, s.committedEnd]),
      littleEndian: HOST_LITTLE_ENDIAN,
      sections: Object.fromEntries(this.stores.map((store) => [store.name, store.checkpoint(area)])),
    };
    try {
      await writeCheckpoint(this.fs, this.dir, body, area);
      this.checkpointShape = JSON.stringify(body.segments);
    } catch {
      // A checkpoint only speeds up open; the log stays the truth without it.
    }
  }
}
