/**
 * Reads of one incarnation's committed chunks: bytes from a position, the
 * messages from a position, and the checks that a position is one the stream
 * issued. Reads go through the log's record reader, whose window never reaches
 * past what is committed, and copy what they return (a record body is only
 * valid until the next read).
 *
 * A non-JSON chunk is one message; a JSON chunk is a batch of messages whose
 * lengths are in its head. A chunk the index cuts short (the last chunk a fork
 * inherits) is read only up to where the index says it ends.
 */
import { corruption, invalidArgument } from "../../errors.js";
import { RecordType } from "../../format/constants.js";
import type { Log } from "../../log/log.js";
import { openRecordPieces, type BodyRange, type RecordPieces } from "../../log/record-pieces.js";
import type { ChunkIndex } from "./chunk-index.js";
import { CLOSE_ARRAY, COMMA, OPEN_ARRAY } from "./json-mode.js";
import { HEAD_LENGTH_BYTES, tailStart } from "../split-body.js";
import { chunkPayload, decodeChunkHead } from "./stream-codec.js";
import type { StreamIncarnation } from "./stream-incarnation.js";
import type { Position } from "./stream-offsets.js";

export interface BytesRead {
  data: Uint8Array;
  end: Position;
  hasMore: boolean;
}

/** One message too large for a read's budget, to be sent in pieces: see StreamReads.largeMessage. */
export interface LargeMessage {
  record: RecordPieces;
  range: BodyRange;
  /** The message's bytes (a JSON answer adds "[" and "]"). */
  length: number;
  json: boolean;
  end: Position;
  hasMore: boolean;
}

export interface MessagesRead {
  messages: { data: Uint8Array; end: Position }[];
  end: Position;
  hasMore: boolean;
}

export class StreamReads {
  constructor(private readonly log: Log) {}

  /** Throws INVALID_ARGUMENT unless `p` is a message boundary of `inc` at or before its tail. */
  checkPosition(inc: StreamIncarnation, p: Position, name: string): void {
    const c = inc.chunks;
    const bad = (): never => {
      throw invalidArgument(name, `is not an offset of byte stream ${inc.streamId} (its tail has ${c.tailMessages} messages, ${c.tailBytes} bytes)`);
    };
    if (p.messages >= c.tailMessages) {
      if (p.messages !== c.tailMessages || p.bytes !== c.tailBytes) bad();
      return;
    }
    const i = c.chunkOf(p.messages);
    const first = c.firstMessage(i);
    if (p.messages === first) {
      if (p.bytes !== c.firstByte(i)) bad();
      return;
    }
    const lengths = this.lengths(inc, i);
    if (p.bytes !== c.firstByte(i) + sum(lengths, 0, p.messages - first)) bad();
  }

  /**
   * Bytes from `p` (checked), whole messages only, stopping before `maxBytes`
   * would be passed (one message is returned whole however large). A JSON
   * stream's bytes are a JSON array of its messages.
   */
  /** `firstLengths`: the message lengths of the chunk holding `p`, when the caller has just decoded them. */
  readBytes(inc: StreamIncarnation, p: Position, maxBytes: number, allocate: (length: number) => Uint8Array = newMemory, firstLengths?: number[]): BytesRead {
    if (inc.json) return this.readJsonArray(inc, p, maxBytes, allocate, firstLengths);
    const c = inc.chunks;
    if (p.messages >= c.tailMessages) return { data: new Uint8Array(0), end: p, hasMore: false };
    const from = c.chunkOf(p.messages);
    let to = from + 1;
    let total = c.endByte(from) - c.firstByte(from);
    while (to < c.count && total + c.endByte(to) - c.firstByte(to) <= maxBytes) {
      total += c.endByte(to) - c.firstByte(to);
      to++;
    }
    const out = allocate(total);
    let at = 0;
    for (let i = from; i < to; i++) {
      const length = c.endByte(i) - c.firstByte(i);
      out.set(this.payload(inc, c, i).subarray(0, length), at);
      at += length;
    }
    const end = to < c.count ? { messages: c.firstMessage(to), bytes: c.firstByte(to) } : c.tail;
    return { data: out, end, hasMore: to < c.count };
  }

  /**
   * When the answer of readBytes(inc, p, maxBytes) is one message larger than
   * maxBytes, where its bytes are, so that a caller can send them in pieces
   * (record-pieces.ts) instead of reading them whole: the chunk's record, the
   * body range of the message, and what goes around it ("[" and "]" in JSON).
   * Undefined when the answer is not such a message; then `seen.lengths` holds
   * the message lengths of the JSON chunk it decoded to tell, if it did, for
   * the readBytes that follows (4 MiB of 64-byte messages has 65,536 of them).
   */
  largeMessage(inc: StreamIncarnation, p: Position, maxBytes: number, seen: { lengths?: number[] } = {}): LargeMessage | undefined {
    const c = inc.chunks;
    if (p.messages >= c.tailMessages) return undefined;
    const i = c.chunkOf(p.messages);
    const k = p.messages - c.firstMessage(i);
    let length = c.endByte(i) - c.firstByte(i);
    // A JSON answer is "[" message "]"; a message that big is always alone in it.
    if (!inc.json && length <= maxBytes) return undefined;
    if (inc.json && length + 2 <= maxBytes) return undefined;
    const record = openRecordPieces(this.log, c.location(i));
    if (record.type !== RecordType.ByteStreamChunk) {
      throw corruption("(byte stream index)", c.location(i), `byte stream ${inc.streamId} points at a record of type ${record.type}, not a chunk`);
    }
    const payloadStart = tailStart(record.prefix(HEAD_LENGTH_BYTES));
    let from = payloadStart;
    if (inc.json) {
      const lengths = decodeChunkHead(record.prefix(payloadStart)).lengths ?? [length];
      length = lengths[k]!;
      if (length + 2 <= maxBytes) {
        seen.lengths = lengths;
        return undefined;
      }
      from += sum(lengths, 0, k);
    }
    const end = { messages: p.messages + 1, bytes: p.bytes + length };
    return { record, range: { from, to: from + length }, length, json: inc.json, end, hasMore: end.messages < c.tailMessages };
  }

  /**
   * A JSON stream's bytes from `p`: its messages as one JSON array, "[" and,
   * after each message, its "," or the closing "]" counted against maxBytes
   * (the first message is taken whatever its size). Each message is copied
   * once, straight from its chunk into the answer: a message object and copy
   * apiece cost 11 ms for a 1 MiB answer of 64-byte messages, in one turn.
   */
  /**
   * The answer is written straight into memory sized for what can be in it (the
   * budget, or less when the stream holds less): the messages of a chunk are
   * only valid until the next record read, and copying them through buffers of
   * their own costs a second copy and fresh pages.
   */
  private readJsonArray(inc: StreamIncarnation, p: Position, maxBytes: number, allocate: (length: number) => Uint8Array, firstLengths?: number[]): BytesRead {
    const c = inc.chunks;
    const remaining = c.tail.bytes - p.bytes + (c.tailMessages - p.messages) + 2;
    let data = allocate(Math.min(remaining, Math.max(maxBytes, 2)));
    data[0] = OPEN_ARRAY;
    let used = 1; // "["
    let taken = 0;
    let end = p;
    let full = false;
    const firstChunk = p.messages < c.tailMessages ? c.chunkOf(p.messages) : c.count;
    for (let i = firstChunk; i < c.count && !full; i++) {
      const { payload, lengths } = this.chunk(inc, i, i === firstChunk ? firstLengths : undefined);
      // Buffer.copy takes a range: no view per message.
      const source = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      const first = c.firstMessage(i);
      const count = c.endMessage(i) - first;
      const k = Math.max(0, end.messages - first);
      const start = sum(lengths, 0, k);
      let read = start;
      let m = k;
      for (; m < count; m++) {
        const length = lengths[m]!;
        if (taken > 0 && used + length + 1 > maxBytes) {
          full = true;
          break;
        }
        // Only a first message larger than the budget can outgrow the memory.
        if (used + length + 1 > data.length) data = grown(data, used, used + length + 1, allocate);
        used += source.copy(data, used, read, read + length);
        data[used++] = COMMA;
        read += length;
        taken++;
      }
      if (m > k) end = { messages: first + m, bytes: end.bytes + (read - start) };
    }
    // The last message's "," becomes the "]" (or "[" is followed by it when nothing was taken).
    if (taken === 0) used++;
    data[used - 1] = CLOSE_ARRAY;
    // An answer that filled little of its memory (the next message did not fit) is not kept in all of it.
    const answer = used * 2 < data.length ? Buffer.from(data.subarray(0, used)) : data.subarray(0, used);
    return { data: answer, end, hasMore: end.messages < c.tailMessages };
  }

  /** Messages from `p` (checked), at most `maxMessages` of them. */
  readMessages(inc: StreamIncarnation, p: Position, maxMessages: number): MessagesRead {
    const c = inc.chunks;
    const messages: { data: Uint8Array; end: Position }[] = [];
    let end = p;
    for (let i = p.messages < c.tailMessages ? c.chunkOf(p.messages) : c.count; i < c.count; i++) {
      const { payload, lengths } = this.chunk(inc, i);
      const first = c.firstMessage(i);
      let at = 0;
      for (let k = 0; k < c.endMessage(i) - first; k++) {
        const length = lengths[k]!;
        if (first + k >= end.messages) {
          if (messages.length >= maxMessages) return { messages, end, hasMore: true };
          end = { messages: first + k + 1, bytes: end.bytes + length };
          messages.push({ data: payload.slice(at, at + length), end });
        }
        at += length;
      }
    }
    return { messages, end, hasMore: end.messages < c.tailMessages };
  }

  /**
   * The end of a fork point `subOffset` units past `p` (checked): bytes into the
   * message at `p` for a non-JSON stream, messages of the batch at `p` for a
   * JSON stream. Throws INVALID_ARGUMENT when that runs past the message (batch).
   */
  advanceWithin(inc: StreamIncarnation, p: Position, subOffset: number, name: string): Position {
    if (subOffset === 0) return p;
    const c = inc.chunks;
    if (p.messages >= c.tailMessages) throw invalidArgument(name, `needs a message at the fork offset; byte stream ${inc.streamId} ends there`);
    const i = c.chunkOf(p.messages);
    if (!inc.json) {
      const length = c.endByte(i) - p.bytes;
      if (subOffset > length) throw invalidArgument(name, `is past the end of the ${length}-byte message at the fork offset`);
      return { messages: p.messages + 1, bytes: p.bytes + subOffset };
    }
    const skip = p.messages - c.firstMessage(i);
    const available = c.endMessage(i) - p.messages;
    if (subOffset > available) throw invalidArgument(name, `is past the ${available} messages of the batch at the fork offset`);
    return { messages: p.messages + subOffset, bytes: p.bytes + sum(this.lengths(inc, i), skip, skip + subOffset) };
  }

  /** The message lengths of chunk i (a JSON batch; one message otherwise). */
  private lengths(inc: StreamIncarnation, i: number): number[] {
    return this.chunk(inc, i).lengths;
  }

  /**
   * Chunk i's payload (a view, valid until the next read) and message lengths,
   * from one read of its record. A non-JSON chunk is one message, as long as
   * the index says (a fork's last inherited chunk may be cut short).
   */
  private chunk(inc: StreamIncarnation, i: number, decoded?: number[]): { payload: Uint8Array; lengths: number[] } {
    const c = inc.chunks;
    const { body } = this.chunkRecord(inc, c.location(i));
    const payload = chunkPayload(body);
    if (!inc.json) return { payload, lengths: [c.endByte(i) - c.firstByte(i)] };
    return { payload, lengths: decoded ?? decodeChunkHead(body).lengths ?? [payload.length] };
  }

  private payload(inc: StreamIncarnation, c: ChunkIndex, i: number): Uint8Array {
    return chunkPayload(this.chunkRecord(inc, c.location(i)).body);
  }

  private chunkRecord(inc: StreamIncarnation, location: number): { body: Uint8Array } {
    const record = this.log.reader.read(location);
    if (record.type !== RecordType.ByteStreamChunk) {
      throw corruption("(byte stream index)", location, `byte stream ${inc.streamId} points at a record of type ${record.type}, not a chunk`);
    }
    return record;
  }
}

/** Where a read's answer goes when the caller gives no memory of its own. */
export function newMemory(length: number): Uint8Array {
  return Buffer.allocUnsafe(length);
}

/** Memory of at least `need` bytes holding `data`'s first `used`. */
function grown(data: Uint8Array, used: number, need: number, allocate: (length: number) => Uint8Array): Uint8Array {
  const next = allocate(need);
  next.set(data.subarray(0, used));
  return next;
}

function sum(values: number[], from: number, to: number): number {
  let total = 0;
  for (let i = from; i < to; i++) total += values[i]!;
  return total;
}
