/**
 * Every error the engine raises on purpose is a SeglogError with a stable `code`
 * (see docs/errors.md, one heading per code). Callers branch on `code`, never on
 * the message; the message names the argument, stream, file or offset involved.
 */
export type ErrorCode =
  | "WRONG_EXPECTED_VERSION"
  | "STREAM_NOT_FOUND"
  | "STREAM_DELETED"
  | "STREAM_CLOSED"
  | "SEQ_CONFLICT"
  | "ALREADY_EXISTS"
  | "NOT_FOUND"
  | "INVALID_ARGUMENT"
  | "TOO_LARGE"
  | "CORRUPTION"
  | "LOCKED"
  | "CLOSED"
  | "READ_ONLY"
  | "IO_ERROR";

export interface ErrorDetails {
  streamId?: string;
  expected?: unknown;
  actual?: number;
  file?: string;
  offset?: number;
  argument?: string;
  cause?: unknown;
}

export class SeglogError extends Error {
  readonly code: ErrorCode;
  declare readonly streamId?: string;
  declare readonly expected?: unknown;
  declare readonly actual?: number;
  declare readonly file?: string;
  declare readonly offset?: number;
  declare readonly argument?: string;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "SeglogError";
    this.code = code;
    if (details.streamId !== undefined) this.streamId = details.streamId;
    if ("expected" in details) this.expected = details.expected;
    if (details.actual !== undefined) this.actual = details.actual;
    if (details.file !== undefined) this.file = details.file;
    if (details.offset !== undefined) this.offset = details.offset;
    if (details.argument !== undefined) this.argument = details.argument;
  }
}

export function invalidArgument(argument: string, problem: string): SeglogError {
  return new SeglogError("INVALID_ARGUMENT", `${argument} ${problem}`, { argument });
}

export function corruption(file: string, offset: number, problem: string): SeglogError {
  return new SeglogError("CORRUPTION", `${problem} in ${file} at offset ${offset}`, { file, offset });
}

/** Broken invariants are bugs, not operational failures: they crash loudly. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`seglog invariant broken: ${message}`);
}
