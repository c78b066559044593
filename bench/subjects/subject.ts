/**
 * The one interface every benchmarked store implements: seglog, better-sqlite3,
 * lmdb-js and the plain append-only file (the "limit"). A workload only ever
 * talks to a Subject, so the same loop times every store.
 *
 * Every subject stores the same logical event (stream id, version, timestamp,
 * event id, type, msgpack data) and hands back the same decoded shape on reads,
 * so the figures compare the stores, not different amounts of work.
 */

/** What the harness asks a subject to store; `data` is encoded by the subject. */
export interface BenchEvent {
  type: string;
  /** An object (msgpack payload) or opaque bytes (bytes payload): bench/data.ts. */
  data: Record<string, unknown> | Uint8Array;
}

/** What every subject returns from a read: the decoded event. */
export interface ReadEvent {
  id: string;
  streamId: string;
  version: number;
  position: number;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  timestamp: number;
}

export type Durability = "sync" | "buffered";

export interface SubjectOptions {
  durability: Durability;
  /**
   * The appenders run concurrently (workload c): subjects that offer a
   * batching write path for that case (lmdb-js asynchronous transactions)
   * use it; the others ignore the hint.
   */
  concurrent?: boolean;
}

/** One append of a fill: `events` for one stream, checked against `expectedVersion`. */
export interface StreamWrite {
  streamId: string;
  /** The stream's current version; -1 means the stream must not exist yet. */
  expectedVersion: number;
  events: BenchEvent[];
}

/** Thrown by subjects for workloads they cannot serve (a plain file has no stream index). */
export class Unsupported extends Error {
  constructor(what: string) {
    super(what);
    this.name = "Unsupported";
  }
}

export interface Subject {
  readonly name: string;
  /** Every setting that matters for the comparison, printed in the output and the doc. */
  settings(options: SubjectOptions): Record<string, string>;
  open(dir: string, options: SubjectOptions): Promise<void>;
  /**
   * Appends `events` to one stream after checking, in the same atomic step, that
   * the stream's version is `expectedVersion` (-1: no stream yet). Resolves at
   * the durability the subject was opened with.
   */
  append(streamId: string, expectedVersion: number, events: BenchEvent[]): Promise<void>;
  /** Appends to several streams in one atomic step; used to fill databases, not timed. */
  appendMany(writes: StreamWrite[]): Promise<void>;
  /** Every event of a stream, oldest first. */
  readStream(streamId: string): Promise<ReadEvent[]>;
  /** The last `count` events of a stream, newest first. */
  readStreamBackward(streamId: string, count: number): Promise<ReadEvent[]>;
  /**
   * Up to `count` events in global order from `cursor` (undefined: the start);
   * returns the cursor for the next page, undefined at the end.
   */
  readAll(cursor: number | undefined, count: number): Promise<{ events: ReadEvent[]; next: number | undefined }>;
  close(): Promise<void>;
}

export type SubjectName = "seglog" | "sqlite" | "lmdb" | "plain-file";
export const SUBJECT_NAMES: readonly SubjectName[] = ["seglog", "sqlite", "lmdb", "plain-file"];

/** Loads one adapter; each child process imports only the store it measures. */
export async function loadSubject(name: SubjectName): Promise<Subject> {
  switch (name) {
    case "seglog":
      return new (await import("./seglog.js")).SeglogSubject();
    case "sqlite":
      return new (await import("./sqlite.js")).SqliteSubject();
    case "lmdb":
      return new (await import("./lmdb.js")).LmdbSubject();
    case "plain-file":
      return new (await import("./plain-file.js")).PlainFileSubject();
  }
}
