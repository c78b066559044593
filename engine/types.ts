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

/**
 * One item of an event query. Inside an item the types are ORed, the tags ANDed
 * (an event must carry every one) and the categories ORed; an absent or empty
 * list does not constrain. A category is the stream id before its first "-".
 */
export interface QueryItem {
  types?: string[];
  tags?: string[];
  categories?: string[];
}

/** Events of every stream matching any of the items, or "all" of them. */
export type EventQuery = "all" | { items: QueryItem[] };

export interface QueryOptions {
  /** Inclusive position (forward: default the first; backward: default the last). */
  from?: number;
  direction?: "forward" | "backward";
  /** At most this many events (default: no limit). */
  limit?: number;
}

/**
 * A Dynamic Consistency Boundary: the append fails with APPEND_CONDITION_FAILED
 * when an event matching `failIfEventsMatch` exists at a position after `after`
 * (absent: at any position), committed or in flight.
 */
export interface AppendCondition {
  failIfEventsMatch: EventQuery;
  after?: number;
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
  append<E extends EventShape = EventShape>(
    streamId: string,
    events: NewEvent<E>[],
    options?: { expectedVersion?: ExpectedVersion; condition?: AppendCondition | AppendCondition[] },
  ): Promise<AppendResult>;
  /** Atomic across streams: every expectedVersion and condition is checked first; if any fails, nothing is written. */
  appendMany<E extends EventShape = EventShape>(
    items: { streamId: string; events: NewEvent<E>[]; expectedVersion?: ExpectedVersion }[],
    options?: { condition?: AppendCondition | AppendCondition[] },
  ): Promise<AppendResult[]>;
  /** Events of every stream matching `query`, in position order, through the type, tag and category indexes. */
  query<E extends EventShape = EventShape>(query: EventQuery, options?: QueryOptions): Promise<RecordedEvent<E>[]>;
  /** query, streamed: for results larger than memory. */
  iterateQuery<E extends EventShape = EventShape>(query: EventQuery, options?: QueryOptions): AsyncIterable<RecordedEvent<E>>;
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
  /** True when any event was ever appended (deleted or not). */
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
  subscribe<E extends EventShape = EventShape>(options?: { streamId?: string; query?: EventQuery; from?: number | "end" }): Subscription<E>;
}

/** Content-addressed blobs and timestamped chunk lists, keyed by the SHA-256 of their content. */
export interface ObjectStore {
  /** Stores `content` (once: the same bytes again store nothing) and resolves with its hex SHA-256. */
  put(content: Uint8Array): Promise<string>;
  /** The blob with this hash; NOT_FOUND when there is none (or the hash names a chunk list). */
  get(hash: string): Promise<Uint8Array>;
  /** True for a stored blob or chunk list. */
  has(hash: string): boolean;
  /** Removes the blob or chunk list; fine when it is not there. */
  delete(hash: string): Promise<void>;
  /** Hashes of every blob and chunk list, sorted. */
  list(): string[];
  /** Stores a list of timestamped chunks as one object; resolves with its hash. */
  putChunks(chunks: { timestamp: number; data: Uint8Array }[]): Promise<string>;
  /** The chunk list with this hash; NOT_FOUND when there is none (or the hash names a blob). */
  getChunks(hash: string): Promise<{ timestamp: number; data: Uint8Array }[]>;
}

/** Ordered lists of entries under a path: HTTP interactions recorded for replay. */
export interface CassetteStore {
  /** Appends one entry to the cassette at `path` (created by its first entry). */
  writeEntry(path: string, entry: Record<string, unknown>): Promise<void>;
  /** The cassette's entries in the order written; none for a missing path. */
  readEntries(path: string): AsyncIterable<Record<string, unknown>>;
  exists(path: string): boolean;
  /** Removes the cassette and all its entries; fine when missing. */
  delete(path: string): Promise<void>;
  /** Paths of the cassettes, sorted. */
  list(options?: { prefix?: string }): string[];
}

export interface Recording {
  id: string;
  events?: unknown[];
  [field: string]: unknown;
}

/** Finalized session recordings, each saved whole under its id. */
export interface RecordingStore {
  /** Saves (or replaces) the recording with `recording.id`. */
  save(recording: Recording): Promise<void>;
  /** The recording, or undefined when there is none. */
  get(id: string): Promise<Recording | undefined>;
  /** Every recording, whole, in save order. */
  list(): Promise<Recording[]>;
  /** Every recording without its events, plus their count and the save time: cheap, from the index. */
  listSummaries(): Promise<(Omit<Recording, "events"> & { eventCount: number; savedAt: number })[]>;
  /** Removes the recording; fine when missing. */
  delete(id: string): Promise<void>;
  /** Removes every recording. */
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

/** State snapshots (contexts) with versioned changes (deltas), per context id. */
export interface ContextStore {
  /** Saves (or replaces) the context's snapshot at `version`. */
  setContext(contextId: string, context: Record<string, unknown>, version: number): Promise<ContextRecord>;
  /** The context's snapshot; NOT_FOUND when there is none. */
  getContext(contextId: string): Promise<ContextRecord>;
  /** Saves the delta at `version` (a delta at the same version replaces it); needs no context. */
  setDelta(contextId: string, delta: Record<string, unknown>, version: number): Promise<DeltaRecord>;
  /** Deltas with version > clientVersion, ascending: what a client at clientVersion lacks. */
  getDeltas(contextId: string, clientVersion: number): Promise<DeltaRecord[]>;
  /** Contexts ordered by id; `version` matches exactly, insertedAfter/Before are strict. */
  listContexts(options?: ListOptions): Promise<ContextRecord[]>;
  /** listContexts, each with how many deltas its id has. */
  listContextsWithDeltaCounts(options?: ListOptions): Promise<(ContextRecord & { deltaCount: number })[]>;
  /** Deltas by context id, then version. */
  listDeltas(options?: ListOptions): Promise<DeltaRecord[]>;
  /** Removes the snapshot only; the deltas stay. */
  deleteContext(contextId: string): Promise<void>;
  /** Removes the context's deltas inserted before `olderThan` (ms since the epoch). */
  deleteDeltasByTime(contextId: string, olderThan: number): Promise<void>;
  /** Keeps the newest `keep` deltas of the context, removes the rest. */
  deleteDeltasExceedingThreshold(contextId: string, keep: number): Promise<void>;
  /** Removes every delta of the context. */
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

/** Byte streams with offsets: the storage behind the Durable Streams HTTP protocol (`seglog serve`). */
export interface ByteStreamStore {
  /** Creates the stream (ALREADY_EXISTS when it exists with another configuration). */
  create(id: string, meta?: ByteStreamMeta): Promise<void>;
  /** Appends; resolves with the offset after the data. `seq` must grow (else SEQ_CONFLICT). */
  append(id: string, data: Uint8Array | string, options?: { seq?: string }): Promise<string>;
  /** Closes the stream: later appends are STREAM_CLOSED, readers are told at its end. */
  close(id: string): Promise<void>;
  /** Removes the stream; its id can be created again. */
  delete(id: string): Promise<void>;
  /**
   * Bytes from `offset` (default: the start) on, whole appends (whole messages for
   * JSON streams) up to about maxBytes. `of` (seglog's addition): read only the
   * stream this info came from; NOT_FOUND if the id was deleted (and created again) since.
   */
  read(id: string, offset?: string, options?: { maxBytes?: number; of?: ByteStreamInfo }): Promise<{ data: Uint8Array; offset: string; hasMore: boolean; closed: boolean }>;
  /** The messages from `offset` on, each with the offset after it (JSON streams: one per array element). */
  readMessages(
    id: string,
    offset?: string,
    options?: { maxMessages?: number; of?: ByteStreamInfo },
  ): Promise<{ messages: ByteStreamMessage[]; offset: string; hasMore: boolean; closed: boolean }>;
  /** The offset after the stream's last byte. */
  currentOffset(id: string): string;
  /** The stream's configuration and state; NOT_FOUND for a missing or expired stream. */
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
  /**
   * What `read` answers, as pieces to send one at a time: when the answer is one
   * message larger than `maxBytes`, it is read from disk in pieces of at most
   * `pieceBytes` (default 1 MiB), so that no read holds the caller for the whole
   * message. The record's checksum is checked on the way; damage throws
   * CORRUPTION from the iteration, possibly after earlier pieces were handed
   * out (an HTTP server then aborts its answer). `length` is the answer's total.
   */
  readInPieces(
    id: string,
    offset?: string,
    options?: { maxBytes?: number; of?: ByteStreamInfo; pieceBytes?: number; allocate?: (length: number) => Uint8Array },
  ): Promise<{ pieces: Iterable<Uint8Array>; length: number; offset: string; hasMore: boolean; closed: boolean }>;
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

/** One database: one directory, one segmented log, six stores on it. */
export interface Database {
  /** The directory, resolved to an absolute path. */
  readonly dir: string;
  readonly events: EventStore;
  readonly objects: ObjectStore;
  readonly contexts: ContextStore;
  readonly cassettes: CassetteStore;
  readonly recordings: RecordingStore;
  readonly streams: ByteStreamStore;
  /** Rewrites sealed segments without what no read can return any more; needs the writer lock. */
  compact(options?: { onProgress?: (p: { done: number; total: number }) => void }): Promise<CompactionReport>;
  /** Re-reads every record and checks checksums and indexes; `onProgress` (not in the contract) reports bytes scanned. */
  verify(options?: { onProgress?: (p: { done: number; total: number }) => void }): Promise<VerifyReport>;
  /** Sizes and counts, from memory (no I/O). */
  stats(): Promise<Stats>;
  /** Cheap, no I/O, never throws: "failed" after an I/O error stopped writes (for readiness probes). */
  health(): Health;
  /** Flushes, fsyncs, writes the checkpoint and releases the lock; idempotent. */
  close(): Promise<void>;
}
