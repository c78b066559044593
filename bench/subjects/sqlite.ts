/**
 * better-sqlite3 with the schema emmett-style event stores use: one messages
 * table, the global position an autoincrement rowid, a unique
 * (stream_id, stream_position) index, and the expected-version check in the
 * same transaction as the inserts. WAL journal; synchronous=FULL for "sync"
 * (every commit fsyncs the WAL), NORMAL for "buffered" (commits reach the OS,
 * the WAL is fsynced at checkpoints: survives a process crash, not a power cut).
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { packr, unpackr } from "./record-codec.js";
import type { BenchEvent, ReadEvent, StreamWrite, Subject, SubjectOptions } from "./subject.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  global_position  INTEGER PRIMARY KEY AUTOINCREMENT,
  stream_id        TEXT    NOT NULL,
  stream_position  INTEGER NOT NULL,
  message_type     TEXT    NOT NULL,
  message_data     BLOB    NOT NULL,
  message_metadata BLOB,
  message_id       TEXT    NOT NULL,
  created          INTEGER NOT NULL,
  UNIQUE (stream_id, stream_position)
)`;

const COLUMNS = "global_position, stream_id, stream_position, message_type, message_data, message_metadata, message_id, created";
type Row = [number, string, number, string, Uint8Array, Uint8Array | null, string, number];

export class SqliteSubject implements Subject {
  readonly name = "sqlite";
  private db: Database.Database | undefined;
  private appendTx!: (writes: StreamWrite[]) => void;
  private forward!: Database.Statement;
  private backward!: Database.Statement;
  private all!: Database.Statement;

  settings(options: SubjectOptions): Record<string, string> {
    return {
      library: `better-sqlite3 12, SQLite ${sqliteVersion()} (built from source)`,
      journal_mode: "WAL",
      synchronous: options.durability === "sync" ? "FULL (WAL fsynced at every commit)" : "NORMAL (no fsync at commit; WAL fsynced at checkpoint)",
      other_pragmas: "build defaults: page_size 4096, cache_size -16000 (16 MB), wal_autocheckpoint 1000, mmap_size 0, locking_mode normal",
      schema: "messages(global_position INTEGER PRIMARY KEY AUTOINCREMENT, stream_id, stream_position, message_type, message_data BLOB msgpack, message_metadata BLOB, message_id, created), UNIQUE(stream_id, stream_position)",
      append: "one transaction: SELECT MAX(stream_position) for the expected-version check, then one INSERT per event",
      concurrency: "synchronous API: the 64 appenders of (c) take turns, one commit (and fsync) each",
    };
  }

  async open(dir: string, options: SubjectOptions): Promise<void> {
    mkdirSync(dir, { recursive: true });
    const db = new Database(join(dir, "events.db"));
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.durability === "sync" ? "FULL" : "NORMAL"}`);
    db.exec(SCHEMA);
    const version = db.prepare("SELECT MAX(stream_position) FROM messages WHERE stream_id = ?").pluck();
    const insert = db.prepare(
      "INSERT INTO messages (stream_id, stream_position, message_type, message_data, message_metadata, message_id, created) VALUES (?, ?, ?, ?, NULL, ?, ?)",
    );
    this.appendTx = db.transaction((writes: StreamWrite[]) => {
      const now = Date.now();
      for (const w of writes) {
        const actual = (version.get(w.streamId) as number | null) ?? -1;
        if (actual !== w.expectedVersion) throw new Error(`wrong expected version for ${w.streamId}: expected ${w.expectedVersion}, actual ${actual}`);
        for (let i = 0; i < w.events.length; i++) {
          const e = w.events[i]!;
          insert.run(w.streamId, actual + 1 + i, e.type, packr.pack(e.data), randomUUID(), now);
        }
      }
    });
    this.forward = db.prepare(`SELECT ${COLUMNS} FROM messages WHERE stream_id = ? ORDER BY stream_position`).raw();
    this.backward = db.prepare(`SELECT ${COLUMNS} FROM messages WHERE stream_id = ? ORDER BY stream_position DESC LIMIT ?`).raw();
    this.all = db.prepare(`SELECT ${COLUMNS} FROM messages WHERE global_position >= ? ORDER BY global_position LIMIT ?`).raw();
    this.db = db;
  }

  async append(streamId: string, expectedVersion: number, events: BenchEvent[]): Promise<void> {
    this.appendTx([{ streamId, expectedVersion, events }]);
  }

  async appendMany(writes: StreamWrite[]): Promise<void> {
    this.appendTx(writes);
  }

  async readStream(streamId: string): Promise<ReadEvent[]> {
    return (this.forward.all(streamId) as Row[]).map(toEvent);
  }

  async readStreamBackward(streamId: string, count: number): Promise<ReadEvent[]> {
    return (this.backward.all(streamId, count) as Row[]).map(toEvent);
  }

  async readAll(cursor: number | undefined, count: number): Promise<{ events: ReadEvent[]; next: number | undefined }> {
    const events = (this.all.all(cursor ?? 0, count) as Row[]).map(toEvent);
    return { events, next: events.length < count ? undefined : events[events.length - 1]!.position + 1 };
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }
}

function sqliteVersion(): string {
  const db = new Database(":memory:");
  try {
    return db.prepare("SELECT sqlite_version()").pluck().get() as string;
  } finally {
    db.close();
  }
}

function toEvent(r: Row): ReadEvent {
  return {
    id: r[6],
    streamId: r[1],
    version: r[2],
    position: r[0],
    type: r[3],
    data: unpackr.unpack(r[4]),
    metadata: r[5] === null ? {} : (unpackr.unpack(r[5]) as Record<string, unknown>),
    timestamp: r[7],
  };
}
