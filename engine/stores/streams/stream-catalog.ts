/**
 * Which incarnation each byte-stream id names, and when an incarnation may be
 * forgotten.
 *
 * Owns: the committed id → incarnation map (what reads see), the writer's map
 * (what writes see; it runs ahead by the writes framed but not committed), and
 * every incarnation still kept, by number.
 * Concurrency: `commit*` run in commit order, from the group commit's apply or
 * from replay at open, and are the only code that changes the committed view;
 * so a replay rebuilds exactly what the running store had.
 * Invariant: an incarnation is kept while it is live, or while a kept fork of
 * it still exists (a fork's inherited chunks are its source's records, so the
 * source's records must stay on disk for replay to rebuild the fork). A
 * deleted incarnation that is kept is *soft-deleted*: its id answers
 * STREAM_DELETED and cannot be created again until the last fork goes. Once
 * nothing keeps it, it is dropped (and its records become garbage), and the
 * drop may cascade to its own source.
 */
import { SeglogError } from "../../errors.js";
import { DAMAGED, segmentOf } from "../../log/location.js";
import type { ChunkHead, ProducerStamp } from "./stream-codec.js";
import type { StreamIncarnation } from "./stream-incarnation.js";
import type { Position } from "./stream-offsets.js";

export class StreamCatalog {
  /** id → incarnation as committed: what reads see. */
  readonly committed = new Map<string, StreamIncarnation>();
  /** id → incarnation in the writer's view: what writes are checked against. */
  readonly writers = new Map<string, StreamIncarnation>();
  /** Every kept incarnation (live, soft-deleted, or expired but still forked from). */
  readonly byNumber = new Map<number, StreamIncarnation>();
  nextNumber = 1;
  /** Per segment: bytes of records on disk that belong to no kept incarnation. */
  readonly garbage = new Map<number, number>();
  private sweeping: IterableIterator<StreamIncarnation> | undefined;

  constructor(private readonly clock: () => number) {}

  // ---- lookups ------------------------------------------------------------

  /** The incarnation reads of `id` see; throws NOT_FOUND or STREAM_DELETED. */
  visible(id: string): StreamIncarnation {
    const inc = this.committed.get(id);
    if (inc === undefined) throw notFound(id);
    return this.alive(inc, inc.deleted);
  }

  /** The incarnation writes to `id` go to; throws NOT_FOUND or STREAM_DELETED. */
  writable(id: string): StreamIncarnation {
    const inc = this.writers.get(id);
    if (inc === undefined) throw notFound(id);
    return this.alive(inc, inc.writerDeleted);
  }

  /** What holds `id` for a create: a live or soft-deleted incarnation, else undefined. */
  occupant(id: string): StreamIncarnation | undefined {
    const inc = this.writers.get(id);
    if (inc === undefined) return undefined;
    const now = this.clock();
    if (inc.writerDeleted) return this.retained(inc, now) ? inc : undefined;
    return inc.expired(now) ? undefined : inc;
  }

  /** Whether a fork of `inc` (or of one of its forks) still needs its records. */
  retained(inc: StreamIncarnation, now: number): boolean {
    for (const fork of inc.forks) {
      if (!fork.deleted && !fork.expired(now)) return true;
      if (this.retained(fork, now)) return true;
    }
    return false;
  }

  /** Drops every incarnation nothing keeps any more (before a compaction plans). */
  sweep(): void {
    const now = this.clock();
    for (const inc of [...this.byNumber.values()]) if (this.collectable(inc, now)) this.drop(inc);
  }

  /**
   * Looks at the next `n` incarnations (round robin) and drops those nothing
   * keeps. Called on every create, so streams that expire without ever being
   * touched again do not pile up in memory between compactions.
   */
  sweepSome(n: number): void {
    const now = this.clock();
    for (let i = 0; i < n; i++) {
      let step = this.sweeping?.next();
      if (step === undefined || step.done === true) {
        this.sweeping = this.byNumber.values();
        step = this.sweeping.next();
        if (step.done === true) return;
      }
      if (this.collectable(step.value, now)) this.drop(step.value);
    }
  }

  // ---- commits (group-commit apply and replay) ------------------------------

  commitCreate(inc: StreamIncarnation, location: number, recordBytes: number): void {
    const old = this.committed.get(inc.streamId);
    if (old !== undefined && old !== inc && !this.retained(old, this.clock())) this.drop(old);
    const fork = inc.fork;
    if (fork !== undefined) {
      const source = inc.source ?? this.byNumber.get(fork.source);
      const end: Position = { messages: fork.messages, bytes: fork.bytes };
      if (source !== undefined) {
        inc.chunks.copyPrefix(source.chunks, end);
        inc.source = source;
        source.forks.add(inc);
      } else if (end.messages > 0) {
        // The source's records were lost to damage: reads of the inherited part raise CORRUPTION.
        inc.chunks.push({ messages: 0, bytes: 0 }, DAMAGED, end);
      }
    }
    inc.created = true;
    inc.addRecord(location, recordBytes);
    this.committed.set(inc.streamId, inc);
    this.byNumber.set(inc.number, inc);
    if (inc.number >= this.nextNumber) this.nextNumber = inc.number + 1;
  }

  commitChunk(inc: StreamIncarnation, head: ChunkHead, payloadBytes: number, location: number, recordBytes: number): void {
    const start = { messages: head.firstMessage, bytes: head.firstByte };
    const end = { messages: head.firstMessage + (head.lengths?.length ?? 1), bytes: head.firstByte + payloadBytes };
    inc.chunks.push(start, location, end);
    if (head.closes) inc.closed = true;
    if (head.seq !== undefined) inc.seq = head.seq;
    this.commitProducer(inc, head.producer);
    inc.touch(head.timestamp);
    inc.addRecord(location, recordBytes);
    inc.wakeWaiters();
  }

  commitClose(inc: StreamIncarnation, producer: ProducerStamp | undefined, timestamp: number, location: number, recordBytes: number): void {
    inc.closed = true;
    this.commitProducer(inc, producer);
    inc.touch(timestamp);
    inc.addRecord(location, recordBytes);
    inc.wakeWaiters();
  }

  commitDelete(inc: StreamIncarnation, location: number, recordBytes: number): void {
    inc.deleted = true;
    inc.addRecord(location, recordBytes);
    if (this.retained(inc, this.clock())) inc.wakeWaiters(deleted(inc.streamId));
    else this.drop(inc);
  }

  /** A record of an incarnation that is not kept (dropped before, or lost to damage). */
  orphan(location: number, recordBytes: number): void {
    this.addGarbage(segmentOf(location), recordBytes);
  }

  garbageBytes(): number {
    let total = 0;
    for (const bytes of this.garbage.values()) total += bytes;
    return total;
  }

  addGarbage(segment: number, bytes: number): void {
    const total = (this.garbage.get(segment) ?? 0) + bytes;
    if (total > 0) this.garbage.set(segment, total);
    else this.garbage.delete(segment);
  }

  /** Forgets `inc`; its records are garbage now. May cascade to its source. */
  drop(inc: StreamIncarnation): void {
    if (this.byNumber.get(inc.number) === inc) {
      this.byNumber.delete(inc.number);
      for (const [segment, bytes] of inc.ownBytes) this.addGarbage(segment, bytes);
    }
    if (this.committed.get(inc.streamId) === inc) this.committed.delete(inc.streamId);
    if (this.writers.get(inc.streamId) === inc) this.writers.delete(inc.streamId);
    inc.wakeWaiters(notFound(inc.streamId));
    const source = inc.source;
    if (source === undefined) return;
    source.forks.delete(inc);
    inc.source = undefined;
    if (this.collectable(source, this.clock())) this.drop(source);
  }

  /** After replay or a restore: the writer's view starts at what is committed. */
  resetWriters(): void {
    this.writers.clear();
    for (const [id, inc] of this.committed) this.writers.set(id, inc);
    for (const inc of this.byNumber.values()) inc.resetWriter();
  }

  // ---- internals ----------------------------------------------------------

  private collectable(inc: StreamIncarnation, now: number): boolean {
    return (inc.deleted || inc.expired(now)) && !this.retained(inc, now);
  }

  private alive(inc: StreamIncarnation, isDeleted: boolean): StreamIncarnation {
    const now = this.clock();
    if (isDeleted) {
      if (this.retained(inc, now)) throw deleted(inc.streamId);
      if (inc.deleted) this.drop(inc);
      throw notFound(inc.streamId);
    }
    if (inc.expired(now)) {
      if (!this.retained(inc, now)) this.drop(inc);
      throw notFound(inc.streamId);
    }
    return inc;
  }

  private commitProducer(inc: StreamIncarnation, producer: ProducerStamp | undefined): void {
    if (producer !== undefined) inc.producers.set(producer.id, { epoch: producer.epoch, seq: producer.seq });
  }
}

export function notFound(id: string): SeglogError {
  return new SeglogError("NOT_FOUND", `byte stream ${id} does not exist`, { streamId: id });
}

export function deleted(id: string): SeglogError {
  return new SeglogError("STREAM_DELETED", `byte stream ${id} was deleted; forks of it still exist, so the id cannot be used again yet`, { streamId: id });
}
