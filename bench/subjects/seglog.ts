/**
 * seglog through its public API (shared/API.md, Event store): one database
 * directory, default segment size, durability as asked. Events go in as
 * objects; seglog encodes them (msgpack) itself.
 */
import { open } from "../../engine/index.js";
import type { Database } from "../../engine/index.js";
import type { BenchEvent, ReadEvent, StreamWrite, Subject, SubjectOptions } from "./subject.js";

export class SeglogSubject implements Subject {
  readonly name = "seglog";
  private db: Database | undefined;

  settings(options: SubjectOptions): Record<string, string> {
    return {
      durability: options.durability === "sync" ? '"sync" (fdatasync before resolve; concurrent appends share one write + one fdatasync)' : '"buffered" (resolves after write(); fdatasync at least every flushIntervalMs)',
      flushIntervalMs: "100 (default)",
      segmentBytes: "64 MiB (default)",
      append: "db.events.append(streamId, events, { expectedVersion })",
      reads: "readStream / readStream({ direction: \"backward\", count }) / readAll({ from, count })",
    };
  }

  async open(dir: string, options: SubjectOptions): Promise<void> {
    this.db = await open(dir, { durability: options.durability });
  }

  async append(streamId: string, expectedVersion: number, events: BenchEvent[]): Promise<void> {
    await this.database.events.append(streamId, events, { expectedVersion });
  }

  async appendMany(writes: StreamWrite[]): Promise<void> {
    await this.database.events.appendMany(writes);
  }

  readStream(streamId: string): Promise<ReadEvent[]> {
    return this.database.events.readStream(streamId);
  }

  readStreamBackward(streamId: string, count: number): Promise<ReadEvent[]> {
    return this.database.events.readStream(streamId, { direction: "backward", count });
  }

  async readAll(cursor: number | undefined, count: number): Promise<{ events: ReadEvent[]; next: number | undefined }> {
    const events = await this.database.events.readAll({ from: cursor ?? 0, count });
    return { events, next: events.length < count ? undefined : events[events.length - 1]!.position + 1 };
  }

  async close(): Promise<void> {
    await this.db?.close();
    this.db = undefined;
  }

  private get database(): Database {
    if (this.db === undefined) throw new Error("seglog subject is not open");
    return this.db;
  }
}
