/**
 * JSON mode: a stream whose content type is application/json keeps message
 * boundaries. An append's body is one JSON value; a top-level array is
 * flattened one level, so `[a, b]` stores the two messages `a` and `b` (and
 * `[[1, 2]]` stores the one message `[1, 2]`). Each message is kept as the
 * exact text the client sent for it (trimmed), so numbers beyond double
 * precision and key order survive unchanged. Reads hand back a JSON array of
 * the messages in the range.
 */
import { invalidArgument } from "../../errors.js";

const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

// ignoreBOM: the decoder must see exactly the bytes the splitter walks; a leading
// BOM is taken off first (RFC 8259 §8.1 lets a parser ignore one), any other is invalid JSON.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** The media type of a Content-Type value: lower case, without parameters. */
export function mediaType(contentType: string): string {
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

export function isJsonContentType(contentType: string): boolean {
  return mediaType(contentType) === "application/json";
}

/**
 * Splits one append body into its messages (views into `bytes`, after a
 * leading UTF-8 byte order mark, which is dropped). Throws
 * INVALID_ARGUMENT for invalid JSON; an empty top-level array yields no
 * messages (the caller decides whether that is allowed).
 */
export function splitJsonMessages(bytes: Uint8Array, name: string): Uint8Array[] {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
    JSON.parse(text);
  } catch (err) {
    throw invalidArgument(name, `is not valid JSON: ${(err as Error).message}`);
  }
  const start = skipSpace(bytes, 0, 1);
  const end = skipSpace(bytes, bytes.length - 1, -1) + 1;
  if (bytes[start] !== OPEN_ARRAY) return [bytes.subarray(start, end)];
  return splitArray(bytes, start, end);
}

/** A JSON array holding `messages` (each already valid JSON text). */
export function joinJsonMessages(messages: Uint8Array[]): Uint8Array {
  let size = 2 + Math.max(0, messages.length - 1);
  for (const m of messages) size += m.length;
  const out = new Uint8Array(size);
  out[0] = OPEN_ARRAY;
  let at = 1;
  messages.forEach((m, i) => {
    if (i > 0) out[at++] = COMMA;
    out.set(m, at);
    at += m.length;
  });
  out[at] = CLOSE_ARRAY;
  return out;
}

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Top-level elements of the (already validated) array in bytes[start, end). */
function splitArray(bytes: Uint8Array, start: number, end: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let depth = 0;
  let inString = false;
  let element = -1;
  const finish = (at: number): void => {
    if (element >= 0) out.push(bytes.subarray(element, skipSpace(bytes, at - 1, -1) + 1));
    element = -1;
  };
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (depth === 1 && element < 0 && !isSpace(c) && c !== COMMA && c !== CLOSE_ARRAY) element = i;
    if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++;
    else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
      if (depth === 0) finish(i);
    } else if (c === COMMA && depth === 1) finish(i);
  }
  return out;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The first index from `at` (moving by `step`) that is not JSON whitespace. */
function skipSpace(bytes: Uint8Array, at: number, step: 1 | -1): number {
  while (at >= 0 && at < bytes.length && isSpace(bytes[at]!)) at += step;
  return at;
}
