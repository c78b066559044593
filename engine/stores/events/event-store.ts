/**
 * db.events: optimistic-concurrency appends, stream and global reads, deletes,
 * truncation, retention and subscriptions over the shared log.
 *
 * Owns: the stream table and the position index (both rebuilt from the log or
 * restored from the checkpoint), and the next global position.
 * Concurrency: calls check and frame synchronously, in call order, against the
 * writer's view of each stream, then wait for their group commit; the committed
 * view (what reads see) changes only in commit order.
 * Invariant: an append's events are one atomic group in the log; positions grow
 * along the log; a stream's versions are dense.
 * Over 500 lines: the write half (append, appendMany, framing) shares the
 * writer's view and next position with the rest; splitting it out is the next
 * step, not done while the query and condition checks landed.
 */
import { randomUUID } from "node:crypto";
import { invalidArgument, SeglogError } from "../../errors.js";
import { FLAG_GROUP_END, RecordType } from "../../format/constants.js";
import type { ArrayArea, ArrayAreaWriter } from "../../index/array-area.js";
import { PositionIndex } from "../../index/position-index.js";
import { QueryIndex } from "../../index/query-index.js";
import { StreamState, StreamTable, type InFlightAppend, type StreamEntry } from "../../index/stream-table.js";
import type * as api from "../../types.js";
import type { LogStore, SegmentRelocation, StoreContext } from "../context.js";
import { verifyEventIndex } from "./event-verify.js";
import { decodeMeta, encodeMeta, idHash, MetaOp } from "./event-codec.js";
import { applyMeta, EventRecovery, rebuildPostingList, rebuildSparsePositions, rebuildStreamArrays } from "./event-recovery.js";
import { EventCompaction } from "./event-compaction.js";
import { frameEvent } from "./event-encoder.js";
import { EventReader } from "./event-reads.js";
import { findDuplicate, type Duplicate } from "./idempotency.js";
import { AppendWrite, resultOf, settleInFlight, type StreamAppend } from "./append-write.js";
import { writeTooLarge } from "../../log/group-commit.js";
import { iterate, subscription } from "./subscription.js";
import { checkAppendConditions, checkConditions, InFlightAppends, type CheckedCondition } from "./append-condition.js";
import { checkQuery, checkQueryOptions, QueryReader } from "./event-query.js";
import { listStreams } from "./stream-listing.js";
import {
  checkEvents,
  checkExpectedVersion,
  checkOptionalObject,
  checkReadOptions,
  checkRetention,
  checkStreamId,
  checkVersionNumber,
} from "./validation.js";

export class EventStore implements api.EventStore, LogStore {
  readonly name = "events";
  readonly recordTypes = [RecordType.Event, RecordType.StreamMeta, RecordType.StreamSnapshot, RecordType.PositionFloor] as const;
  readonly table = new StreamTable();
  readonly positions = new PositionIndex();
  readonly queries = new QueryIndex();
  readonly reader: EventReader;
  private readonly queryReader: QueryReader;
  private readonly inFlight = new InFlightAppends();
  private readonly compaction: EventCompaction;
  private nextPosition = 0;
  private readonly recovery: EventRecovery;

  constructor(private readonly ctx: StoreContext) {
    this.reader = new EventReader(ctx.log, this.table, this.positions, ctx.clock);
    this.queryReader = new QueryReader(this.queries, this.table, this.positions, this.reader, ctx.clock);
    this.compaction = new EventCompaction(this.table, this.positions, this.queries, this.reader, ctx.log, ctx.clock);
    this.recovery = new EventRecovery(this.table, this.positions, this.queries);
  }

  // ---- writes -------------------------------------------------------------

  append(streamId: string, events: api.NewEvent[], options?: { expectedVersion?: api.ExpectedVersion; condition?: api.AppendCondition | api.AppendCondition[] }): Promise<api.AppendResult> {
    // Not async: the common path hands back the commit's own promise, which
    // resolves with the result; an async wrapper would add a hop per append.
    try {
      this.ctx.checkWritable();
      checkStreamId(streamId);
      checkEvents(events, "events");
      const o = checkOptionalObject(options, "options");
      const expected = checkExpectedVersion(o.expectedVersion, "options.expectedVersion");
      const conditions = checkConditions(o.condition, "options.condition");
      const entry = this.table.getOrCreate(streamId);
      let duplicate: Duplicate | undefined;
      try {
        duplicate = this.checkExpected(entry, expected, events);
        if (duplicate === undefined && conditions !== undefined) duplicate = this.checkConditions(conditions, [{ entry, events }])?.[0];
      } catch (err) {
        this.table.forgetIfUnused(entry);
        throw err;
      }
      if (duplicate !== undefined) return this.replicated(settledDuplicate(duplicate));
      const start = this.ctx.commit.mark();
      const plan = this.frameEvents(entry, events, true, start);
      this.checkWriteSize(start, [plan], "events");
      return this.replicated(this.submit([plan], resultOf(plan)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async appendMany(
    items: { streamId: string; events: api.NewEvent[]; expectedVersion?: api.ExpectedVersion }[],
    options?: { condition?: api.AppendCondition | api.AppendCondition[] },
  ): Promise<api.AppendResult[]> {
    this.ctx.checkWritable();
    if (!Array.isArray(items) || items.length === 0) throw invalidArgument("items", "must be a non-empty array");
    const conditions = checkConditions(checkOptionalObject(options, "options").condition, "options.condition");
    const seen = new Set<string>();
    const checked = items.map((item, i) => {
      if (typeof item !== "object" || item === null) throw invalidArgument(`items[${i}]`, "must be an object");
      const streamId = checkStreamId(item.streamId, `items[${i}].streamId`);
      if (seen.has(streamId)) throw invalidArgument(`items[${i}].streamId`, `names stream ${streamId} twice`);
      seen.add(streamId);
      return { index: i, streamId, events: checkEvents(item.events, `items[${i}].events`), expected: checkExpectedVersion(item.expectedVersion, `items[${i}].expectedVersion`) };
    });
    const forgetUnused = () => {
      for (const c of checked) {
        const entry = this.table.get(c.streamId);
        if (entry !== undefined) this.table.forgetIfUnused(entry);
      }
    };
    // Every check before any framing: one failure writes nothing.
    let duplicates: (Duplicate | undefined)[];
    try {
      duplicates = checked.map((c) => this.checkExpected(this.table.getOrCreate(c.streamId), c.expected, c.events));
      if (conditions !== undefined && duplicates.some((d) => d === undefined)) {
        // Only a retry of the whole call (every item stored) passes a failed condition.
        const retried = this.checkConditions(conditions, checked.map((c) => ({ entry: this.table.getOrCreate(c.streamId), events: c.events })));
        if (retried !== undefined) duplicates = retried;
      }
    } catch (err) {
      forgetUnused();
      throw err;
    }
    const start = this.ctx.commit.mark();
    const plans: StreamAppend[] = [];
    const fresh = checked.filter((_, i) => duplicates[i] === undefined);
    try {
      fresh.forEach((c, k) => plans.push(this.frameEvents(this.table.getOrCreate(c.streamId), c.events, k === fresh.length - 1, start, `items[${c.index}].events`)));
      this.checkWriteSize(start, plans, "items");
    } catch (err) {
      this.unframe(plans, start);
      forgetUnused();
      throw err;
    }
    const written = plans.length > 0 ? this.submit(plans, undefined) : undefined;
    const waits = duplicates.filter((d) => d?.committed !== undefined).map((d) => d!.committed);
    if (written !== undefined) await written;
    if (waits.length > 0) await Promise.all(waits);
    await this.ctx.replicationAck?.();
    let next = 0;
    return duplicates.map((d) => d?.result ?? resultOf(plans[next++]!));
  }

  async deleteStream(streamId: string, options?: { hard?: boolean; expectedVersion?: api.ExpectedVersion }): Promise<void> {
    this.ctx.checkWritable();
    checkStreamId(streamId);
    const o = checkOptionalObject(options, "options");
    if (o.hard !== undefined && typeof o.hard !== "boolean") throw invalidArgument("options.hard", "must be a boolean");
    const expected = checkExpectedVersion(o.expectedVersion, "options.expectedVersion");
    const entry = this.existingForWrite(streamId, false);
    if (!expectedHolds(entry, expected)) throw wrongExpected(entry, expected);
    const hard = o.hard === true;
    entry.writerState = hard ? StreamState.HardDeleted : StreamState.SoftDeleted;
    await this.writeMeta(entry, encodeMeta(hard ? MetaOp.HardDelete : MetaOp.SoftDelete, streamId));
    await this.ctx.replicationAck?.();
  }

  async truncateStream(streamId: string, beforeVersion: number): Promise<void> {
    this.ctx.checkWritable();
    checkStreamId(streamId);
    checkVersionNumber(beforeVersion, "beforeVersion");
    const entry = this.existingForWrite(streamId, true);
    await this.writeMeta(entry, encodeMeta(MetaOp.Truncate, streamId, beforeVersion));
    await this.ctx.replicationAck?.();
  }

  async setStreamRetention(streamId: string, retention: api.Retention): Promise<void> {
    this.ctx.checkWritable();
    checkStreamId(streamId);
    const r = checkRetention(retention);
    const entry = this.existingForWrite(streamId, true);
    await this.writeMeta(entry, encodeMeta(MetaOp.Retention, streamId, r.maxCount, r.maxAgeMs));
    await this.ctx.replicationAck?.();
  }

  // ---- reads --------------------------------------------------------------

  // Reads are typed by the caller's event union (api.EventShape); nothing is checked at runtime.

  async readStream<E extends api.EventShape = api.EventShape>(streamId: string, options?: api.ReadOptions): Promise<api.RecordedEvent<E>[]> {
    this.ctx.checkOpen();
    checkStreamId(streamId);
    return this.reader.readStream(streamId, checkReadOptions(options)) as api.RecordedEvent<E>[];
  }

  async readAll<E extends api.EventShape = api.EventShape>(options?: api.ReadOptions): Promise<api.RecordedEvent<E>[]> {
    this.ctx.checkOpen();
    return this.reader.readAll(checkReadOptions(options)) as api.RecordedEvent<E>[];
  }

  iterateStream<E extends api.EventShape = api.EventShape>(streamId: string, options?: api.ReadOptions): AsyncIterable<api.RecordedEvent<E>> {
    this.ctx.checkOpen();
    checkStreamId(streamId);
    const read = checkReadOptions(options);
    return iterate(read, (r) => this.reader.readStream(streamId, r), (e) => e.version, () => this.ctx.checkOpen()) as AsyncIterable<api.RecordedEvent<E>>;
  }

  iterateAll<E extends api.EventShape = api.EventShape>(options?: api.ReadOptions): AsyncIterable<api.RecordedEvent<E>> {
    this.ctx.checkOpen();
    const read = checkReadOptions(options);
    return iterate(read, (r) => this.reader.readAll(r), (e) => e.position, () => this.ctx.checkOpen()) as AsyncIterable<api.RecordedEvent<E>>;
  }

  async query<E extends api.EventShape = api.EventShape>(query: api.EventQuery, options?: api.QueryOptions): Promise<api.RecordedEvent<E>[]> {
    this.ctx.checkOpen();
    const q = checkQuery(query, "query");
    const o = checkQueryOptions(options);
    return this.queryReader.read(q, o.from, o.backward, o.count) as api.RecordedEvent<E>[];
  }

  iterateQuery<E extends api.EventShape = api.EventShape>(query: api.EventQuery, options?: api.QueryOptions): AsyncIterable<api.RecordedEvent<E>> {
    this.ctx.checkOpen();
    const q = checkQuery(query, "query");
    const read = checkQueryOptions(options);
    return iterate(read, (r) => this.queryReader.read(q, r.from, r.backward, r.count), (e) => e.position, () => this.ctx.checkOpen()) as AsyncIterable<api.RecordedEvent<E>>;
  }

  streamVersion(streamId: string): number {
    this.ctx.checkOpen();
    checkStreamId(streamId);
    return this.table.get(streamId)?.version ?? -1;
  }

  streamExists(streamId: string): boolean {
    this.ctx.checkOpen();
    checkStreamId(streamId);
    return this.table.get(streamId)?.exists ?? false;
  }

  hasEvents(): boolean {
    this.ctx.checkOpen();
    for (const e of this.table.entries()) {
      if (e.exists && this.readableCount(e) > 0) return true;
    }
    return false;
  }

  listStreams(options?: { prefix?: string; after?: string; limit?: number }): string[] {
    this.ctx.checkOpen();
    return listStreams(this.table, options);
  }

  subscribe<E extends api.EventShape = api.EventShape>(options?: { streamId?: string; query?: api.EventQuery; from?: number | "end" }): api.Subscription<E> {
    this.ctx.checkOpen();
    const o = checkOptionalObject(options, "options");
    const streamId = o.streamId === undefined ? undefined : checkStreamId(o.streamId, "options.streamId");
    const query = o.query === undefined ? undefined : checkQuery(o.query, "options.query");
    if (query !== undefined && streamId !== undefined) throw invalidArgument("options", "takes streamId or query, not both");
    const from = o.from;
    if (from !== undefined && from !== "end" && !(typeof from === "number" && Number.isSafeInteger(from) && from >= -1)) {
      throw invalidArgument("options.from", 'must be an integer >= -1 or "end"');
    }
    const start = from === "end" ? (streamId === undefined ? this.positions.lastPosition : this.streamVersion(streamId)) : ((from as number | undefined) ?? -1);
    return subscription(this.reader, this.queryReader, this.ctx, streamId, query, start) as unknown as api.Subscription<E>;
  }

  // ---- counts for stats ----------------------------------------------------

  /** Readable events of a stream right now (reads the log only for age retention). */
  readableCount(entry: StreamEntry): number {
    if (!entry.exists) return 0;
    const lo = entry.readableFrom;
    if (entry.maxAgeMs < 0) return Math.max(0, entry.version - lo + 1);
    return this.reader.readStream(entry.id, { from: lo, count: Infinity, backward: false }).length;
  }

  // ---- compaction (see event-compaction.ts) -----------------------------------

  planCompaction(): void {
    this.table.loadAll();
    this.positions.loadAll();
    this.queries.loadAll();
    this.compaction.plan();
  }

  keep(type: number, body: Uint8Array): boolean {
    return this.compaction.keep(type, body);
  }

  snapshotRecords(): { type: number; body: Uint8Array }[] {
    return this.compaction.snapshotRecords();
  }

  relocated(relocation: SegmentRelocation): void {
    this.compaction.relocated(relocation);
  }

  garbageBytes(): number {
    return this.compaction.garbageBytes();
  }

  // ---- recovery and checkpoint --------------------------------------------

  /** Applies one record found in the log at open. */
  replay(type: number, body: Uint8Array, location: number): void {
    this.recovery.replay(type, body, location);
  }

  /** A damaged frame found at open (see EventRecovery.salvage). */
  salvage(frame: Uint8Array): void {
    this.recovery.salvage(frame);
  }

  /** Versions and positions of a checkpoint open could not trust (see EventRecovery.raiseFloors). */
  raiseFloors(section: unknown): void {
    this.recovery.raiseFloors(section);
  }

  /** After replay: the writer's view starts at what is committed. */
  recovered(): void {
    this.recovery.finish();
    this.table.resetWriters();
    this.table.membershipChanged();
    this.nextPosition = this.positions.lastPosition + 1;
  }

  followed(): void {
    // New streams may have appeared: listStreams sorts again. (A reader has no writer views to reset.)
    this.table.membershipChanged();
  }

  verify(): string[] {
    return verifyEventIndex(this, this.ctx.log);
  }

  checkpoint(area: ArrayAreaWriter): unknown {
    return { streams: this.table.snapshot(area), positions: this.positions.snapshot(area), lastPosition: this.positions.lastPosition, queries: this.queries.snapshot(area) };
  }

  restore(section: unknown, area: ArrayArea): void {
    const s = section as {
      streams: Parameters<StreamTable["restore"]>[0];
      positions: Parameters<PositionIndex["restore"]>[0];
      lastPosition: number;
      queries: Parameters<QueryIndex["restore"]>[0];
    };
    this.table.restore(s.streams, area, (entry, held) => rebuildStreamArrays(this.ctx.log, entry, held, entry.runSegments));
    this.positions.restore(s.positions, s.lastPosition, area, (segment) => rebuildSparsePositions(this.ctx.log, segment));
    this.queries.restore(s.queries, area, (key) => rebuildPostingList(this.ctx.log, this.positions, key));
  }

  // ---- internals ----------------------------------------------------------

  /**
   * Checks the expected version against the writer's view. Returns the original
   * result when the call repeats events already stored; throws when it conflicts.
   */
  private checkExpected(entry: StreamEntry, expected: api.ExpectedVersion, events: api.NewEvent[]): Duplicate | undefined {
    if (entry.writerState === StreamState.HardDeleted) {
      throw new SeglogError("STREAM_DELETED", `stream ${entry.id} is deleted`, { streamId: entry.id });
    }
    const holds = expectedHolds(entry, expected);
    if (events.every((e) => e.id !== undefined) && (!holds || expected === "any")) {
      const after = typeof expected === "number" ? expected : undefined;
      const found = findDuplicate(entry, events, after, (loc) => this.reader.readEvent(loc));
      if (found === "partial") throw wrongExpected(entry, expected);
      if (found !== undefined) return found;
    }
    if (!holds) throw wrongExpected(entry, expected);
    return undefined;
  }

  /** APPEND_CONDITION_FAILED, or the original results of a retry; undefined when every condition holds. */
  private checkConditions(conditions: CheckedCondition[], appends: { entry: StreamEntry; events: api.NewEvent[] }[]): Duplicate[] | undefined {
    return checkAppendConditions(conditions, appends, this.queryReader, this.inFlight, (loc) => this.reader.readEvent(loc), this.positions.lastPosition);
  }

  /** Frames one stream's events into the pending batch and moves the writer's view. */
  private frameEvents(entry: StreamEntry, events: api.NewEvent[], endsGroup: boolean, rollbackMark: number, argument = "events"): StreamAppend {
    const commit = this.ctx.commit;
    const now = this.ctx.clock();
    const firstVersion = entry.writerVersion + 1;
    const firstPosition = this.nextPosition;
    const idHashes: number[] = new Array(events.length);
    const types: string[] = new Array(events.length);
    let tags: (readonly string[] | undefined)[] | undefined;
    let ids: (string | undefined)[] | undefined;
    try {
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        if (e.id !== undefined) (ids ??= new Array(events.length))[i] = e.id;
        const id = e.id ?? randomUUID();
        idHashes[i] = idHash(id);
        types[i] = e.type;
        if (e.tags !== undefined && e.tags.length > 0) (tags ??= new Array(events.length))[i] = e.tags.slice();
        const flags = endsGroup && i === events.length - 1 ? FLAG_GROUP_END : 0;
        let bodyLength: number;
        try {
          bodyLength = frameEvent(commit, flags, firstPosition + i, entry.id, firstVersion + i, now, id, e.type, e.data, e.metadata, e.tags);
        } catch (err) {
          throw new SeglogError("INVALID_ARGUMENT", `${argument}[${i}].data cannot be encoded: ${(err as Error).message}`, { argument: `${argument}[${i}].data`, cause: err });
        }
        if (bodyLength > this.ctx.maxRecordBytes) {
          throw new SeglogError("TOO_LARGE", `${argument}[${i}] encodes to ${bodyLength} bytes, over maxRecordBytes ${this.ctx.maxRecordBytes}`, {
            streamId: entry.id,
            argument: `${argument}[${i}]`,
          });
        }
      }
    } catch (err) {
      commit.rollback(rollbackMark);
      throw err;
    }
    const priorState = entry.writerState;
    this.nextPosition += events.length;
    entry.writerVersion = firstVersion + events.length - 1;
    entry.writerState = StreamState.Live;
    let inFlight: InFlightAppend | undefined;
    if (ids !== undefined) {
      inFlight = { firstVersion, firstPosition, ids, committed: undefined! };
      (entry.inFlight ??= []).push(inFlight);
    }
    return { entry, firstVersion, firstPosition, idHashes, types, tags, priorState, inFlight };
  }

  /** An append is one atomic group, and a group must fit in one segment. */
  private checkWriteSize(start: number, plans: StreamAppend[], argument: string): void {
    const commit = this.ctx.commit;
    const bytes = commit.framedSince(start);
    if (bytes <= commit.maxWriteBytes) return;
    this.unframe(plans, start);
    throw writeTooLarge(bytes, commit.maxWriteBytes, argument, plans.length === 1 ? plans[0]!.entry.id : undefined);
  }

  /**
   * Takes back what frameEvents did for these plans (newest first), leaving
   * every other append in flight as it was: their versions and positions stay.
   */
  private unframe(plans: StreamAppend[], start: number): void {
    for (let k = plans.length - 1; k >= 0; k--) {
      const p = plans[k]!;
      p.entry.writerVersion = p.firstVersion - 1;
      p.entry.writerState = p.priorState;
      if (p.inFlight !== undefined) settleInFlight(p.entry, p.inFlight);
      this.nextPosition = p.firstPosition;
    }
    plans.length = 0;
    this.ctx.commit.rollback(start);
  }

  /** With replication acknowledging ("replicated"), a write answers once JetStream has it too. */
  private replicated<T>(committed: Promise<T>): Promise<T> {
    const ack = this.ctx.replicationAck;
    return ack === undefined ? committed : committed.then((result) => ack().then(() => result));
  }

  /** Hands the framed records to the group commit; indexes move when they are durable. */
  private submit<T>(plans: StreamAppend[], result: T): Promise<T> {
    const write = new AppendWrite(plans, result, this.table, this.positions, this.queries, this.inFlight, this.ctx.signal);
    for (const p of plans) if (p.inFlight !== undefined) p.inFlight.committed = write.committed;
    this.inFlight.add(write);
    this.ctx.commit.submit(write);
    return write.committed;
  }

  private existingForWrite(streamId: string, mustExist: boolean): StreamEntry {
    const entry = this.table.get(streamId);
    if (entry === undefined || entry.writerVersion < 0) {
      throw new SeglogError("STREAM_NOT_FOUND", `stream ${streamId} does not exist`, { streamId });
    }
    if (entry.writerState === StreamState.HardDeleted) {
      throw new SeglogError("STREAM_DELETED", `stream ${streamId} is deleted`, { streamId });
    }
    if (mustExist && entry.writerState !== StreamState.Live) {
      throw new SeglogError("STREAM_NOT_FOUND", `stream ${streamId} does not exist`, { streamId });
    }
    return entry;
  }

  private writeMeta(entry: StreamEntry, body: Uint8Array): Promise<void> {
    const commit = this.ctx.commit;
    commit.frame(RecordType.StreamMeta, FLAG_GROUP_END, body);
    const [op, , a, b] = decodeMeta(body);
    return new Promise<void>((resolve, reject) => {
      commit.submit({
        apply: () => {
          applyMeta(entry, op, a, b);
          this.table.membershipChanged();
          this.ctx.signal.notify();
        },
        abort: () => entry.resetWriter(),
        resolve,
        reject,
      });
    });
  }
}

function expectedHolds(entry: StreamEntry, expected: api.ExpectedVersion): boolean {
  const live = entry.writerState === StreamState.Live && entry.writerVersion >= 0;
  if (expected === "any") return true;
  if (expected === "no_stream" || expected === -1) return !live;
  if (expected === "stream_exists") return live;
  return entry.writerVersion === expected;
}

function wrongExpected(entry: StreamEntry, expected: api.ExpectedVersion): SeglogError {
  return new SeglogError(
    "WRONG_EXPECTED_VERSION",
    `stream ${entry.id}: expected version ${String(expected)}, actual ${entry.writerVersion}`,
    { streamId: entry.id, expected, actual: entry.writerVersion },
  );
}

/** A duplicate answers once its original is committed (at once when it already is). */
function settledDuplicate(d: Duplicate): Promise<api.AppendResult> {
  return d.committed === undefined ? Promise.resolve(d.result) : d.committed.then(() => d.result);
}
