/**
 * One pass over untrusted JSON bytes that checks the grammar (RFC 8259) and
 * finds where the top-level array's elements lie, without building a value:
 * the cost is a walk over the bytes and two numbers per element, whatever the
 * body holds, and a body with more elements than the caller allows is refused
 * as soon as the walk counts past the limit.
 *
 * UTF-8 validity is not checked here (the caller does, natively); bytes from
 * 0x80 up are taken as they are inside strings and are invalid anywhere else.
 */

export class JsonSyntaxError extends Error {
  constructor(
    what: string,
    readonly at: number,
  ) {
    super(`${what} at byte ${at}`);
  }
}

export class TooManyElements extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} elements`);
  }
}

export interface JsonScan {
  /** Where the value (trimmed) begins and ends. */
  start: number;
  end: number;
  /** For a top-level array: each element's [start, end), trimmed. */
  elements: { starts: number[]; ends: number[] } | undefined;
}

const ARRAY = 1;
const OBJECT = 2;

export function scanJson(bytes: Uint8Array, maxElements: number): JsonScan {
  return new JsonScanner(bytes, maxElements).scan(Infinity)!;
}

/**
 * The same walk, resumable: `scan(until)` goes on from where the last call
 * stopped and pauses at the first value that starts at or past byte `until`
 * (undefined: not done yet), so that a large body can be walked a slice per
 * event-loop turn. The walk and its answers are the same however it is sliced.
 */
export class JsonScanner {
  private i: number;
  private readonly start: number;
  private readonly rootIsArray: boolean;
  private readonly stack: number[] = [];
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  constructor(
    private readonly bytes: Uint8Array,
    private readonly maxElements: number,
  ) {
    this.i = skipSpace(bytes, 0);
    this.start = this.i;
    this.rootIsArray = bytes[this.i] === 0x5b;
  }

  scan(until: number): JsonScan | undefined {
    const { bytes, stack, starts, ends, rootIsArray, maxElements } = this;
    const n = bytes.length;
    let i = this.i;
    for (;;) {
      // ---- a value starts at i
      if (i >= until) {
        this.i = i;
        return undefined;
      }
      if (i >= n) throw new JsonSyntaxError("a value is missing", i);
      if (rootIsArray && stack.length === 1) {
        if (starts.length >= maxElements) throw new TooManyElements(maxElements);
        starts.push(i);
      }
      const c = bytes[i]!;
      if (c === 0x5b || c === 0x7b) {
        stack.push(c === 0x5b ? ARRAY : OBJECT);
        i = skipSpace(bytes, i + 1);
        if (bytes[i] === (c === 0x5b ? 0x5d : 0x7d)) {
          stack.pop();
          i++;
        } else if (c === 0x7b) {
          i = key(bytes, i);
          continue;
        } else continue;
      } else if (c === 0x22) i = string(bytes, i);
      else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) i = number(bytes, i);
      else if (c === 0x74) i = literal(bytes, i, "true");
      else if (c === 0x66) i = literal(bytes, i, "false");
      else if (c === 0x6e) i = literal(bytes, i, "null");
      else throw new JsonSyntaxError(`unexpected ${describe(c)}`, i);
      // ---- a value ended at i: close the containers it ends, then what follows
      for (;;) {
        if (rootIsArray && stack.length === 1 && ends.length < starts.length) ends.push(i);
        i = skipSpace(bytes, i);
        if (stack.length === 0) {
          if (i !== n) throw new JsonSyntaxError(`unexpected ${describe(bytes[i]!)} after the value`, i);
          this.i = i;
          return { start: this.start, end: lastNonSpace(bytes, n), elements: rootIsArray ? { starts, ends } : undefined };
        }
        const top = stack[stack.length - 1]!;
        const d = bytes[i];
        if (d === 0x2c) {
          i = skipSpace(bytes, i + 1);
          if (top === OBJECT) i = key(bytes, i);
          break;
        }
        if ((top === ARRAY && d === 0x5d) || (top === OBJECT && d === 0x7d)) {
          stack.pop();
          i++;
          continue;
        }
        throw new JsonSyntaxError(d === undefined ? "the body ends inside a value" : `unexpected ${describe(d)}`, i);
      }
    }
  }
}

/** A member's key and its colon; returns where its value starts. */
function key(bytes: Uint8Array, i: number): number {
  if (bytes[i] !== 0x22) throw new JsonSyntaxError(bytes[i] === undefined ? "the body ends inside an object" : "an object key must be a string", i);
  i = skipSpace(bytes, string(bytes, i));
  if (bytes[i] !== 0x3a) throw new JsonSyntaxError("a colon is missing after an object key", i);
  return skipSpace(bytes, i + 1);
}

function string(bytes: Uint8Array, i: number): number {
  const n = bytes.length;
  for (i++; i < n; i++) {
    const c = bytes[i]!;
    if (c === 0x22) return i + 1;
    if (c < 0x20) throw new JsonSyntaxError("a control character inside a string", i);
    if (c === 0x5c) {
      const e = bytes[++i];
      if (e === 0x75) {
        for (let k = 1; k <= 4; k++) if (!isHex(bytes[i + k])) throw new JsonSyntaxError("a \\u escape needs four hex digits", i);
        i += 4;
      } else if (e === undefined || !ESCAPES.has(e)) throw new JsonSyntaxError("an invalid escape in a string", i);
    }
  }
  throw new JsonSyntaxError("the body ends inside a string", i);
}

const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

function number(bytes: Uint8Array, i: number): number {
  const from = i;
  if (bytes[i] === 0x2d) i++;
  if (bytes[i] === 0x30) i++;
  else if (isDigit(bytes[i]) && bytes[i] !== 0x30) while (isDigit(bytes[i])) i++;
  else throw new JsonSyntaxError("an invalid number", from);
  if (bytes[i] === 0x2e) {
    i++;
    if (!isDigit(bytes[i])) throw new JsonSyntaxError("an invalid number", from);
    while (isDigit(bytes[i])) i++;
  }
  if (bytes[i] === 0x65 || bytes[i] === 0x45) {
    i++;
    if (bytes[i] === 0x2b || bytes[i] === 0x2d) i++;
    if (!isDigit(bytes[i])) throw new JsonSyntaxError("an invalid number", from);
    while (isDigit(bytes[i])) i++;
  }
  return i;
}

function literal(bytes: Uint8Array, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (bytes[i + k] !== word.charCodeAt(k)) throw new JsonSyntaxError(`an invalid literal (expected ${word})`, i);
  return i + word.length;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(bytes: Uint8Array, i: number): number {
  while (isSpace(bytes[i])) i++;
  return i;
}

function lastNonSpace(bytes: Uint8Array, end: number): number {
  while (end > 0 && isSpace(bytes[end - 1])) end--;
  return end;
}

function describe(c: number): string {
  return c >= 0x21 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16).padStart(2, "0")}`;
}
