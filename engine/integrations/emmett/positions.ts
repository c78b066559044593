/**
 * Emmett counts from 1 where seglog counts from 0: an event's Emmett stream
 * position is its seglog version + 1 and its global position is its seglog
 * position + 1, so 0n means "no event" in both (as in Emmett's SQL stores).
 * Emmett speaks bigint and seglog number: a bigint that does not fit a safe
 * integer is refused, never wrapped.
 */
import { NO_CONCURRENCY_CHECK, STREAM_DOES_NOT_EXIST, STREAM_EXISTS, type ExpectedStreamVersion } from "@event-driven-io/emmett";
import { invalidArgument } from "../../errors.js";
import type { ExpectedVersion } from "../../types.js";

/** A bigint position or count from Emmett as a safe, non-negative number. */
export function toNumber(value: bigint, name: string): number {
  if (typeof value !== "bigint") throw invalidArgument(name, `must be a bigint, got ${typeof value}`);
  if (value < 0n) throw invalidArgument(name, `must not be negative, got ${value}`);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidArgument(name, `is beyond 2^53 - 1 (${value}): seglog positions are safe integers`);
  return Number(value);
}

/** Emmett stream position of the event at seglog `version` (-1: no event, 0n). */
export function streamPositionOf(version: number): bigint {
  return BigInt(version + 1);
}

/** Emmett global position of the event at seglog `position`. */
export function globalPositionOf(position: number): bigint {
  return BigInt(position + 1);
}

/** seglog position of the event at Emmett global position `global` (>= 1). */
export function seglogPositionOf(global: bigint, name: string): number {
  return toNumber(global, name) - 1;
}

/** Every form of Emmett's expected version, as seglog's. */
export function toExpectedVersion(expected: ExpectedStreamVersion | undefined): ExpectedVersion {
  if (expected === undefined || expected === NO_CONCURRENCY_CHECK) return "any";
  if (expected === STREAM_EXISTS) return "stream_exists";
  if (expected === STREAM_DOES_NOT_EXIST) return "no_stream";
  if (typeof expected !== "bigint") throw invalidArgument("expectedStreamVersion", `must be a bigint, STREAM_EXISTS, STREAM_DOES_NOT_EXIST or NO_CONCURRENCY_CHECK, got ${String(expected)}`);
  return toNumber(expected, "expectedStreamVersion") - 1;
}
