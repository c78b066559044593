/**
 * JSON mode: a stream whose content type is application/json keeps message
 * boundaries. An append's body is one JSON value; a top-level array is
 * flattened one level, so `[a, b]` stores the two messages `a` and `b` (and
 * `[[1, 2]]` stores the one message `[1, 2]`). Each message is kept as the
 * exact text the client sent for it (trimmed), so numbers beyond double
 * precision and key order survive unchanged. Reads hand back a JSON array of
 * the messages in the range.
 */
import { isUtf8 } from "node:buffer";
import { invalidArgument, SeglogError } from "../../errors.js";
import { JsonScanner, JsonSyntaxError, scanJson, TooManyElements, type JsonScan } from "./json-scanner.js";

export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
export const COMMA = 0x2c;

/** The most messages one JSON append may hold (one array body): each costs a view and a length. */
export const MAX_JSON_MESSAGES = 100_000;

const encoder = new TextEncoder();

/** The media type of a Content-Type value: lower case, without parameters. */
export function mediaType(contentType: string): string {
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

export function isJsonContentType(contentType: string): boolean {
  return mediaType(contentType) === "application/json";
}

/** An append's messages back to back in one payload; `lengths[k]` is message k's length in bytes. */
export interface MessageBatch {
  payload: Uint8Array;
  lengths: number[];
}

/**
 * Splits one append body into its messages, joined into the payload a chunk
 * stores (after a leading UTF-8 byte order mark, which is dropped: RFC 8259
 * §8.1 lets a parser ignore one; any other is invalid JSON). Throws
 * INVALID_ARGUMENT for invalid JSON and TOO_LARGE for more than
 * MAX_JSON_MESSAGES messages; an empty top-level array yields no messages (the
 * caller decides whether that is allowed). The elements go straight from the
 * body into the payload: a view apiece and a join afterwards cost ~9 ms for
 * 1 MiB of 64-byte elements, in the request's turn. A body prepareJsonMessages
 * already did this for (same bytes, same name) is taken from there.
 */
export function jsonMessages(bytes: Uint8Array, name: string): MessageBatch {
  const ready = prepared.get(bytes);
  if (ready !== undefined && ready.name === name) {
    prepared.delete(bytes);
    if (ready.batch === undefined) throw ready.error;
    return ready.batch;
  }
  const body = withoutBom(bytes, name);
  let scan: JsonScan;
  try {
    // One walk that checks the grammar and finds the elements; no value is built,
    // so its cost follows the body's size, and too many elements stop it early.
    scan = scanJson(body, MAX_JSON_MESSAGES);
  } catch (err) {
    throw scanError(err, name);
  }
  const batch = batchOf(body, scan);
  copyElements(body, scan, batch, 0, batch.lengths.length, 0);
  return batch;
}

/** Bytes walked, or copied, per event-loop turn when a body is prepared ahead. */
const PREPARE_SLICE_BYTES = 256 * 1024;

/** Results of prepareJsonMessages, each taken by the first jsonMessages of the same bytes and name. */
const prepared = new WeakMap<Uint8Array, { name: string; batch: MessageBatch; error?: undefined } | { name: string; batch?: undefined; error: SeglogError }>();

/**
 * Does jsonMessages' work for `bytes` ahead of the write that will need it, a
 * slice per event-loop turn, and keeps the result (or the error) for that
 * write, which then takes it instead of walking and copying the body in its own
 * turn (a 4 MiB body of small elements held the loop ~25 ms there). The
 * outcome is the same either way; a body that is never written is simply
 * dropped with its result.
 */
export async function prepareJsonMessages(bytes: Uint8Array, name: string): Promise<void> {
  let batch: MessageBatch;
  try {
    const body = withoutBom(bytes, name);
    const scanner = new JsonScanner(body, MAX_JSON_MESSAGES);
    let scan: JsonScan | undefined;
    for (let until = PREPARE_SLICE_BYTES; ; until += PREPARE_SLICE_BYTES) {
      try {
        scan = scanner.scan(until);
      } catch (err) {
        throw scanError(err, name);
      }
      if (scan !== undefined) break;
      await nextTurn();
    }
    batch = batchOf(body, scan);
    const { lengths } = batch;
    let at = 0;
    for (let k = 0; k < lengths.length; ) {
      let bytesInSlice = 0;
      let to = k;
      while (to < lengths.length && bytesInSlice < PREPARE_SLICE_BYTES) bytesInSlice += lengths[to++]!;
      at = copyElements(body, scan, batch, k, to, at);
      k = to;
      if (k < lengths.length) await nextTurn();
    }
  } catch (err) {
    if (!(err instanceof SeglogError)) throw err;
    prepared.set(bytes, { name, error: err });
    return;
  }
  prepared.set(bytes, { name, batch });
}

/** The body after a leading UTF-8 byte order mark (RFC 8259 §8.1 lets a parser ignore one), checked to be UTF-8. */
function withoutBom(bytes: Uint8Array, name: string): Uint8Array {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  if (!isUtf8(bytes)) throw invalidArgument(name, "is not valid JSON: it is not UTF-8");
  return bytes;
}

function scanError(err: unknown, name: string): unknown {
  if (err instanceof TooManyElements) {
    return new SeglogError("TOO_LARGE", `${name} holds more than ${MAX_JSON_MESSAGES} messages in one append`, { argument: name });
  }
  if (err instanceof JsonSyntaxError) return invalidArgument(name, `is not valid JSON: ${err.message}`);
  return err;
}

/** The batch's lengths and its payload, not yet filled for an array (copyElements does that). */
function batchOf(body: Uint8Array, scan: JsonScan): MessageBatch {
  if (scan.elements === undefined) return { payload: body.subarray(scan.start, scan.end), lengths: [scan.end - scan.start] };
  const { starts, ends } = scan.elements;
  const lengths = new Array<number>(starts.length);
  let total = 0;
  for (let k = 0; k < starts.length; k++) total += lengths[k] = ends[k]! - starts[k]!;
  return { payload: Buffer.allocUnsafe(total), lengths };
}

/**
 * Copies elements [from, to) from the body into the payload from byte `at` on;
 * returns where the next element goes. Buffer.copy moves a range without a view
 * object per element (0.8 ms per MiB of 64-byte elements, warm).
 */
function copyElements(body: Uint8Array, scan: JsonScan, batch: MessageBatch, from: number, to: number, at: number): number {
  if (scan.elements === undefined) return at;
  const { starts, ends } = scan.elements;
  const source = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const payload = batch.payload as Buffer;
  for (let k = from; k < to; k++) at += source.copy(payload, at, starts[k]!, ends[k]!);
  return at;
}

function nextTurn(): Promise<void> {
  return new Promise((done) => setImmediate(done));
}

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
