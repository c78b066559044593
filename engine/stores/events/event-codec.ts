/**
 * Bodies of the event store's records (record types in format/constants.ts).
 *
 * Event (type 1), a msgpack array of 9:
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
import { decode, encode } from "../../format/codec.js";
import { corruption } from "../../errors.js";
import type { RecordedEvent } from "../../types.js";

export const enum MetaOp {
  SoftDelete = 1,
  HardDelete = 2,
  Truncate = 3,
  Retention = 4,
}

const EVENT_FIELDS = 9;

export function encodeEvent(
  position: number,
  streamId: string,
  version: number,
  timestamp: number,
  id: string,
  type: string,
  data: unknown,
  metadata: Record<string, unknown> | undefined,
  tags: string[] | undefined,
): Uint8Array {
  return encode([position, streamId, version, timestamp, id, type, data, metadata ?? null, tags ?? null]);
}

export function decodeEvent(body: Uint8Array): RecordedEvent {
  const f = decode(body) as unknown[];
  if (!Array.isArray(f) || f.length !== EVENT_FIELDS) throw corruption("(event record)", 0, "event body has the wrong shape");
  return {
    id: f[4] as string,
    streamId: f[1] as string,
    version: f[2] as number,
    position: f[0] as number,
    type: f[5] as string,
    data: f[6],
    metadata: (f[7] as Record<string, unknown> | null) ?? {},
    tags: (f[8] as string[] | null) ?? [],
    timestamp: f[3] as number,
  };
}

/** The fields recovery needs, without building a RecordedEvent. */
export function decodeEventKey(body: Uint8Array): { position: number; streamId: string; version: number; id: string } {
  const f = decode(body) as unknown[];
  return { position: f[0] as number, streamId: f[1] as string, version: f[2] as number, id: f[4] as string };
}

/** Reads the leading position of an event body without decoding the rest. */
export function peekPosition(body: Uint8Array): number {
  const tag = body[1]!;
  if (tag < 0x80) return tag;
  const view = new DataView(body.buffer, body.byteOffset + 2, Math.min(8, body.length - 2));
  switch (tag) {
    case 0xcc:
      return view.getUint8(0);
    case 0xcd:
      return view.getUint16(0);
    case 0xce:
      return view.getUint32(0);
    case 0xcf:
      return Number(view.getBigUint64(0));
    case 0xcb:
      return view.getFloat64(0);
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
