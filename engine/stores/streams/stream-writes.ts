/**
 * The write side of db.streams: create (with fork, initial data, closed),
 * append and/or close, delete. Each call checks and frames synchronously in the
 * caller's turn against the writer's view, moves that view, and hands its
 * records to the group commit as one atomic group; the catalog's `commit*`
 * apply them to the committed view once they are durable.
 *
 * Concurrency: everything up to `submit` is synchronous, so checks follow call
 * order even when callers do not wait for each other (two appends with the same
 * Stream-Seq: the second sees the first). A failed batch aborts every queued
 * write and each abort puts its incarnation's writer view back.
 */
import { SeglogError } from "../../errors.js";
import { FLAG_GROUP_END, RecordType } from "../../format/constants.js";
import { RECORD_HEADER_BYTES } from "../../limits.js";
import type * as api from "../../types.js";
import type { StoreContext } from "../context.js";
import { isJsonContentType, jsonMessages, mediaType, type MessageBatch } from "./json-mode.js";
import { judgeProducer, producerError } from "./producers.js";
import { deleted, type StreamCatalog } from "./stream-catalog.js";
import { encodeChunkHead, encodeClose, encodeCreate, encodeDelete, type ChunkHead, type ForkOrigin, type ProducerStamp } from "./stream-codec.js";
import { StreamIncarnation, type StreamSettings } from "./stream-incarnation.js";
import { formatOffset, type Position } from "./stream-offsets.js";
import type { StreamReads } from "./stream-reads.js";
import { DEFAULT_CONTENT_TYPE, type CheckedCreate, type CheckedWrite } from "./stream-validation.js";

const NO_MESSAGES: MessageBatch = { payload: new Uint8Array(0), lengths: [] };

/** Records framed for one call; `at` is each record's offset in the batch. */
interface Framed {
  create?: { at: number; bytes: number };
  chunk?: { at: number; bytes: number; head: ChunkHead; payloadBytes: number };
  close?: { at: number; bytes: number; producer: ProducerStamp | undefined; timestamp: number };
}

export class StreamWrites {
  constructor(
    private readonly ctx: StoreContext,
    private readonly catalog: StreamCatalog,
    private readonly reads: StreamReads,
    private readonly info: (inc: StreamIncarnation) => api.ByteStreamInfo,
  ) {}

  async ensure(id: string, c: CheckedCreate): Promise<api.ByteStreamEnsureResult> {
    this.ctx.checkWritable();
    this.catalog.sweepSome(4);
    const existing = this.catalog.occupant(id);
    if (existing !== undefined) return this.confirm(existing, c);
    const source = c.fork === undefined ? undefined : this.catalog.writable(c.fork.from);
    const settings = this.settingsFor(c, source);
    if (c.expiresAt !== undefined && c.expiresAt <= settings.createdAt) {
      // It would be created expired: gone (NOT_FOUND) the moment it exists.
      throw new SeglogError("INVALID_ARGUMENT", `options.expiresAt ${c.expiresAt} (ms) is not after now (${settings.createdAt})`, { argument: "options.expiresAt", streamId: id });
    }
    const origin = source === undefined ? undefined : this.forkOrigin(source, c, settings);
    const messages = c.data === undefined ? NO_MESSAGES : this.messagesOf(settings.json, c.data, "options.data", true);
    const inc = new StreamIncarnation(this.catalog.nextNumber, id, settings, origin);
    const createBody = encodeCreate({ incarnation: inc.number, streamId: id, ...settings, fork: origin });
    const start = this.ctx.commit.mark();
    const framed: Framed = {};
    try {
      const last = messages.lengths.length === 0 && !c.closed;
      framed.create = { at: this.ctx.commit.frame(RecordType.ByteStreamCreate, last ? FLAG_GROUP_END : 0, createBody), bytes: createBody.length + RECORD_HEADER_BYTES };
      this.frameChange(inc, framed, messages, { seq: undefined, producer: undefined, close: c.closed }, settings.createdAt);
    } catch (err) {
      this.ctx.commit.rollback(start);
      throw err;
    }
    this.catalog.nextNumber++;
    this.catalog.writers.set(id, inc);
    if (source !== undefined) {
      inc.source = source;
      source.forks.add(inc);
    }
    await this.submit(inc, start, framed, () => {
      source?.forks.delete(inc);
      if (this.catalog.writers.get(id) !== inc) return;
      const committed = this.catalog.committed.get(id);
      if (committed === undefined) this.catalog.writers.delete(id);
      else this.catalog.writers.set(id, committed);
    });
    return { created: true, info: this.info(inc) };
  }

  async write(id: string, data: Uint8Array | undefined, w: CheckedWrite): Promise<api.ByteStreamWriteResult> {
    this.ctx.checkWritable();
    const inc = this.catalog.writable(id);
    if (data !== undefined && w.contentType !== undefined && mediaType(w.contentType) !== mediaType(inc.settings.contentType)) {
      throw new SeglogError("INVALID_ARGUMENT", `data sent as ${w.contentType} does not match byte stream ${id}'s ${inc.settings.contentType}`, {
        streamId: id,
        argument: "options.contentType",
      });
    }
    const now = this.ctx.clock();
    const messages = data === undefined ? NO_MESSAGES : this.messagesOf(inc.json, data, "data", w.close);
    if (messages.lengths.length === 0 && !w.close) throw new SeglogError("INVALID_ARGUMENT", "data must not be empty", { argument: "data", streamId: id });
    const verdict = w.producer === undefined ? undefined : judgeProducer(inc.writerProducers.get(w.producer.id), w.producer);
    if (verdict?.kind === "stale") throw producerError(id, w.producer!, verdict);
    if (verdict?.kind === "duplicate") return this.settled(inc, now, true, { epoch: w.producer!.epoch, seq: verdict.lastSeq });
    if (inc.writerClosed) {
      // Closing a closed stream is ok; anything that would change it is not.
      if (messages.lengths.length === 0 && w.producer === undefined) return this.settled(inc, now, false, undefined);
      throw new SeglogError("STREAM_CLOSED", `byte stream ${id} is closed`, { streamId: id });
    }
    const rejected = verdict === undefined ? undefined : producerError(id, w.producer!, verdict);
    if (rejected !== undefined) throw rejected;
    if (w.seq !== undefined && inc.writerSeq !== undefined && w.seq <= inc.writerSeq) {
      throw new SeglogError("SEQ_CONFLICT", `byte stream ${id}: seq ${JSON.stringify(w.seq)} is not greater than ${JSON.stringify(inc.writerSeq)}`, {
        streamId: id,
        expected: inc.writerSeq,
        argument: "options.seq",
      });
    }
    const start = this.ctx.commit.mark();
    const framed: Framed = {};
    try {
      this.frameChange(inc, framed, messages, w, now);
    } catch (err) {
      this.ctx.commit.rollback(start);
      throw err;
    }
    inc.touch(now);
    const tail = inc.writerTail;
    await this.submit(inc, start, framed, () => inc.resetWriter());
    return { offset: formatOffset(tail), closed: w.close, duplicate: false, producer: w.producer === undefined ? undefined : { epoch: w.producer.epoch, seq: w.producer.seq } };
  }

  async delete(id: string): Promise<void> {
    this.ctx.checkWritable();
    const inc = this.catalog.writable(id);
    const now = this.ctx.clock();
    const body = encodeDelete({ incarnation: inc.number, timestamp: now });
    const commit = this.ctx.commit;
    const start = commit.mark();
    const at = commit.frame(RecordType.ByteStreamDelete, FLAG_GROUP_END, body);
    inc.writerDeleted = true;
    // Nothing forked from it: the id is free for a create right away.
    if (!this.catalog.retained(inc, now)) this.catalog.writers.delete(id);
    const done = new Promise<void>((resolve, reject) => {
      commit.submit({
        apply: (location) => {
          this.catalog.commitDelete(inc, location + (at - start), body.length + RECORD_HEADER_BYTES);
          this.ctx.signal.notify();
        },
        abort: () => {
          inc.resetWriter();
          if (this.catalog.committed.get(id) === inc) this.catalog.writers.set(id, inc);
        },
        resolve,
        reject,
      });
    });
    inc.lastWrite = done;
    await done;
  }

  // ---- internals ----------------------------------------------------------

  /** The stream exists (live or soft-deleted): same configuration is ok once its create is durable. */
  private async confirm(existing: StreamIncarnation, c: CheckedCreate): Promise<api.ByteStreamEnsureResult> {
    if (existing.writerDeleted) throw deleted(existing.streamId);
    const conflict = this.configConflict(existing, c);
    if (conflict !== undefined) {
      throw new SeglogError("ALREADY_EXISTS", `byte stream ${existing.streamId} exists with a different ${conflict}`, { streamId: existing.streamId, argument: `options.${conflict}` });
    }
    await existing.lastWrite;
    return { created: false, info: this.info(existing) };
  }

  private configConflict(existing: StreamIncarnation, c: CheckedCreate): string | undefined {
    if (!c.configured) return undefined;
    const s = existing.settings;
    const source = c.fork === undefined ? undefined : this.catalog.writers.get(c.fork.from);
    const contentType = c.contentType ?? source?.settings.contentType ?? DEFAULT_CONTENT_TYPE;
    if (mediaType(contentType) !== mediaType(s.contentType)) return "contentType";
    const inherit = c.fork !== undefined && c.ttlSeconds === undefined && c.expiresAt === undefined;
    if (!inherit && (c.ttlSeconds !== s.ttlSeconds || c.expiresAt !== s.expiresAt)) return c.ttlSeconds !== s.ttlSeconds ? "ttlSeconds" : "expiresAt";
    if (c.closed && !existing.writerClosed) return "closed";
    if (c.fork !== undefined) {
      const fork = existing.fork;
      if (fork === undefined || fork.sourceId !== c.fork.from || source === undefined || source.number !== fork.source) return "fork";
      const end = c.fork.offset === undefined ? source.chunks.tail : this.reads.advanceWithin(source, c.fork.offset, c.fork.subOffset, "options.fork.subOffset");
      if (end.messages !== fork.messages || end.bytes !== fork.bytes) return "fork";
    }
    return undefined;
  }

  private settingsFor(c: CheckedCreate, source: StreamIncarnation | undefined): StreamSettings {
    const contentType = c.contentType ?? source?.settings.contentType ?? DEFAULT_CONTENT_TYPE;
    const inherit = source !== undefined && c.ttlSeconds === undefined && c.expiresAt === undefined;
    return {
      contentType,
      json: isJsonContentType(contentType),
      ttlSeconds: inherit ? source.settings.ttlSeconds : c.ttlSeconds,
      expiresAt: inherit ? source.settings.expiresAt : c.expiresAt,
      createdAt: this.ctx.clock(),
    };
  }

  /** Where a fork starts, checked against its source's committed chunks. */
  private forkOrigin(source: StreamIncarnation, c: CheckedCreate, settings: StreamSettings): ForkOrigin {
    const f = c.fork!;
    if (mediaType(settings.contentType) !== mediaType(source.settings.contentType)) {
      throw new SeglogError("INVALID_ARGUMENT", `options.contentType must be the fork source's (${source.settings.contentType})`, { argument: "options.contentType" });
    }
    let end: Position = source.chunks.tail;
    if (f.offset !== undefined) {
      this.reads.checkPosition(source, f.offset, "options.fork.offset");
      end = this.reads.advanceWithin(source, f.offset, f.subOffset, "options.fork.subOffset");
    }
    return { source: source.number, sourceId: source.streamId, messages: end.messages, bytes: end.bytes };
  }

  private messagesOf(json: boolean, data: Uint8Array, name: string, allowEmpty: boolean): MessageBatch {
    if (data.length === 0) return NO_MESSAGES;
    if (!json) return { payload: data, lengths: [data.length] };
    const batch = jsonMessages(data, name);
    if (batch.lengths.length === 0 && !allowEmpty) throw new SeglogError("INVALID_ARGUMENT", `${name} is an empty JSON array`, { argument: name });
    return batch;
  }

  /**
   * Frames the data (one chunk record) and/or the close (a close record when
   * there is no data) and moves the writer's view. Throws TOO_LARGE before
   * framing anything.
   */
  private frameChange(inc: StreamIncarnation, framed: Framed, messages: MessageBatch, w: CheckedWrite, now: number): void {
    const commit = this.ctx.commit;
    const count = messages.lengths.length;
    if (count > 0) {
      const from = inc.writerTail;
      const payloadBytes = messages.payload.length;
      const head: ChunkHead = {
        incarnation: inc.number,
        firstMessage: from.messages,
        firstByte: from.bytes,
        timestamp: now,
        closes: w.close,
        lengths: count > 1 ? messages.lengths : undefined,
        producer: w.producer,
        seq: w.seq,
      };
      const headBytes = encodeChunkHead(head);
      const bytes = RECORD_HEADER_BYTES + headBytes.length + payloadBytes;
      if (bytes - RECORD_HEADER_BYTES > this.ctx.maxRecordBytes) {
        throw new SeglogError("TOO_LARGE", `append to byte stream ${inc.streamId} makes a record of ${bytes - RECORD_HEADER_BYTES} bytes, over maxRecordBytes ${this.ctx.maxRecordBytes}`, {
          streamId: inc.streamId,
          argument: "data",
        });
      }
      framed.chunk = { at: commit.framePair(RecordType.ByteStreamChunk, FLAG_GROUP_END, headBytes, messages.payload), bytes, head, payloadBytes };
      inc.writerTail = { messages: from.messages + count, bytes: from.bytes + payloadBytes };
    } else if (w.close) {
      const body = encodeClose({ incarnation: inc.number, timestamp: now, producer: w.producer });
      framed.close = { at: commit.frame(RecordType.ByteStreamClose, FLAG_GROUP_END, body), bytes: body.length + RECORD_HEADER_BYTES, producer: w.producer, timestamp: now };
    }
    if (w.close) inc.writerClosed = true;
    if (w.seq !== undefined) inc.writerSeq = w.seq;
    if (w.producer !== undefined) inc.writerProducers.set(w.producer.id, { epoch: w.producer.epoch, seq: w.producer.seq });
  }

  /** Submits the framed records; the catalog applies them in commit order. */
  private submit(inc: StreamIncarnation, start: number, framed: Framed, abort: () => void): Promise<void> {
    const commit = this.ctx.commit;
    const done = new Promise<void>((resolve, reject) => {
      commit.submit({
        apply: (location) => {
          // `location` is where the record framed at `start` lies.
          const { create, chunk, close } = framed;
          if (create !== undefined) this.catalog.commitCreate(inc, location + (create.at - start), create.bytes);
          if (chunk !== undefined) this.catalog.commitChunk(inc, chunk.head, chunk.payloadBytes, location + (chunk.at - start), chunk.bytes);
          if (close !== undefined) this.catalog.commitClose(inc, close.producer, close.timestamp, location + (close.at - start), close.bytes);
          this.ctx.signal.notify();
        },
        abort,
        resolve,
        reject,
      });
    });
    inc.lastWrite = done;
    return done;
  }

  /** A call that writes nothing (a duplicate, closing a closed stream) answers once earlier writes are durable. */
  private async settled(inc: StreamIncarnation, now: number, duplicate: boolean, producer: api.ByteStreamWriteResult["producer"]): Promise<api.ByteStreamWriteResult> {
    await inc.lastWrite;
    inc.touch(now);
    return { offset: formatOffset(inc.chunks.tail), closed: inc.closed, duplicate, producer };
  }
}

