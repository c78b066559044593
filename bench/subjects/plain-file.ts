/**
 * The limit: one append-only file and nothing else. Each call encodes its
 * events as the same msgpack records the LMDB adapter stores (record-codec.ts),
 * checks the expected version against an in-memory map (the least any log must
 * do), and writes them with one write() — plus one fdatasync() per call for
 * "sync", the same system call seglog uses — all synchronous, on the main
 * thread, which is the cheapest path Node offers. There is no index, so stream
 * reads are not offered; the global read decodes the file front to back.
 *
 * With concurrent appenders (workload c) under "sync" it commits in groups
 * instead: calls that arrive while a write + fdatasync runs are gathered into
 * the next one, which is one write() and one fdatasync() (both on the thread
 * pool, so calls keep arriving meanwhile) for all of them — the least a group
 * commit can do, with no framing, checksum or index.
 */
import { randomUUID } from "node:crypto";
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync, readSync, write, writeSync } from "node:fs";
import { join } from "node:path";
import { encodeRecord, fromFields, unpackr } from "./record-codec.js";
import { Unsupported, type BenchEvent, type ReadEvent, type StreamWrite, type Subject, type SubjectOptions } from "./subject.js";

/** The scan reads 64 KiB first (a first read of one event stays cheap), doubling up to 1 MiB. */
const FIRST_READ = 64 * 1024;
const READ_CHUNK = 1024 * 1024;

export class PlainFileSubject implements Subject {
  readonly name = "plain-file";
  private fd = -1;
  private sync = false;
  private group = false;
  /** Calls gathered for the next group write, and their encoded records. */
  private gathered: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private gatheredBytes: Uint8Array[] = [];
  private flushing = false;
  private versions = new Map<string, number>();
  private batch = Buffer.allocUnsafe(64 * 1024);
  // The global read's scan: next event ordinal, file offset, decoded events, cut record.
  private readonly chunk = Buffer.allocUnsafe(READ_CHUNK);
  private scanNext = 0;
  private scanOffset = 0;
  private readSize = FIRST_READ;
  private queue: ReadEvent[] = [];
  private carry = Buffer.alloc(0);

  settings(options: SubjectOptions): Record<string, string> {
    return {
      file: "one file opened with O_APPEND",
      append: "one writeSync() per call (all events of the call in one buffer)",
      sync:
        options.durability !== "sync"
          ? "none (the OS page cache)"
          : options.concurrent === true
            ? "group commit: one write() + one fdatasync() (thread pool) for every call that arrived meanwhile"
            : "one fdatasyncSync() per call (no group commit)",
      check: "expected version against an in-memory Map",
      reads: "(e)/(f) not offered (no index); (g) reads the file front to back in chunks of up to 1 MiB and decodes every record",
    };
  }

  async open(dir: string, options: SubjectOptions): Promise<void> {
    mkdirSync(dir, { recursive: true });
    this.fd = openSync(join(dir, "events.log"), "a+");
    this.sync = options.durability === "sync";
    this.group = this.sync && options.concurrent === true;
    this.versions = new Map();
    this.restartScan();
  }

  async append(streamId: string, expectedVersion: number, events: BenchEvent[]): Promise<void> {
    if (this.group) return this.gather([{ streamId, expectedVersion, events }]);
    this.writeCall([{ streamId, expectedVersion, events }]);
  }

  async appendMany(writes: StreamWrite[]): Promise<void> {
    this.writeCall(writes);
  }

  readStream(): Promise<ReadEvent[]> {
    return Promise.reject(new Unsupported("a plain file has no stream index"));
  }

  readStreamBackward(): Promise<ReadEvent[]> {
    return Promise.reject(new Unsupported("a plain file has no stream index"));
  }

  /**
   * The cursor is the ordinal of the next event (its position). Reads go front
   * to back: each 1 MiB chunk is decoded whole into a queue the pages are
   * served from, and the bytes of a record cut by the chunk's end are carried
   * into the next chunk. A cursor other than the next one restarts the scan.
   */
  async readAll(cursor: number | undefined, count: number): Promise<{ events: ReadEvent[]; next: number | undefined }> {
    const want = cursor ?? 0;
    if (want !== this.scanNext) this.restartScan();
    while (this.scanNext < want) {
      if (this.queue.length === 0 && !this.decodeChunk()) break;
      this.queue.shift();
      this.scanNext++;
    }
    while (this.queue.length < count && this.decodeChunk()) {
      // decodeChunk appended to the queue
    }
    const events = this.queue.splice(0, count);
    this.scanNext += events.length;
    return { events, next: events.length < count ? undefined : this.scanNext };
  }

  async close(): Promise<void> {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Checks and encodes a call now; its promise settles with the group write that carries it. */
  private gather(writes: StreamWrite[]): Promise<void> {
    this.checkVersions(writes);
    const now = Date.now();
    for (const w of writes) {
      for (let i = 0; i < w.events.length; i++) this.gatheredBytes.push(encodeRecord(w.streamId, w.expectedVersion + 1 + i, now, randomUUID(), w.events[i]!));
      this.versions.set(w.streamId, w.expectedVersion + w.events.length);
    }
    const settled = new Promise<void>((resolve, reject) => this.gathered.push({ resolve, reject }));
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flushGroup());
    }
    return settled;
  }

  private flushGroup(): void {
    const calls = this.gathered;
    const records = this.gatheredBytes;
    this.gathered = [];
    this.gatheredBytes = [];
    const bytes = Buffer.concat(records);
    const done = (err: unknown) => {
      for (const c of calls) (err ? c.reject(err) : c.resolve());
      if (this.gathered.length > 0) this.flushGroup();
      else this.flushing = false;
    };
    const writeFrom = (off: number) =>
      write(this.fd, bytes, off, bytes.length - off, null, (err, n) => {
        if (err) return done(err);
        if (off + n < bytes.length) return writeFrom(off + n);
        fdatasync(this.fd, done);
      });
    writeFrom(0);
  }

  private checkVersions(writes: StreamWrite[]): void {
    for (const w of writes) {
      const actual = this.versions.get(w.streamId) ?? -1;
      if (actual !== w.expectedVersion) throw new Error(`wrong expected version for ${w.streamId}`);
    }
  }

  private writeCall(writes: StreamWrite[]): void {
    this.checkVersions(writes);
    const now = Date.now();
    let length = 0;
    let single: Uint8Array | undefined;
    for (const w of writes) {
      for (let i = 0; i < w.events.length; i++) {
        const record = encodeRecord(w.streamId, w.expectedVersion + 1 + i, now, randomUUID(), w.events[i]!);
        if (writes.length === 1 && w.events.length === 1) {
          single = record;
          break;
        }
        this.ensure(length + record.length);
        this.batch.set(record, length);
        length += record.length;
      }
      this.versions.set(w.streamId, w.expectedVersion + w.events.length);
    }
    if (single !== undefined) writeAll(this.fd, single, single.length);
    else writeAll(this.fd, this.batch, length);
    if (this.sync) fdatasyncSync(this.fd);
  }

  private ensure(bytes: number): void {
    if (bytes <= this.batch.length) return;
    const next = Buffer.allocUnsafe(Math.max(bytes, this.batch.length * 2));
    next.set(this.batch);
    this.batch = next;
  }

  private restartScan(): void {
    this.scanNext = 0;
    this.scanOffset = 0;
    this.readSize = FIRST_READ;
    this.queue = [];
    this.carry = Buffer.alloc(0);
  }

  /** Reads the next chunk and decodes every whole record in it; false at the end of the file. */
  private decodeChunk(): boolean {
    const got = readSync(this.fd, this.chunk, 0, this.readSize, this.scanOffset);
    if (got === 0) return false;
    this.scanOffset += got;
    this.readSize = Math.min(READ_CHUNK, this.readSize * 2);
    const bytes = this.carry.length === 0 ? this.chunk.subarray(0, got) : Buffer.concat([this.carry, this.chunk.subarray(0, got)]);
    let position = this.scanNext + this.queue.length;
    let end = 0;
    try {
      unpackr.unpackMultiple(bytes, (value: unknown, _start = 0, stop = 0) => {
        this.queue.push(fromFields(value as unknown[], position++));
        end = stop;
      });
    } catch (err) {
      if (!(err as { incomplete?: boolean }).incomplete) throw err;
      // The chunk ends inside a record: its bytes go in front of the next chunk.
    }
    this.carry = Buffer.from(bytes.subarray(end));
    return true;
  }
}

function writeAll(fd: number, buffer: Uint8Array, length: number): void {
  let off = 0;
  while (off < length) off += writeSync(fd, buffer, off, length - off);
}
