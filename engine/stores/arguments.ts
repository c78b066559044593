/**
 * Argument checks shared by the object, cassette, recording and context
 * stores. Every check runs before anything is framed, so a rejected call writes
 * nothing; each error is INVALID_ARGUMENT and names the argument.
 */
import { invalidArgument } from "../errors.js";
import { findUnencodable, isWellFormedText } from "../format/codec.js";
import { MAX_ID_LENGTH } from "../limits.js";
import { isPlainObject } from "./events/validation.js";

export { isPlainObject };

/** Ids, paths and other keys: non-empty strings of bounded length. */
export function checkKey(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length === 0) throw invalidArgument(name, "must be a non-empty string");
  if (value.length > MAX_ID_LENGTH) throw invalidArgument(name, `must be at most ${MAX_ID_LENGTH} characters`);
  if (!isWellFormedText(value)) throw invalidArgument(name, "must not contain a lone surrogate");
  return value;
}

export function checkBytes(value: unknown, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidArgument(name, "must be a Uint8Array");
  return value;
}

/** A plain object whose every value msgpack round-trips. */
export function checkDocument(value: unknown, name: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw invalidArgument(name, "must be a plain object");
  const problem = findUnencodable(value);
  if (problem !== undefined) throw invalidArgument(name, `cannot be encoded: it ${problem}`);
  return value;
}

/** Versions that are stored: integers >= 0. */
export function checkVersion(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw invalidArgument(name, "must be an integer >= 0");
  return value;
}

export function checkInteger(value: unknown, name: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) throw invalidArgument(name, `must be an integer >= ${min}`);
  return value;
}

/** Timestamps and times: finite numbers (ms since epoch, or whatever the caller keeps). */
export function checkTime(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw invalidArgument(name, "must be a finite number");
  return value;
}

/** An options argument: undefined (or null, as the event store takes it), or a plain object. */
export function checkOptions(value: unknown, name = "options"): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw invalidArgument(name, "must be an object");
  return value;
}
