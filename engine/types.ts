/** The public types of shared/API.md for the parts of the engine that exist. */
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
  compact(options?: { onProgress?: (p: { done: number; total: number }) => void }): Promise<CompactionReport>;
  verify(): Promise<VerifyReport>;
  stats(): Promise<Stats>;
  health(): Health;
  close(): Promise<void>;
}
