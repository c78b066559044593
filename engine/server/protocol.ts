/**
 * The Durable Streams protocol's vocabulary: header names, the strict parsers
 * for its header and query values, response cursors and entity tags. Pure
 * functions; every parser returns a value or a `BadRequest` naming what was
 * wrong, which the routes answer with 400.
 */
import { isOffsetShape } from "../stores/streams/stream-offsets.js";

export const H = {
  contentType: "content-type",
  nextOffset: "stream-next-offset",
  upToDate: "stream-up-to-date",
  cursor: "stream-cursor",
  closed: "stream-closed",
  seq: "stream-seq",
  ttl: "stream-ttl",
  expiresAt: "stream-expires-at",
  forkedFrom: "stream-forked-from",
  forkOffset: "stream-fork-offset",
  forkSubOffset: "stream-fork-sub-offset",
  sseEncoding: "stream-sse-data-encoding",
  producerId: "producer-id",
  producerEpoch: "producer-epoch",
  producerSeq: "producer-seq",
  producerExpectedSeq: "producer-expected-seq",
  producerReceivedSeq: "producer-received-seq",
} as const;

/** The path prefix under which every stream lives; the rest of the path is the stream id. */
export const STREAM_PATH = "/v1/stream/";

export class BadRequest extends Error {}

/** Non-negative decimal integers without sign, leading zeros, point or exponent, up to 2^53 - 1. */
const STRICT_INTEGER = /^(0|[1-9][0-9]*)$/;

export function parseStrictInteger(value: string, name: string): number {
  const n = Number(value);
  if (!STRICT_INTEGER.test(value) || !Number.isSafeInteger(n)) throw new BadRequest(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Producer headers come all together or not at all; epoch and seq are strict integers. */
export function parseProducer(get: (name: string) => string | undefined): { id: string; epoch: number; seq: number } | undefined {
  const id = get(H.producerId);
  const epoch = get(H.producerEpoch);
  const seq = get(H.producerSeq);
  if (id === undefined && epoch === undefined && seq === undefined) return undefined;
  if (id === undefined || epoch === undefined || seq === undefined) throw new BadRequest("Producer-Id, Producer-Epoch and Producer-Seq must be sent together");
  if (id === "") throw new BadRequest("Producer-Id must not be empty");
  return { id, epoch: parseStrictInteger(epoch, "Producer-Epoch"), seq: parseStrictInteger(seq, "Producer-Seq") };
}

export function parseExpiresAt(value: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) throw new BadRequest(`Stream-Expires-At must be an RFC 3339 time, got ${JSON.stringify(value)}`);
  return ms;
}

/** A read's `offset` parameter: "-1", "now", or an offset of this server; anything else is 400. */
export function parseOffsetParam(values: string[]): string | undefined {
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new BadRequest("offset must be given once");
  const value = values[0]!;
  if (value === "-1" || value === "now" || isOffsetShape(value)) return value;
  throw new BadRequest(`offset ${JSON.stringify(value.slice(0, 80))} is not an offset of this server`);
}

/** Stream ids travel as the rest of the URL path, or (Stream-Forked-From) as such a path. */
export function streamIdOfPath(pathname: string): string | undefined {
  if (!pathname.startsWith(STREAM_PATH)) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(pathname.slice(STREAM_PATH.length));
  } catch {
    throw new BadRequest("the stream path is not valid percent-encoding");
  }
  return id.length === 0 ? undefined : id;
}

/**
 * A request target (origin- or absolute-form) as a URL. Client input: one the
 * WHATWG parser refuses (`//[`, `http://[`) is a 400, not a server failure.
 */
export function parseTarget(target: string): URL {
  try {
    return new URL(target, "http://localhost");
  } catch {
    throw new BadRequest(`the request target ${JSON.stringify(target.slice(0, 80))} is not a valid URL`);
  }
}

export function streamIdOfReference(value: string): string {
  let path = value;
  if (/^https?:\/\//i.test(value)) path = parseTarget(value).pathname;
  const id = path.startsWith(STREAM_PATH) ? streamIdOfPath(path) : value;
  if (id === undefined || id === "") throw new BadRequest("Stream-Forked-From must name a stream");
  return id;
}

/**
 * Response cursors for CDN collapsing: the number of 20-second intervals since
 * 2024-10-09T00:00:00Z. When the client echoes a cursor that is not behind,
 * the answer jumps ahead by a random 1–180 intervals, so cursors only grow and
 * a cache can never serve the same empty answer in a loop.
 */
const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9);
const CURSOR_INTERVAL_MS = 20_000;

export function responseCursor(clientCursor: string | undefined, now = Date.now()): string {
  const current = Math.floor((now - CURSOR_EPOCH_MS) / CURSOR_INTERVAL_MS);
  const echoed = clientCursor === undefined ? NaN : Number.parseInt(clientCursor, 10);
  if (!Number.isFinite(echoed) || echoed < current) return String(current);
  return String(echoed + 1 + Math.floor(Math.random() * 180));
}

/** Entity tag of a catch-up read: which incarnation of the stream, and the range it covers. */
export function entityTag(id: string, createdAt: number, start: string, end: string, closed: boolean): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return `"${(h >>> 0).toString(36)}.${createdAt.toString(36)}:${start}:${end}${closed ? ":c" : ""}"`;
}
