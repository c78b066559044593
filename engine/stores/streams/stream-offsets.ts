/**
 * Byte-stream offsets: `MMMMMMMMMMMMMMMM_BBBBBBBBBBBBBBBB`, the number of
 * messages and of bytes before the position, each as 16 zero-padded decimal
 * digits. Both counts only grow along a stream, so the strings sort
 * lexicographically in stream order; they never contain `,` `&` `=` `?` `/`,
 * and can never be the protocol's sentinels `-1` or `now`. The start of every
 * stream is all zeros. Sixteen digits hold every safe integer (2^53 - 1 has 16).
 *
 * The message count makes a position cheap to find: message m lives in the
 * chunk whose first message is the largest one <= m (a binary search), and the
 * byte count double-checks that the offset was really issued by this stream.
 */
import { invalidArgument } from "../../errors.js";

export interface Position {
  messages: number;
  bytes: number;
}

const DIGITS = 16;
const SHAPE = /^(\d{16})_(\d{16})$/;

export const START: Position = { messages: 0, bytes: 0 };
export const START_OFFSET = formatOffset(START);
/** The protocol's "from the beginning" sentinel, accepted wherever an offset is read. */
export const BEGINNING = "-1";

export function formatOffset(p: Position): string {
  return `${pad(p.messages)}_${pad(p.bytes)}`;
}

/**
 * Parses an offset string (or "-1", the start). Throws INVALID_ARGUMENT for
 * anything else; whether the stream ever issued it is checked by the caller.
 */
export function parseOffset(value: unknown, name: string): Position {
  if (value === undefined || value === BEGINNING) return START;
  if (typeof value !== "string") throw invalidArgument(name, "must be an offset string");
  const m = SHAPE.exec(value);
  if (m === null) throw invalidArgument(name, `is not an offset of this store: ${JSON.stringify(value.slice(0, 80))}`);
  return { messages: Number(m[1]), bytes: Number(m[2]) };
}

export function isOffsetShape(value: string): boolean {
  return SHAPE.test(value);
}

export function samePosition(a: Position, b: Position): boolean {
  return a.messages === b.messages && a.bytes === b.bytes;
}

function pad(n: number): string {
  return String(n).padStart(DIGITS, "0");
}
