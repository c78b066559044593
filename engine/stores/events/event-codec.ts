/**
 * Bodies of the event store's records (record types in format/constants.ts).
 *
 * Event (type 1), a msgpack array of 9 (written in place by event-encoder.ts):
 *   [position, streamId, version, timestamp, id, type, data, metadata | nil, tags | nil]
 * Position comes first so that scans can skip events by position without
 * decoding the rest (`peekPosition`).
 *
 * Stream metadata (type 2), a msgpack array:
 *   [1, streamId]                         soft delete
 *   [2, streamId]                         hard delete (tombstone)
 *   [3, streamId, beforeVersion]          truncate
 *   [4, streamId, maxCount, maxAgeMs]     retention (-1 = no rule)
 *
 * Stream snapshot (type 3), written by compaction at the start of the first
 * segment it rewrites; it replaces every stream-metadata record and every event
 * below firstKept in the rewritten segments:
 *   [streamId, firstKept, minVersion, state, maxCount, maxAgeMs]
 *
 * Position floor (type 4), written by compaction next to the snapshots:
 *   [lastPosition]
 */
import { decode, decodeReused, encode } from "../../format/codec.js";
import { SeglogError } from "../../errors.js";
import type { RecordedEvent } from "../../types.js";

export const enum MetaOp {
  SoftDelete = 1,
  HardDelete = 2,
  Truncate = 3,
  Retention = 4,
}

const EVENT_FIELDS = 9;

export function decodeEvent(body: Uint8Array): RecordedEvent {
  // Bodies come from reused read buffers: decodeReused copies every byte array out.
  const f = decodeReused(body) as unknown[];
  checkShape(f);
  const metadata = f[7] ?? {};
  const tags = f[8] ?? [];
  if (typeof metadata !== "object" || !Array.isArray(tags)) throw badShape();
  return {
    id: f[4] as string,
    streamId: f[1] as string,
    version: f[2] as number,
    position: f[0] as number,
    type: f[5] as string,
    data: f[6],
    metadata: metadata as Record<string, unknown>,
    tags: tags as string[],
    timestamp: f[3] as number,
  };
}

/** A body with the right checksum but the wrong shape was written wrong: it is damage. */
function checkShape(f: unknown[]): void {
  if (
    !Array.isArray(f) ||
    f.length !== EVENT_FIELDS ||
    !isCount(f[0]) ||
    typeof f[1] !== "string" ||
    f[1].length === 0 ||
    !isCount(f[2]) ||
    typeof f[3] !== "number" ||
    typeof f[4] !== "string" ||
    typeof f[5] !== "string"
  ) {
    throw badShape();
  }
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function badShape(): SeglogError {
  return new SeglogError("CORRUPTION", "event record body has the wrong shape");
}

/** The fields recovery needs, without building a RecordedEvent. */
export function decodeEventKey(body: Uint8Array): { position: number; streamId: string; version: number; id: string; type: string; tags: string[] | undefined } {
  const f = decode(body) as unknown[];
  checkShape(f);
  const tags = f[8];
  return { position: f[0] as number, streamId: f[1] as string, version: f[2] as number, id: f[4] as string, type: f[5] as string, tags: Array.isArray(tags) && tags.length > 0 ? (tags as string[]) : undefined };
}

/**
 * Reads the stream id and version of an event body without decoding its data:
 * compaction asks this of every record it copies. Falls back to a full decode
 * for encodings it does not expect.
 */
export function peekStreamVersion(body: Uint8Array): { streamId: string; version: number } {
  let at = 1;
  at += uintLength(body[at]!);
  const tag = body[at]!;
  let length: number;
  if (tag >= 0xa0 && tag <= 0xbf) {
    length = tag & 0x1f;
    at += 1;
  } else if (tag === 0xd9) {
    length = body[at + 1]!;
    at += 2;
  } else if (tag === 0xda) {
    length = (body[at + 1]! << 8) | body[at + 2]!;
    at += 3;
  } else return fullKey(body);
  const streamId = textDecoder.decode(body.subarray(at, at + length));
  at += length;
  const v = body[at]!;
  if (v < 0x80) return { streamId, version: v };
  if (v === 0xcc) return { streamId, version: body[at + 1]! };
  if (v === 0xcd) return { streamId, version: (body[at + 1]! << 8) | body[at + 2]! };
  if (v === 0xce) return { streamId, version: ((body[at + 1]! << 24) >>> 0) + ((body[at + 2]! << 16) | (body[at + 3]! << 8) | body[at + 4]!) };
  return fullKey(body);
}

// ignoreBOM: a stream id may start with U+FEFF, and the default decoder would drop it.
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

function fullKey(body: Uint8Array): { streamId: string; version: number } {
  const k = decodeEventKey(body);
  return { streamId: k.streamId, version: k.version };
}

/**
 * Reads position, stream id and version from the start of an event body whose
 * checksum failed, when those bytes still parse as the envelope the encoder
 * writes. Recovery uses it only as a hint that this version existed, so that
 * a damaged last event of a stream does not let its version be reused; the
 * record itself is never read as data.
 */
export function salvageEventKey(body: Uint8Array): { position: number; streamId: string; version: number } | undefined {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 1; // past the array header, which may be the damaged byte
  const uint = (): number | undefined => {
    const tag = body[at];
    if (tag === undefined) return undefined;
    let n: number;
    if (tag < 0x80) n = tag;
    else if (tag === 0xcc && at + 2 <= body.length) n = body[at + 1]!;
    else if (tag === 0xcd && at + 3 <= body.length) n = view.getUint16(at + 1);
    else if (tag === 0xce && at + 5 <= body.length) n = view.getUint32(at + 1);
    else if (tag === 0xcb && at + 9 <= body.length) n = view.getFloat64(at + 1);
    else return undefined;
    at += uintLength(tag);
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  };
  const position = uint();
  const tag = body[at];
  if (position === undefined || tag === undefined) return undefined;
  let length: number;
  if (tag >= 0xa0 && tag <= 0xbf) {
    length = tag & 0x1f;
    at += 1;
  } else if (tag === 0xd9 && at + 2 <= body.length) {
    length = body[at + 1]!;
    at += 2;
  } else if (tag === 0xda && at + 3 <= body.length) {
    length = view.getUint16(at + 1);
    at += 3;
  } else return undefined;
  if (length === 0 || at + length > body.length) return undefined;
  let streamId: string;
  try {
    streamId = strictText.decode(body.subarray(at, at + length));
  } catch {
    return undefined;
  }
  at += length;
  const version = uint();
  return version === undefined ? undefined : { position, streamId, version };
}

const strictText = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Bytes taken by the msgpack unsigned integer starting with `tag`. */
function uintLength(tag: number): number {
  if (tag < 0x80) return 1;
  if (tag === 0xcc) return 2;
  if (tag === 0xcd) return 3;
  if (tag === 0xce) return 5;
  return 9; // 0xcf or 0xcb
}

/** Reads the leading position of an event body without decoding the rest. */
export function peekPosition(body: Uint8Array): number {
  const tag = body[1]!;
  if (tag < 0x80) return tag;
  switch (tag) {
    case 0xcc:
      return body[2]!;
    case 0xcd:
      return (body[2]! << 8) | body[3]!;
    case 0xce:
      return body[2]! * 0x1000000 + ((body[3]! << 16) | (body[4]! << 8) | body[5]!);
    default:
      return (decode(body) as number[])[0]!;
  }
}

export function encodeMeta(op: MetaOp, streamId: string, a?: number, b?: number): Uint8Array {
  if (op === MetaOp.Truncate) return encode([op, streamId, a]);
  if (op === MetaOp.Retention) return encode([op, streamId, a, b]);
  return encode([op, streamId]);
}

export function decodeMeta(body: Uint8Array): [MetaOp, string, number, number] {
  const f = decode(body) as [MetaOp, string, number, number];
  return f;
}

export type StreamSnapshotBody = [string, number, number, number, number, number];

export function encodeStreamSnapshot(s: StreamSnapshotBody): Uint8Array {
  return encode(s);
}

export function decodeStreamSnapshot(body: Uint8Array): StreamSnapshotBody {
  return decode(body) as StreamSnapshotBody;
}

export function encodePositionFloor(lastPosition: number): Uint8Array {
  return encode([lastPosition]);
}

export function decodePositionFloor(body: Uint8Array): number {
  return (decode(body) as [number])[0];
}

/** FNV-1a over UTF-16 code units: the in-memory fingerprint of an event id. */
export function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
