/**
 * db.streams: ordered byte streams with opaque offsets on the shared log — the
 * storage behind the Durable Streams HTTP protocol (engine/server/). Record
 * layouts are in stream-codec.ts, offsets in stream-offsets.ts.
 *
 * Owns: the catalog of stream incarnations (id → incarnation, each with its
 * chunk index, closed flag, Stream-Seq, producer states and TTL clock), rebuilt
 * from the log or restored from the checkpoint.
 * Concurrency: writes are checked and framed synchronously in call order
 * against the writer's view (stream-writes.ts); reads and waits see only the
 * committed view, which changes in commit order, so a reader never sees bytes
 * that are not durable and never sees a later append without an earlier one.
 * Invariant: offsets of a stream only grow; bytes at an offset never change; an
 * append and the producer state and close it carries are one record.
 */
import { invalidArgument, SeglogError } from "../../errors.js";
import { RecordType } from "../../format/constants.js";
import { RECORD_HEADER_BYTES } from "../../limits.js";
import type * as api from "../../types.js";
import type { LogStore, SegmentRelocation, StoreContext, StoreUsage } from "../context.js";
import { CLOSE_ARRAY, isJsonContentType, OPEN_ARRAY } from "./json-mode.js";
import { StreamCatalog } from "./stream-catalog.js";
import { restoreCatalog, snapshotCatalog, type StreamsSection } from "./stream-checkpoint.js";
import { chunkPayload, decodeChunkHead, decodeClose, decodeCreate, decodeDelete, decodeFloor } from "./stream-codec.js";
import { StreamCompaction } from "./stream-compaction.js";
import { StreamIncarnation } from "./stream-incarnation.js";
import { formatOffset, parseOffset } from "./stream-offsets.js";
import { newMemory, StreamReads } from "./stream-reads.js";
import { checkCount, checkCreate, checkData, checkObject, checkStreamId, checkTimeout, checkWrite } from "./stream-validation.js";
import { verifyStreams } from "./stream-verify.js";
import { StreamWaiters } from "./stream-waiters.js";
import { StreamWrites } from "./stream-writes.js";

export class ByteStreamStore implements api.ByteStreamStore, LogStore {
  readonly name = "streams";
  readonly recordTypes = [
    RecordType.ByteStreamCreate,
    RecordType.ByteStreamChunk,
    RecordType.ByteStreamClose,
    RecordType.ByteStreamDelete,
    RecordType.ByteStreamFloor,
  ] as const;
  private readonly catalog: StreamCatalog;
  private readonly reads: StreamReads;
  private readonly writes: StreamWrites;
  private readonly waiters: StreamWaiters;
  private readonly compaction: StreamCompaction;
  /** A read renewed some TTL since the last checkpoint section was taken. */
  private accessRenewed = false;
  /** Which incarnation each info handed out describes (reads `of` it are pinned to that stream). */
  private readonly described = new WeakMap<object, StreamIncarnation>();

  constructor(private readonly ctx: StoreContext) {
    this.catalog = new StreamCatalog(ctx.clock);
    this.reads = new StreamReads(ctx.log);
    this.writes = new StreamWrites(ctx, this.catalog, this.reads, (inc) => this.info(inc));
    this.waiters = new StreamWaiters(ctx);
    this.compaction = new StreamCompaction(this.catalog);
  }

  // ---- writes -------------------------------------------------------------

  async create(id: string, meta?: api.ByteStreamMeta): Promise<void> {
    await this.ensure(id, meta);
  }

  async ensure(id: string, options?: api.ByteStreamCreateOptions): Promise<api.ByteStreamEnsureResult> {
    checkStreamId(id);
    return this.writes.ensure(id, checkCreate(options));
  }

  async append(id: string, data: Uint8Array | string, options?: { seq?: string }): Promise<string> {
    checkStreamId(id);
    checkData(data, "data");
    const seq = checkObject(options, "options").seq;
    const result = await this.write(id, data, seq === undefined ? undefined : { seq: seq as string });
    return result.offset;
  }

  async write(id: string, data: Uint8Array | string | undefined, options?: api.ByteStreamWriteOptions): Promise<api.ByteStreamWriteResult> {
    checkStreamId(id);
    const checked = checkWrite(data, options);
    return this.writes.write(id, checked.data, checked.write);
  }

  async close(id: string): Promise<void> {
    await this.write(id, undefined, { close: true });
  }

  async delete(id: string): Promise<void> {
    checkStreamId(id);
    return this.writes.delete(id);
  }

  // ---- reads --------------------------------------------------------------

  async read(id: string, offset?: string, options?: { maxBytes?: number; of?: api.ByteStreamInfo }): Promise<{ data: Uint8Array; offset: string; hasMore: boolean; closed: boolean }> {
    const o = checkObject(options, "options");
    const maxBytes = checkCount(o.maxBytes, "options.maxBytes");
    const { inc, position } = this.readable(id, offset, o.of);
    const r = this.reads.readBytes(inc, position, maxBytes);
    return { data: r.data, offset: formatOffset(r.end), hasMore: r.hasMore, closed: inc.closed && !r.hasMore };
  }

  async readInPieces(
    id: string,
    offset?: string,
    options?: { maxBytes?: number; of?: api.ByteStreamInfo; pieceBytes?: number; allocate?: (length: number) => Uint8Array },
  ): Promise<{ pieces: Iterable<Uint8Array>; length: number; offset: string; hasMore: boolean; closed: boolean }> {
    const o = checkObject(options, "options");
    const maxBytes = checkCount(o.maxBytes, "options.maxBytes");
    const pieceBytes = o.pieceBytes === undefined ? DEFAULT_PIECE_BYTES : checkCount(o.pieceBytes, "options.pieceBytes");
    const allocate = o.allocate === undefined ? newMemory : checkedAllocate(o.allocate);
    const { inc, position } = this.readable(id, offset, o.of);
    const seen: { lengths?: number[] } = {};
    const large = this.reads.largeMessage(inc, position, maxBytes, seen);
    if (large === undefined) {
      const r = this.reads.readBytes(inc, position, maxBytes, allocate, seen.lengths);
      return { pieces: [r.data], length: r.data.length, offset: formatOffset(r.end), hasMore: r.hasMore, closed: inc.closed && !r.hasMore };
    }
    const body = large.record.pieces(large.range, pieceBytes, allocate);
    return {
      pieces: large.json ? bracketed(body) : body,
      length: large.length + (large.json ? 2 : 0),
      offset: formatOffset(large.end),
      hasMore: large.hasMore,
      closed: inc.closed && !large.hasMore,
    };
  }

  async readMessages(
    id: string,
    offset?: string,
    options?: { maxMessages?: number; of?: api.ByteStreamInfo },
  ): Promise<{ messages: api.ByteStreamMessage[]; offset: string; hasMore: boolean; closed: boolean }> {
    const o = checkObject(options, "options");
    const maxMessages = checkCount(o.maxMessages, "options.maxMessages");
    const { inc, position } = this.readable(id, offset, o.of);
    const r = this.reads.readMessages(inc, position, maxMessages);
    const messages = r.messages.map((m) => ({ data: m.data, offset: formatOffset(m.end) }));
    return { messages, offset: formatOffset(r.end), hasMore: r.hasMore, closed: inc.closed && !r.hasMore };
  }

  currentOffset(id: string): string {
    this.ctx.checkOpen();
    return formatOffset(this.catalog.visible(checkStreamId(id)).chunks.tail);
  }

  getMetadata(id: string): api.ByteStreamInfo {
    this.ctx.checkOpen();
    return this.info(this.catalog.visible(checkStreamId(id)));
  }

  touch(id: string): api.ByteStreamInfo {
    this.ctx.checkOpen();
    const inc = this.catalog.visible(checkStreamId(id));
    this.renew(inc);
    return this.info(inc);
  }

  async waitForData(id: string, offset: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const timeout = checkTimeout(timeoutMs, "timeoutMs");
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidArgument("signal", "must be an AbortSignal");
    const { inc, position } = this.readable(id, offset);
    if (position.messages < inc.chunks.tailMessages || inc.closed) return true;
    const woke = await this.waiters.wait(inc, timeout, signal);
    // Woken by data of a stream that, in the same commit, was deleted (and its
    // id created again): the offset belongs to the stream that is gone, and a
    // read by id would now find the new one.
    if (woke && (inc.deleted || this.catalog.committed.get(inc.streamId) !== inc)) {
      throw new SeglogError("NOT_FOUND", `byte stream ${inc.streamId} was deleted while waiting for data`, { streamId: inc.streamId });
    }
    return woke;
  }

  list(options?: { prefix?: string }): string[] {
    this.ctx.checkOpen();
    const prefix = checkObject(options, "options").prefix ?? "";
    if (typeof prefix !== "string") throw invalidArgument("options.prefix", "must be a string");
    const now = this.ctx.clock();
    const ids: string[] = [];
    for (const [id, inc] of this.catalog.committed) if (id.startsWith(prefix) && !inc.deleted && !inc.expired(now)) ids.push(id);
    return ids.sort();
  }

  // ---- recovery, checkpoint, verify ------------------------------------------

  replay(type: number, body: Uint8Array, location: number): void {
    const bytes = body.length + RECORD_HEADER_BYTES;
    const catalog = this.catalog;
    switch (type) {
      case RecordType.ByteStreamCreate: {
        const r = decodeCreate(body);
        const settings = { contentType: r.contentType, json: isJsonContentType(r.contentType), ttlSeconds: r.ttlSeconds, expiresAt: r.expiresAt, createdAt: r.createdAt };
        catalog.commitCreate(new StreamIncarnation(r.incarnation, r.streamId, settings, r.fork), location, bytes);
        return;
      }
      case RecordType.ByteStreamChunk: {
        const head = decodeChunkHead(body);
        const inc = catalog.byNumber.get(head.incarnation);
        if (inc === undefined) catalog.orphan(location, bytes);
        else catalog.commitChunk(inc, head, chunkPayload(body).length, location, bytes);
        return;
      }
      case RecordType.ByteStreamClose: {
        const r = decodeClose(body);
        const inc = catalog.byNumber.get(r.incarnation);
        if (inc === undefined) catalog.orphan(location, bytes);
        else catalog.commitClose(inc, r.producer, r.timestamp, location, bytes);
        return;
      }
      case RecordType.ByteStreamDelete: {
        const r = decodeDelete(body);
        const inc = catalog.byNumber.get(r.incarnation);
        if (inc === undefined) catalog.orphan(location, bytes);
        else catalog.commitDelete(inc, location, bytes);
        return;
      }
      case RecordType.ByteStreamFloor:
        catalog.nextNumber = Math.max(catalog.nextNumber, decodeFloor(body) + 1);
        return;
    }
  }

  recovered(): void {
    this.catalog.resetWriters();
  }

  checkpoint(): unknown {
    this.accessRenewed = false;
    return snapshotCatalog(this.catalog);
  }

  hasUnloggedChanges(): boolean {
    return this.accessRenewed;
  }

  restore(section: unknown): void {
    restoreCatalog(this.catalog, section as StreamsSection);
  }

  verify(): string[] {
    return verifyStreams(this.catalog, this.ctx.log);
  }

  // ---- compaction (stream-compaction.ts) --------------------------------------

  planCompaction(): void {
    this.compaction.plan();
  }

  keep(type: number, body: Uint8Array): boolean {
    return this.compaction.keep(type, body);
  }

  snapshotRecords(): { type: number; body: Uint8Array }[] {
    return this.compaction.snapshotRecords();
  }

  relocated(relocation: SegmentRelocation): void {
    this.compaction.relocated(relocation);
  }

  usage(): StoreUsage {
    let bytes = 0;
    for (const inc of this.catalog.committed.values()) for (const b of inc.ownBytes.values()) bytes += b;
    return { streams: this.catalog.committed.size, bytes };
  }

  garbageBytes(): number {
    return this.catalog.garbageBytes();
  }

  // ---- internals ----------------------------------------------------------

  /**
   * The incarnation a read sees and the checked position in it; renews the
   * TTL. `of`: an info this store returned; the read must find the stream it
   * describes, not one created under the id since.
   */
  private readable(id: string, offset: string | undefined, of?: unknown): { inc: StreamIncarnation; position: ReturnType<typeof parseOffset> } {
    this.ctx.checkOpen();
    checkStreamId(id);
    const pinned = of === undefined ? undefined : this.described.get(of as object);
    if (of !== undefined && pinned === undefined) throw invalidArgument("options.of", "must be a ByteStreamInfo this store returned");
    const position = parseOffset(offset, "offset");
    const inc = this.catalog.visible(id);
    if (pinned !== undefined && pinned !== inc) {
      throw new SeglogError("NOT_FOUND", `byte stream ${id} was deleted since its info was read`, { streamId: id });
    }
    this.reads.checkPosition(inc, position, "offset");
    this.renew(inc);
    return { inc, position };
  }

  /** A read renews the sliding TTL: state only the checkpoint keeps (no record is written for a read). */
  private renew(inc: StreamIncarnation): void {
    const before = inc.lastAccess;
    inc.touch(this.ctx.clock());
    if (inc.lastAccess !== before) this.accessRenewed = true;
  }

  private info(inc: StreamIncarnation): api.ByteStreamInfo {
    const s = inc.settings;
    const info: api.ByteStreamInfo = { id: inc.streamId, contentType: s.contentType, createdAt: s.createdAt, closed: inc.closed, offset: formatOffset(inc.chunks.tail) };
    if (s.ttlSeconds !== undefined) info.ttlSeconds = s.ttlSeconds;
    if (s.expiresAt !== undefined) info.expiresAt = s.expiresAt;
    this.described.set(info, inc);
    return info;
  }
}

/** Pieces of a read too large for its budget: small enough that reading and sending one is a short turn. */
const DEFAULT_PIECE_BYTES = 1024 * 1024;

/** A JSON answer of one message: "[", the message's pieces, "]". */
function* bracketed(pieces: Iterable<Uint8Array>): Generator<Uint8Array> {
  yield Uint8Array.of(OPEN_ARRAY);
  yield* pieces;
  yield Uint8Array.of(CLOSE_ARRAY);
}

/** The caller's allocate, held to its word: memory of at least the length asked for, handed back as a view of that length. */
function checkedAllocate(allocate: unknown): (length: number) => Uint8Array {
  if (typeof allocate !== "function") throw new SeglogError("INVALID_ARGUMENT", "options.allocate must be a function", { argument: "options.allocate" });
  return (length) => {
    const memory: unknown = allocate(length);
    if (!(memory instanceof Uint8Array) || memory.length < length) {
      throw new SeglogError("INVALID_ARGUMENT", `options.allocate must return a Uint8Array of at least ${length} bytes`, { argument: "options.allocate" });
    }
    return memory.subarray(0, length);
  };
}
