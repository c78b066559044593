/** The public types of docs/api.md for the parts of the engine that exist. */
import type { OpenOptions } from "./options.js";

export type { OpenOptions };

export type ExpectedVersion = number | "any" | "no_stream" | "stream_exists";

export interface NewEvent {
  type: string;
  data: unknown;
  metadata?: Record<string, unknown>;
  tags?: string[];
  id?: string;
}

export interface RecordedEvent {
  id: string;
  streamId: string;
  version: number;
  position: number;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  tags: string[];
  timestamp: number;
}

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

export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): void;
}

export interface EventStore {
  append(streamId: string, events: NewEvent[], options?: { expectedVersion?: ExpectedVersion }): Promise<AppendResult>;
  appendMany(items: { streamId: string; events: NewEvent[]; expectedVersion?: ExpectedVersion }[]): Promise<AppendResult[]>;
  readStream(streamId: string, options?: ReadOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadOptions): Promise<RecordedEvent[]>;
  iterateStream(streamId: string, options?: ReadOptions): AsyncIterable<RecordedEvent>;
  iterateAll(options?: ReadOptions): AsyncIterable<RecordedEvent>;
  streamVersion(streamId: string): number;
  streamExists(streamId: string): boolean;
  hasEvents(): boolean;
  listStreams(options?: { prefix?: string; after?: string; limit?: number }): string[];
  deleteStream(streamId: string, options?: { hard?: boolean; expectedVersion?: ExpectedVersion }): Promise<void>;
  truncateStream(streamId: string, beforeVersion: number): Promise<void>;
  setStreamRetention(streamId: string, retention: Retention): Promise<void>;
  subscribe(options?: { streamId?: string; from?: number | "end" }): Subscription;
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
  verify(): Promise<VerifyReport>;
  stats(): Promise<Stats>;
  health(): Health;
  close(): Promise<void>;
}
