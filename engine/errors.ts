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
  | "IO_ERROR"
  /** seglog/replication: the JetStream stream is ahead of this database or holds another one's history. */
  | "REPLICATION_CONFLICT"
  /** An append's condition (a Dynamic Consistency Boundary) matched an event after its `after`. */
  | "APPEND_CONDITION_FAILED"
  /** seglog/replication, ack "replicated": stored and durable here, but JetStream did not acknowledge it. */
  | "NOT_REPLICATED";

export interface ErrorDetails {
  streamId?: string;
  expected?: unknown;
  actual?: number;
  file?: string;
  offset?: number;
  argument?: string;
  /** APPEND_CONDITION_FAILED: the first conflicting position, a fresh `after`, and which condition. */
  position?: number;
  after?: number;
  conditionIndex?: number;
  cause?: unknown;
}

/** What every SeglogError carries; which of the optional fields are set depends on the code. */
interface SeglogErrorFields extends Error {
  readonly name: "SeglogError";
  readonly code: ErrorCode;
  /** The stream involved, when there is one. */
  readonly streamId?: string;
  readonly expected?: unknown;
  readonly actual?: number;
  /** For CORRUPTION: the file and byte offset of the damage. */
  readonly file?: string;
  readonly offset?: number;
  /** For INVALID_ARGUMENT and TOO_LARGE: the argument at fault, e.g. "events[0].type". */
  readonly argument?: string;
}

/**
 * A SeglogError, narrowed by its `code`: after `err.code === "WRONG_EXPECTED_VERSION"`
 * the stream id, the expected version and the actual one are known to be there.
 */
export type SeglogError =
  | (SeglogErrorFields & {
      readonly code: "WRONG_EXPECTED_VERSION";
      readonly streamId: string;
      /** What the call expected: an ExpectedVersion (events) or a producer epoch (byte streams). */
      readonly expected: number | "any" | "no_stream" | "stream_exists";
      /** The stream's version (-1: no events) or the producer's current epoch. */
      readonly actual: number;
    })
  | (SeglogErrorFields & { readonly code: "CORRUPTION"; readonly file?: string; readonly offset?: number })
  | (SeglogErrorFields & { readonly code: "INVALID_ARGUMENT" | "TOO_LARGE"; readonly argument?: string })
  | (SeglogErrorFields & {
      readonly code: "APPEND_CONDITION_FAILED";
      /** Position of the first event that matched (it may still be in flight). */
      readonly position: number;
      /** The last committed position when the check ran: read up to it, decide again, and retry with it. */
      readonly after: number;
      /** Which condition failed, when the call gave several. */
      readonly conditionIndex?: number;
    })
  | (SeglogErrorFields & { readonly code: Exclude<ErrorCode, "WRONG_EXPECTED_VERSION" | "CORRUPTION" | "INVALID_ARGUMENT" | "TOO_LARGE" | "APPEND_CONDITION_FAILED"> });

export interface SeglogErrorConstructor {
  new (code: ErrorCode, message: string, details?: ErrorDetails): SeglogError;
  /** `err instanceof SeglogError` narrows to the union above, so `err.code` then narrows further. */
  readonly prototype: SeglogError;
}

class SeglogErrorClass extends Error {
  readonly code: ErrorCode;
  declare readonly streamId?: string;
  declare readonly expected?: unknown;
  declare readonly actual?: number;
  declare readonly file?: string;
  declare readonly offset?: number;
  declare readonly argument?: string;
  declare readonly position?: number;
  declare readonly after?: number;
  declare readonly conditionIndex?: number;

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
    if (details.position !== undefined) this.position = details.position;
    if (details.after !== undefined) this.after = details.after;
    if (details.conditionIndex !== undefined) this.conditionIndex = details.conditionIndex;
  }
}

// The class's own instance type cannot be a union; the exported binding gives it one.
Object.defineProperty(SeglogErrorClass, "name", { value: "SeglogError" });
export const SeglogError = SeglogErrorClass as unknown as SeglogErrorConstructor;

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
