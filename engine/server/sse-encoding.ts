/**
 * One SSE `data` event built from a read's bytes, in pieces of bounded size,
 * so that a 16 MiB message never becomes one 16 MiB string built in a single
 * turn of the event loop (the caller writes each piece, honours backpressure
 * and yields between pieces).
 *
 * Text (text/* and JSON streams): every CR, LF or CRLF of the payload starts a
 * new `data:` line, so payload bytes can never end the event or forge another
 * one; a CRLF split across two pieces is still one line break. Anything else:
 * one `data:` line of base64, cut at multiples of 3 input bytes so the pieces
 * join into the base64 of the whole.
 */

const CR = 0x0d;
const LF = 0x0a;
const HEAD = Buffer.from("event: data\ndata:");
const NEXT_LINE = Buffer.from("\ndata:");
const TAIL = Buffer.from("\n\n");

/** Input bytes encoded per piece: about a millisecond of work. */
export const SSE_PIECE_BYTES = 3 * 256 * 1024;

export function* dataEventPieces(data: Uint8Array, base64: boolean, pieceBytes = SSE_PIECE_BYTES): Generator<Buffer> {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length === 0) {
    yield Buffer.concat([HEAD, TAIL]);
    return;
  }
  const step = base64 ? Math.max(3, pieceBytes - (pieceBytes % 3)) : Math.max(1, pieceBytes);
  for (let from = 0; from < bytes.length; from += step) {
    const to = Math.min(bytes.length, from + step);
    const body = base64 ? Buffer.from(bytes.subarray(from, to).toString("base64")) : textLines(bytes, from, to);
    const parts = [body];
    if (from === 0) parts.unshift(HEAD);
    if (to === bytes.length) parts.push(TAIL);
    yield parts.length === 1 ? body : Buffer.concat(parts);
  }
}

/**
 * bytes[from, to) with every line break turned into "\ndata:". The whole
 * payload is at hand, so an LF that follows a CR is known to end that CR's
 * break even when the CR ended the previous piece.
 */
function textLines(bytes: Buffer, from: number, to: number): Buffer {
  if (from > 0 && bytes[from] === LF && bytes[from - 1] === CR) from++;
  let breaks = 0;
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (c === CR || (c === LF && (i === 0 || bytes[i - 1] !== CR))) breaks++;
  }
  if (breaks === 0) return bytes.subarray(from, to);
  const out = Buffer.allocUnsafe(to - from + breaks * (NEXT_LINE.length - 1));
  let at = 0;
  let start = from;
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (c !== LF && c !== CR) continue;
    at += bytes.copy(out, at, start, i);
    start = i + 1;
    if (c === LF && i > 0 && bytes[i - 1] === CR) continue; // the LF of a CRLF
    at += NEXT_LINE.copy(out, at);
  }
  at += bytes.copy(out, at, start, to);
  return out.subarray(0, at);
}
