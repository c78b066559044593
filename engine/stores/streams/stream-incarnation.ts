/**
 * One life of a byte-stream id: from its create to its delete (or expiry). A
 * stream id created again after a delete is a new incarnation with a new
 * number, so nothing of the old one can leak into it.
 *
 * Each incarnation has two views, like the event store's streams. The
 * *writer's view* (`writer*` fields) moves when a write is accepted and framed,
 * so the next call is checked against it in call order; the *committed view*
 * (the chunk index, `closed`, `deleted`, `seq`, `producers`) moves only when the
 * write is durable, in commit order, and is what reads see. A failed batch
 * aborts every queued write, after which `resetWriter` makes both views equal.
 */
import { segmentOf } from "../../log/location.js";
import { ChunkIndex } from "./chunk-index.js";
import type { ForkOrigin } from "./stream-codec.js";
import type { Position } from "./stream-offsets.js";

export interface ProducerState {
  epoch: number;
  /** The highest sequence number accepted in this epoch. */
  seq: number;
}

export interface StreamSettings {
  contentType: string;
  json: boolean;
  ttlSeconds: number | undefined;
  expiresAt: number | undefined;
  createdAt: number;
}

/** A reader waiting for this incarnation to change (waitForData). */
export interface Waiter {
  wake(): void;
  fail(err: unknown): void;
}

export class StreamIncarnation {
  chunks = new ChunkIndex();
  /** Incarnations forked from this one whose create was framed and not aborted. */
  readonly forks = new Set<StreamIncarnation>();
  /** The incarnation this one was forked from, while that one is kept in memory. */
  source: StreamIncarnation | undefined;
  readonly waiters = new Set<Waiter>();

  // ---- committed view ------------------------------------------------------
  /** The create record is committed (reads may see this incarnation). */
  created = false;
  closed = false;
  deleted = false;
  seq: string | undefined;
  producers = new Map<string, ProducerState>();
  /** Last read or write, for the sliding TTL. */
  lastAccess: number;
  /** Bytes of this incarnation's own records, per segment (garbage once it is dropped). */
  readonly ownBytes = new Map<number, number>();

  // ---- writer's view ---------------------------------------------------------
  writerTail: Position;
  writerClosed = false;
  writerDeleted = false;
  writerSeq: string | undefined;
  writerProducers = new Map<string, ProducerState>();
  /** The last write framed for this incarnation; a duplicate append waits for it. */
  lastWrite: Promise<void> = Promise.resolve();

  constructor(
    readonly number: number,
    readonly streamId: string,
    readonly settings: StreamSettings,
    readonly fork: ForkOrigin | undefined,
  ) {
    this.lastAccess = settings.createdAt;
    this.writerTail = fork === undefined ? { messages: 0, bytes: 0 } : { messages: fork.messages, bytes: fork.bytes };
  }

  get json(): boolean {
    return this.settings.json;
  }

  /** Expired by its absolute expiry or by its sliding TTL (reads and writes renew it). */
  expired(now: number): boolean {
    const { expiresAt, ttlSeconds } = this.settings;
    if (expiresAt !== undefined && now >= expiresAt) return true;
    return ttlSeconds !== undefined && now >= this.lastAccess + ttlSeconds * 1000;
  }

  addRecord(location: number, bytes: number): void {
    const segment = segmentOf(location);
    this.ownBytes.set(segment, (this.ownBytes.get(segment) ?? 0) + bytes);
  }

  touch(now: number): void {
    if (now > this.lastAccess) this.lastAccess = now;
  }

  /** After a failed batch: the writer's view falls back to what is committed. */
  resetWriter(): void {
    this.writerTail = this.chunks.tail;
    this.writerClosed = this.closed;
    this.writerDeleted = this.deleted;
    this.writerSeq = this.seq;
    this.writerProducers = new Map(this.producers);
    this.lastWrite = Promise.resolve();
  }

  /** Wakes every waiting reader (new data, a close); `err` fails them instead (delete). */
  wakeWaiters(err?: unknown): void {
    if (this.waiters.size === 0) return;
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const w of waiting) {
      if (err === undefined) w.wake();
      else w.fail(err);
    }
  }
}
