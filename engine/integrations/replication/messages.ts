/**
 * How a log record travels as JetStream messages (docs/replication.md has the
 * table). The payload is the record's body exactly as stored — for an event the
 * msgpack array [position, streamId, version, timestamp, id, type, data,
 * metadata, tags] — so a consumer in any language with msgpack reads it, and a
 * restore writes the very bytes back.
 *
 *   subject      <prefix>.event.<stream>   an event
 *                <prefix>.stream.<stream>  delete, truncate, retention, compaction snapshot
 *                <prefix>.log              compaction's position floor
 *   Nats-Msg-Id  <identity>:<position>.<index>[.<part>]  (JetStream drops a repeat)
 *   Seglog-Key   <position>.<index>        the record's feed key (record-feed.ts)
 *   Seglog-Record <type>.<flags>           record type; flag 1 ends an atomic group
 *   Seglog-Part  <i>/<n>                   only on a record split over n messages
 *
 * A record larger than what the server takes in one message is split into
 * parts and rejoined by restore: appends are never refused for replication's sake.
 */
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import { SeglogError } from "../../errors.js";
import { RecordType } from "../../format/constants.js";
import { decode } from "../../format/codec.js";
import type { FeedKey, FeedRecord } from "../../replication/record-feed.js";
import { peekStreamVersion } from "../../stores/events/event-codec.js";

/** Room left in every message for its headers. */
const HEADER_ROOM = 1024;

export interface OutgoingMessage {
  subject: string;
  payload: Uint8Array;
  headers: MsgHdrs;
  msgID: string;
}

export interface IncomingPart {
  key: FeedKey;
  type: number;
  flags: number;
  part: number;
  parts: number;
  payload: Uint8Array;
}

export function partSize(maxPayload: number): number {
  return Math.max(1024, maxPayload - HEADER_ROOM);
}

/** The messages of one record: one, or its parts from `firstPart` on. */
export function messagesOf(record: FeedRecord, prefix: string, identity: string, maxPart: number, firstPart = 1): OutgoingMessage[] {
  const subject = subjectOf(record, prefix);
  const key = `${record.key.position}.${record.key.index}`;
  const parts = Math.max(1, Math.ceil(record.body.length / maxPart));
  const out: OutgoingMessage[] = [];
  for (let i = firstPart; i <= parts; i++) {
    const h = natsHeaders();
    h.set("Seglog-Key", key);
    h.set("Seglog-Record", `${record.type}.${record.flags}`);
    if (parts > 1) h.set("Seglog-Part", `${i}/${parts}`);
    out.push({
      subject,
      payload: record.body.subarray((i - 1) * maxPart, Math.min(record.body.length, i * maxPart)),
      headers: h,
      msgID: parts > 1 ? `${identity}:${key}.${i}` : `${identity}:${key}`,
    });
  }
  return out;
}

/** Reads the seglog headers of a stored message; CORRUPTION when they are not ours. */
export function parseMessage(headers: MsgHdrs | undefined, payload: Uint8Array, seq: number): IncomingPart {
  const bad = (why: string) => new SeglogError("CORRUPTION", `replication stream message ${seq}: ${why}`);
  const key = /^(-1|\d+)\.(\d+)$/.exec(headers?.get("Seglog-Key") ?? "");
  const record = /^(\d+)\.(\d+)$/.exec(headers?.get("Seglog-Record") ?? "");
  if (key === null || record === null) throw bad("not a seglog record (Seglog-Key / Seglog-Record headers missing)");
  const partHeader = headers?.get("Seglog-Part") ?? "";
  const part = partHeader === "" ? [1, 1] : (/^(\d+)\/(\d+)$/.exec(partHeader)?.slice(1).map(Number) ?? []);
  if (part.length !== 2 || part[0]! < 1 || part[0]! > part[1]!) throw bad(`bad Seglog-Part ${partHeader}`);
  return {
    key: { position: Number(key[1]), index: Number(key[2]) },
    type: Number(record[1]),
    flags: Number(record[2]),
    part: part[0]!,
    parts: part[1]!,
    payload,
  };
}

function subjectOf(record: FeedRecord, prefix: string): string {
  if (record.type === RecordType.Event) return `${prefix}.event.${subjectToken(peekStreamVersion(record.body).streamId)}`;
  if (record.type === RecordType.PositionFloor) return `${prefix}.log`;
  const fields = decode(record.body) as unknown[];
  // Stream operations start [op, streamId, ...]; snapshots [streamId, ...].
  const streamId = record.type === RecordType.StreamMeta ? fields[1] : fields[0];
  return `${prefix}.stream.${subjectToken(String(streamId))}`;
}

/**
 * A stream id as one subject token: letters, digits, `_` and `-` stay; every
 * other byte of its UTF-8 becomes `~XX`, so `.`, `*`, `>` and spaces cannot
 * change the subject's shape and the mapping is reversible.
 */
function subjectToken(streamId: string): string {
  const known = tokens.get(streamId);
  if (known !== undefined) return known;
  let out = "";
  for (const byte of Buffer.from(streamId, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `~${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  // Most messages go to streams seen a moment ago: remember a bounded number of tokens.
  if (tokens.size >= TOKEN_CACHE) tokens.clear();
  tokens.set(streamId, out);
  return out;
}

const TOKEN_CACHE = 10_000;
const tokens = new Map<string, string>();
