/** The public types of docs/api.md for the parts of the engine that exist. */
import type { OpenOptions } from "./options.js";

export type { OpenOptions };

export type ExpectedVersion = number | "any" | "no_stream" | "stream_exists";

/**
 * What an event is in your domain: its type name and the data of that type.
 * A union of these, e.g. `{ type: "Placed"; data: { total: number } } | { type: "Paid"; data: {} }`,
 * types the events you append and read: `db.events.append<OrderEvent>(…)`,
 * `db.events.readStream<OrderEvent>(…)` (reads trust the type you name; nothing is checked at runtime).
 */
export interface EventShape {
  type: string;
  data: unknown;
}

/** An event to append. Without a type argument: any type name, any data msgpack can encode. */
export type NewEvent<E extends EventShape = EventShape> = E extends EventShape
  ? {
      /** Non-empty. */
      type: E["type"];
      metadata?: Record<string, unknown>;
      tags?: string[];
      /** The event id; a UUID is generated when absent. Appending the same ids again is idempotent. */
      id?: string;
    } & (undefined extends E["data"]
      ? {
          /** Anything msgpack can encode, or a Uint8Array kept as bytes; absent reads back as undefined. */
          data?: E["data"];
        }
      : {
          /** Anything msgpack can encode, or a Uint8Array kept as bytes. */
          data: E["data"];
        })
  : never;

/** An event as stored: yours, with its id, stream, version, global position and timestamp. */
export type RecordedEvent<E extends EventShape = EventShape> = E extends EventShape
  ? {
      id: string;
      streamId: string;
      /** 0-based, dense within the stream. */
      version: number;
      /** Global position: strictly increasing across all streams. */
      position: number;
      type: E["type"];
      data: E["data"];
      metadata: Record<string, unknown>;
      tags: string[];
      /** Milliseconds since the epoch, from the database clock at append. */
      timestamp: number;
    }
  : never;

export interface AppendResult {
  streamId: string;
  firstVersion: number;
  lastVersion: number;
  firstPosition: number;
  lastPosition: number;
}

export interface ReadOptions {
  from?: number;
  count?: number;
  direction?: "forward" | "backward";
}

export interface Retention {
  maxCount?: number;
  maxAgeMs?: number;
}

/** Catch-up then live; `close()` ends the iteration. */
export interface Subscription<E extends EventShape = EventShape> extends AsyncIterable<RecordedEvent<E>> {
  close(): void;
}

export interface EventStore {
  /**
   * Appends atomically (all or none). `expectedVersion`: a number n (the stream's
   * version must be n; -1 = no events), "no_stream", "stream_exists" or "any"
   * (default); WRONG_EXPECTED_VERSION otherwise, with `actual`.
   */
  append<E extends EventShape = EventShape>(streamId: string, events: NewEvent<E>[], options?: { expectedVersion?: ExpectedVersion }): Promise<AppendResult>;
  /** Atomic across streams: every expectedVersion is checked first; if any fails, nothing is written. */
  appendMany<E extends EventShape = EventShape>(items: { streamId: string; events: NewEvent<E>[]; expectedVersion?: ExpectedVersion }[]): Promise<AppendResult[]>;
  /** One stream's events; `from` is an inclusive version (forward: default 0; backward: default the last). Missing stream: []. */
  readStream<E extends EventShape = EventShape>(streamId: string, options?: ReadOptions): Promise<RecordedEvent<E>[]>;
  /** Every stream's events in global order; `from` is an inclusive position. */
  readAll<E extends EventShape = EventShape>(options?: ReadOptions): Promise<RecordedEvent<E>[]>;
  /** readStream, streamed: for reads larger than memory. */
  iterateStream<E extends EventShape = EventShape>(streamId: string, options?: ReadOptions): AsyncIterable<RecordedEvent<E>>;
  /** readAll, streamed: for reads larger than memory. */
  iterateAll<E extends EventShape = EventShape>(options?: ReadOptions): AsyncIterable<RecordedEvent<E>>;
  /** The version of the stream's last event (-1: none); kept after a soft delete. */
  streamVersion(streamId: string): number;
  /** True when the stream has events and is not deleted. */
  streamExists(streamId: string): boolean;
  hasEvents(): boolean;
  /** Ids of existing streams, sorted by UTF-16 code units. */
  listStreams(options?: { prefix?: string; after?: string; limit?: number }): string[];
  /** Soft delete (default; a later append recreates the stream) or, with `hard`, a tombstone. */
  deleteStream(streamId: string, options?: { hard?: boolean; expectedVersion?: ExpectedVersion }): Promise<void>;
  /** Events with version < beforeVersion are no longer read; the version is unchanged. */
  truncateStream(streamId: string, beforeVersion: number): Promise<void>;
  /** Keep at most maxCount events and/or events younger than maxAgeMs (applied at read, enforced by compaction). */
  setStreamRetention(streamId: string, retention: Retention): Promise<void>;
  /**
   * Every event after `from` (exclusive: a position, or a version with `streamId`;
   * "end": only events appended from now on), in order, without gaps or duplicates:
   * catch-up, then live.
   */
  subscribe<E extends EventShape = EventShape>(options?: { streamId?: string; from?: number | "end" }): Subscription<E>;
}

export interface ObjectStore {
  put(content: Uint8Array): Promise<string>;
  get(hash: string): Promise<Uint8Array>;
  has(hash: string): boolean;
  delete(hash: string): Promise<void>;
  list(): string[];
  putChunks(chunks: { timestamp: number; data: Uint8Array }[]): Promise<string>;
  getChunks(hash: string): Promise<{ timestamp: number; data: Uint8Array }[]>;
}

export interface CassetteStore {
  writeEntry(path: string, entry: Record<string, unknown>): Promise<void>;
  readEntries(path: string): AsyncIterable<Record<string, unknown>>;
  exists(path: string): boolean;
  delete(path: string): Promise<void>;
  list(options?: { prefix?: string }): string[];
}

export interface Recording {
  id: string;
  events?: unknown[];
  [field: string]: unknown;
}

export interface RecordingStore {
  save(recording: Recording): Promise<void>;
  get(id: string): Promise<Recording | undefined>;
  list(): Promise<Recording[]>;
  listSummaries(): Promise<(Omit<Recording, "events"> & { eventCount: number; savedAt: number })[]>;
  delete(id: string): Promise<void>;
  clear(): Promise<void>;
}

export interface ContextRecord {
  contextId: string;
  context: Record<string, unknown>;
  version: number;
  insertedAt: number;
}

export interface DeltaRecord {
  contextId: string;
  delta: Record<string, unknown>;
  version: number;
  insertedAt: number;
}

export interface ListOptions {
  contextId?: string;
  version?: number;
  insertedAfter?: number;
  insertedBefore?: number;
  limit?: number;
  offset?: number;
}

export interface ContextStore {
  setContext(contextId: string, context: Record<string, unknown>, version: number): Promise<ContextRecord>;
  getContext(contextId: string): Promise<ContextRecord>;
  setDelta(contextId: string, delta: Record<string, unknown>, version: number): Promise<DeltaRecord>;
  getDeltas(contextId: string, clientVersion: number): Promise<DeltaRecord[]>;
  listContexts(options?: ListOptions): Promise<ContextRecord[]>;
  listContextsWithDeltaCounts(options?: ListOptions): Promise<(ContextRecord & { deltaCount: number })[]>;
  listDeltas(options?: ListOptions): Promise<DeltaRecord[]>;
  deleteContext(contextId: string): Promise<void>;
  deleteDeltasByTime(contextId: string, olderThan: number): Promise<void>;
  deleteDeltasExceedingThreshold(contextId: string, keep: number): Promise<void>;
  deleteDeltasForContext(contextId: string): Promise<void>;
}

// ---- Byte streams (db.streams) -------------------------------------------------

export interface ByteStreamMeta {
  contentType?: string;
  ttlSeconds?: number;
  expiresAt?: number;
}

export interface ByteStreamInfo extends ByteStreamMeta {
  id: string;
  createdAt: number;
  closed: boolean;
  offset: string;
}

/** Not in the contract (seglog's addition for the HTTP protocol): an idempotent producer's stamp on an append. */
export interface ByteStreamProducer {
  id: string;
  epoch: number;
  seq: number;
}

/** Options of `ensure` (seglog's addition): a create that can fork, carry initial data and start closed. */
export interface ByteStreamCreateOptions extends ByteStreamMeta {
  /** Initial content, written atomically with the create (JSON mode: one value, an array is flattened). */
  data?: Uint8Array | string;
  /** Create the stream closed (after `data`, if any). */
  closed?: boolean;
  /** Start with a prefix of another stream: up to `offset` (default: its tail), plus `subOffset` bytes
   *  of the message there (JSON mode: messages of the batch there). */
  fork?: { from: string; offset?: string; subOffset?: number };
}

export interface ByteStreamEnsureResult {
  /** False when the stream existed with the same configuration (nothing was written). */
  created: boolean;
  info: ByteStreamInfo;
}

/** Options of `write` (seglog's addition). */
export interface ByteStreamWriteOptions {
  seq?: string;
  producer?: ByteStreamProducer;
  /** Close the stream, atomically after the data (if any). */
  close?: boolean;
  /**
   * The media type the data is sent as: a stream of another media type refuses
   * the write (INVALID_ARGUMENT naming options.contentType). Checked against the
   * stream the write goes to — after any delete and re-create framed before it.
   */
  contentType?: string;
}

export interface ByteStreamWriteResult {
  /** The tail offset after the call. */
  offset: string;
  closed: boolean;
  /** A producer's retry of an append already stored: nothing was written. */
  duplicate: boolean;
  /** With a producer: its epoch and highest accepted seq after the call. */
  producer?: { epoch: number; seq: number };
}

export interface ByteStreamMessage {
  data: Uint8Array;
  /** The offset right after the message. */
  offset: string;
}

export interface ByteStreamStore {
  create(id: string, meta?: ByteStreamMeta): Promise<void>;
  append(id: string, data: Uint8Array | string, options?: { seq?: string }): Promise<string>;
  close(id: string): Promise<void>;
  delete(id: string): Promise<void>;
  /** `of` (seglog's addition): read only the stream this info came from; NOT_FOUND if the id was deleted (and created again) since. */
  read(id: string, offset?: string, options?: { maxBytes?: number; of?: ByteStreamInfo }): Promise<{ data: Uint8Array; offset: string; hasMore: boolean; closed: boolean }>;
  readMessages(
    id: string,
    offset?: string,
    options?: { maxMessages?: number; of?: ByteStreamInfo },
  ): Promise<{ messages: ByteStreamMessage[]; offset: string; hasMore: boolean; closed: boolean }>;
  currentOffset(id: string): string;
  getMetadata(id: string): ByteStreamInfo;
  /** Resolves when data past `offset` exists, the stream closes, or timeoutMs passes (`signal`: seglog's addition). */
  waitForData(id: string, offset: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  // ---- seglog's additions ----
  /** Create or confirm (same configuration: ok, nothing written), with fork, initial data and closed. */
  ensure(id: string, options?: ByteStreamCreateOptions): Promise<ByteStreamEnsureResult>;
  /** Append and/or close, with Stream-Seq and idempotent-producer checks, reporting what happened. */
  write(id: string, data: Uint8Array | string | undefined, options?: ByteStreamWriteOptions): Promise<ByteStreamWriteResult>;
  /** Renews the sliding TTL as a read would, without reading; returns the metadata. */
  touch(id: string): ByteStreamInfo;
  /** Ids of the live streams, sorted. */
  list(options?: { prefix?: string }): string[];
}

export interface CompactionReport {
  bytesBefore: number;
  bytesAfter: number;
  recordsDropped: number;
  segmentsRewritten: number;
  durationMs: number;
}

export interface VerifyReport {
  ok: boolean;
  records: number;
  segments: number;
  problems: string[];
}

export interface Stats {
  diskBytes: number;
  segments: number;
  streams: number;
  events: number;
  lastPosition: number;
  garbageBytes: number;
  /** Not in the contract: bytes of a torn tail that open cut from the newest segment. */
  repairedBytes: number;
  /**
   * Not in the contract: what each store holds, from the indexes (no I/O).
   * `bytes` counts the frames of live records on disk; the event store's is what
   * the segments hold beyond the other stores, garbage and segment headers.
   */
  stores: {
    events: { streams: number; events: number; bytes: number };
    streams: { streams: number; bytes: number };
    objects: { objects: number; bytes: number };
    cassettes: { cassettes: number; entries: number; bytes: number };
    recordings: { recordings: number; bytes: number };
    contexts: { contexts: number; deltas: number; bytes: number };
  };
}

export interface Health {
  ok: boolean;
  state: "open" | "failed" | "closed";
  reason?: string;
}

export interface Database {
  readonly dir: string;
  readonly events: EventStore;
  readonly objects: ObjectStore;
  readonly contexts: ContextStore;
  readonly cassettes: CassetteStore;
  readonly recordings: RecordingStore;
  readonly streams: ByteStreamStore;
  compact(options?: { onProgress?: (p: { done: number; total: number }) => void }): Promise<CompactionReport>;
  /** Re-reads every record and checks checksums and indexes; `onProgress` (not in the contract) reports bytes scanned. */
  verify(options?: { onProgress?: (p: { done: number; total: number }) => void }): Promise<VerifyReport>;
  stats(): Promise<Stats>;
  health(): Health;
  close(): Promise<void>;
}
