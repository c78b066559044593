/**
 * lmdb-js with two databases in one environment:
 *   events:  key = global position (uint32)      → value = the event record
 *            (msgpack [streamId, version, timestamp, id, type, data], encoded
 *            once by the adapter, stored as binary)
 *   streams: key = [streamId, version] (ordered-binary) → value = position
 * so a stream read walks the streams db in key order and fetches each event by
 * position, and the global read walks the events db in key order. The expected
 * version is checked in the write transaction (the last key of the stream's
 * range) before anything is put.
 *
 * Durability: "buffered" opens the environment with noSync (commits reach the
 * OS page cache; survives a process crash, not a power cut). "sync" keeps
 * LMDB's synced commits: single awaited appends use transactionSync (returns
 * after the commit is flushed); the 64 concurrent appenders of (c) use
 * asynchronous transactions, which lmdb-js batches per event turn into one
 * commit, and each waits until that commit is flushed.
 */
import { ABORT, open, type Database, type RootDatabase } from "lmdb";
import { randomUUID } from "node:crypto";
import { decodeRecord, encodeRecord } from "./record-codec.js";
import type { BenchEvent, ReadEvent, StreamWrite, Subject, SubjectOptions } from "./subject.js";

const MAX_VERSION = 0xffffffff;

export class LmdbSubject implements Subject {
  readonly name = "lmdb";
  private env: RootDatabase | undefined;
  private events!: Database<Buffer, number>;
  private streams!: Database<number, [string, number]>;
  private nextPosition = 0;
  private concurrent = false;
  private sync = false;

  settings(options: SubjectOptions): Record<string, string> {
    const s: Record<string, string> = {
      library: "lmdb-js 3 (prebuilt LMDB)",
      noSync: options.durability === "buffered" ? "true (no flush at commit)" : "false (each commit flushed)",
      overlappingSync: options.durability === "buffered" ? "false (implied by noSync)" : "default (true on Linux)",
      compression: "false",
      pageSize: "default (4096)",
      databases: "events: uint32 position → binary msgpack record; streams: [streamId, version] → position",
    };
    if (options.concurrent && options.durability === "sync") {
      s.append = "env.transaction(callback) (asynchronous, batched per event turn), then await env.flushed";
    } else {
      s.append = "env.transactionSync(callback): expected-version check + puts, committed before returning";
    }
    return s;
  }

  async open(dir: string, options: SubjectOptions): Promise<void> {
    this.sync = options.durability === "sync";
    this.concurrent = options.concurrent === true;
    const env = open({ path: dir, noSync: !this.sync, compression: false, maxDbs: 4 });
    this.events = env.openDB<Buffer, number>({ name: "events", keyEncoding: "uint32", encoding: "binary" });
    this.streams = env.openDB<number, [string, number]>({ name: "streams", encoding: "ordered-binary" });
    this.nextPosition = 0;
    for (const key of this.events.getKeys({ reverse: true, limit: 1 })) this.nextPosition = (key as number) + 1;
    this.env = env;
  }

  async append(streamId: string, expectedVersion: number, events: BenchEvent[]): Promise<void> {
    const env = this.environment;
    const write: StreamWrite[] = [{ streamId, expectedVersion, events }];
    if (this.concurrent && this.sync) {
      const ok = await env.transaction(() => this.writeInTxn(write));
      if (ok !== true) throw new Error(`wrong expected version for ${streamId}`);
      await env.flushed;
      return;
    }
    if (env.transactionSync(() => this.writeInTxn(write)) !== true) throw new Error(`wrong expected version for ${streamId}`);
  }

  async appendMany(writes: StreamWrite[]): Promise<void> {
    if (this.environment.transactionSync(() => this.writeInTxn(writes)) !== true) throw new Error("wrong expected version");
  }

  async readStream(streamId: string): Promise<ReadEvent[]> {
    const out: ReadEvent[] = [];
    for (const { value } of this.streams.getRange({ start: [streamId, 0], end: [streamId, MAX_VERSION] })) out.push(this.eventAt(value));
    return out;
  }

  async readStreamBackward(streamId: string, count: number): Promise<ReadEvent[]> {
    const out: ReadEvent[] = [];
    for (const { value } of this.streams.getRange({ start: [streamId, MAX_VERSION], end: [streamId, -1], reverse: true, limit: count })) out.push(this.eventAt(value));
    return out;
  }

  async readAll(cursor: number | undefined, count: number): Promise<{ events: ReadEvent[]; next: number | undefined }> {
    const events: ReadEvent[] = [];
    for (const { key, value } of this.events.getRange({ start: cursor ?? 0, limit: count })) events.push(decodeRecord(value, key));
    return { events, next: events.length < count ? undefined : events[events.length - 1]!.position + 1 };
  }

  async close(): Promise<void> {
    await this.env?.close();
    this.env = undefined;
  }

  /** Runs inside a write transaction: checks every stream, then puts; returns ABORT on a mismatch. */
  private writeInTxn(writes: StreamWrite[]): true | typeof ABORT {
    const now = Date.now();
    for (const w of writes) if (this.versionOf(w.streamId) !== w.expectedVersion) return ABORT;
    for (const w of writes) {
      for (let i = 0; i < w.events.length; i++) {
        const version = w.expectedVersion + 1 + i;
        const position = this.nextPosition++;
        this.events.put(position, encodeRecord(w.streamId, version, now, randomUUID(), w.events[i]!) as Buffer);
        this.streams.put([w.streamId, version], position);
      }
    }
    return true;
  }

  private versionOf(streamId: string): number {
    for (const key of this.streams.getKeys({ start: [streamId, MAX_VERSION], end: [streamId, -1], reverse: true, limit: 1 })) return key[1];
    return -1;
  }

  private eventAt(position: number): ReadEvent {
    const bytes = this.events.getBinaryFast(position);
    if (bytes === undefined) throw new Error(`lmdb: event ${position} missing`);
    return decodeRecord(bytes, position);
  }

  private get environment(): RootDatabase {
    if (this.env === undefined) throw new Error("lmdb subject is not open");
    return this.env;
  }
}
