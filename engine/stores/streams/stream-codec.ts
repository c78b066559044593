/**
 * Bodies of the byte-stream records (record types in format/constants.ts).
 *
 * Every record names the stream *incarnation* it belongs to: a number assigned
 * when a stream id is created, never reused (a deleted id created again is a
 * new incarnation, so its old bytes can never reappear). Forks share their
 * source's chunk records, so one chunk may be read by several incarnations.
 *
 * Create (type 80), a msgpack array of 7:
 *   [incarnation, streamId, contentType, ttlSeconds | nil, expiresAt | nil, createdAt, fork | nil]
 *   fork = [sourceIncarnation, sourceStreamId, messages, bytes]: the fork starts
 *   with the source's first `messages` messages / `bytes` bytes (a prefix that
 *   may end inside one of the source's chunks).
 *
 * Chunk (type 81), one append: a head and the message bytes (split-body.ts):
 *   offset  size  field
 *   0       4     head length n (u32 LE)
 *   4       n     head, msgpack array of 8:
 *                 [incarnation, firstMessage, firstByte, timestamp, flags,
 *                  lengths | nil, producer | nil, seq | nil]
 *   4 + n   rest  payload: the messages' bytes back to back
 *   firstMessage / firstByte: the stream position the chunk starts at.
 *   flags bit 0: the stream is closed by this append (final append + close).
 *   lengths: each message's byte length when the chunk holds more than one
 *   message (a JSON batch); nil means the payload is one message.
 *   producer = [producerId, epoch, seq]: the idempotent-producer state this
 *   append moves to, committed in the same record as the data.
 *   seq: the Stream-Seq value of the append (the next append must exceed it).
 *
 * Close (type 82), a close without data: [incarnation, timestamp, producer | nil]
 * Delete (type 83): [incarnation, timestamp]
 * Floor (type 84), written by compaction next to its other snapshot records:
 *   [highestIncarnation], so incarnation numbers never repeat after the records
 *   that carried the highest ones are dropped.
 */
import { corruption } from "../../errors.js";
import { decode, encode } from "../../format/codec.js";
import { RecordType } from "../../format/constants.js";
import { decodeHead, encodeHead, tailBytes } from "../split-body.js";

export const CHUNK_CLOSES = 0x01;

export interface ProducerStamp {
  id: string;
  epoch: number;
  seq: number;
}

export interface ForkOrigin {
  source: number;
  sourceId: string;
  messages: number;
  bytes: number;
}

export interface CreateRecord {
  incarnation: number;
  streamId: string;
  contentType: string;
  ttlSeconds: number | undefined;
  expiresAt: number | undefined;
  createdAt: number;
  fork: ForkOrigin | undefined;
}

export interface ChunkHead {
  incarnation: number;
  firstMessage: number;
  firstByte: number;
  timestamp: number;
  closes: boolean;
  lengths: number[] | undefined;
  producer: ProducerStamp | undefined;
  seq: string | undefined;
}

export interface CloseRecord {
  incarnation: number;
  timestamp: number;
  producer: ProducerStamp | undefined;
}

export interface DeleteRecord {
  incarnation: number;
  timestamp: number;
}

// ---- encoders (each result owns its memory: encode() reuses its buffer) ----

export function encodeCreate(r: CreateRecord): Uint8Array {
  const fork = r.fork === undefined ? null : [r.fork.source, r.fork.sourceId, r.fork.messages, r.fork.bytes];
  return encode([r.incarnation, r.streamId, r.contentType, r.ttlSeconds ?? null, r.expiresAt ?? null, r.createdAt, fork]).slice();
}

export function encodeChunkHead(h: ChunkHead): Uint8Array {
  return encodeHead([
    h.incarnation,
    h.firstMessage,
    h.firstByte,
    h.timestamp,
    h.closes ? CHUNK_CLOSES : 0,
    h.lengths ?? null,
    stampArray(h.producer),
    h.seq ?? null,
  ]);
}

export function encodeClose(r: CloseRecord): Uint8Array {
  return encode([r.incarnation, r.timestamp, stampArray(r.producer)]).slice();
}

export function encodeDelete(r: DeleteRecord): Uint8Array {
  return encode([r.incarnation, r.timestamp]).slice();
}

export function encodeFloor(highest: number): Uint8Array {
  return encode([highest]).slice();
}

// ---- decoders ----------------------------------------------------------------

export function decodeCreate(body: Uint8Array): CreateRecord {
  const f = fields(body, 7, "create");
  const fork = f[6] as [number, string, number, number] | null;
  return {
    incarnation: f[0] as number,
    streamId: f[1] as string,
    contentType: f[2] as string,
    ttlSeconds: (f[3] as number | null) ?? undefined,
    expiresAt: (f[4] as number | null) ?? undefined,
    createdAt: f[5] as number,
    fork: fork === null ? undefined : { source: fork[0], sourceId: fork[1], messages: fork[2], bytes: fork[3] },
  };
}

export function decodeChunkHead(body: Uint8Array): ChunkHead {
  const f = decodeHead(body) as unknown[];
  if (!Array.isArray(f) || f.length !== 8) throw corruption("(byte-stream chunk)", 0, "chunk head has the wrong shape");
  return {
    incarnation: f[0] as number,
    firstMessage: f[1] as number,
    firstByte: f[2] as number,
    timestamp: f[3] as number,
    closes: ((f[4] as number) & CHUNK_CLOSES) !== 0,
    lengths: (f[5] as number[] | null) ?? undefined,
    producer: stampOf(f[6]),
    seq: (f[7] as string | null) ?? undefined,
  };
}

/** The message bytes of a chunk (a view into `body`). */
export function chunkPayload(body: Uint8Array): Uint8Array {
  return tailBytes(body);
}

export function decodeClose(body: Uint8Array): CloseRecord {
  const f = fields(body, 3, "close");
  return { incarnation: f[0] as number, timestamp: f[1] as number, producer: stampOf(f[2]) };
}

export function decodeDelete(body: Uint8Array): DeleteRecord {
  const f = fields(body, 2, "delete");
  return { incarnation: f[0] as number, timestamp: f[1] as number };
}

export function decodeFloor(body: Uint8Array): number {
  return fields(body, 1, "floor")[0] as number;
}

/** The incarnation a record belongs to (-1 for a floor record), for compaction's keep(). */
export function incarnationOf(type: number, body: Uint8Array): number {
  switch (type) {
    case RecordType.ByteStreamChunk:
      return (decodeHead(body) as number[])[0]!;
    case RecordType.ByteStreamFloor:
      return -1;
    default:
      return (decode(body) as number[])[0]!;
  }
}

function fields(body: Uint8Array, count: number, what: string): unknown[] {
  const f = decode(body) as unknown[];
  if (!Array.isArray(f) || f.length !== count) throw corruption(`(byte-stream ${what})`, 0, `${what} body has the wrong shape`);
  return f;
}

function stampArray(p: ProducerStamp | undefined): [string, number, number] | null {
  return p === undefined ? null : [p.id, p.epoch, p.seq];
}

function stampOf(value: unknown): ProducerStamp | undefined {
  if (value === null || value === undefined) return undefined;
  const [id, epoch, seq] = value as [string, number, number];
  return { id, epoch, seq };
}
