/**
 * Argument checks of the event store. Every check runs before anything is framed,
 * so a rejected call writes nothing; each error names the argument.
 */
import { invalidArgument } from "../../errors.js";
import { findUnencodable, isWellFormedText } from "../../format/codec.js";
import { MAX_ID_LENGTH, MAX_TYPE_LENGTH } from "../../limits.js";
import type { ExpectedVersion, NewEvent, ReadOptions, Retention } from "../../types.js";

export function checkStreamId(value: unknown, name = "streamId"): string {
  if (typeof value !== "string" || value.length === 0) throw invalidArgument(name, "must be a non-empty string");
  if (value.length > MAX_ID_LENGTH) throw invalidArgument(name, `must be at most ${MAX_ID_LENGTH} characters`);
  if (!isWellFormedText(value)) throw invalidArgument(name, "must not contain a lone surrogate");
  return value;
}

export function checkExpectedVersion(value: unknown, name: string): ExpectedVersion {
  if (value === undefined) return "any";
  if (value === "any" || value === "no_stream" || value === "stream_exists") return value;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= -1) return value;
  throw invalidArgument(name, 'must be an integer >= -1, "any", "no_stream" or "stream_exists"');
}

export function checkEvents(value: unknown, name: string): NewEvent[] {
  if (!Array.isArray(value)) throw invalidArgument(name, "must be an array of events");
  if (value.length === 0) throw invalidArgument(name, "must hold at least one event");
  for (let i = 0; i < value.length; i++) checkEvent(value[i], `${name}[${i}]`);
  return value as NewEvent[];
}

function checkEvent(e: unknown, name: string): void {
  if (typeof e !== "object" || e === null || Array.isArray(e)) throw invalidArgument(name, "must be an object");
  const ev = e as Record<string, unknown>;
  if (typeof ev.type !== "string" || ev.type.length === 0) throw invalidArgument(`${name}.type`, "must be a non-empty string");
  if (ev.type.length > MAX_TYPE_LENGTH) throw invalidArgument(`${name}.type`, `must be at most ${MAX_TYPE_LENGTH} characters`);
  if (!isWellFormedText(ev.type)) throw invalidArgument(`${name}.type`, "must not contain a lone surrogate");
  // A missing `data` is the same as `data: undefined` (an event with nothing to say beyond its type); it reads back as undefined.
  const dataProblem = findUnencodable(ev.data);
  if (dataProblem !== undefined) throw invalidArgument(`${name}.data`, `cannot be encoded: it ${dataProblem}`);
  if (ev.metadata !== undefined) {
    if (!isPlainObject(ev.metadata)) throw invalidArgument(`${name}.metadata`, "must be a plain object");
    const problem = findUnencodable(ev.metadata);
    if (problem !== undefined) throw invalidArgument(`${name}.metadata`, `cannot be encoded: it ${problem}`);
  }
  if (ev.tags !== undefined) {
    if (!Array.isArray(ev.tags) || !ev.tags.every((t) => typeof t === "string" && isWellFormedText(t))) {
      throw invalidArgument(`${name}.tags`, "must be an array of strings");
    }
  }
  if (ev.id !== undefined) {
    if (typeof ev.id !== "string" || ev.id.length === 0) throw invalidArgument(`${name}.id`, "must be a non-empty string");
    if (ev.id.length > MAX_ID_LENGTH) throw invalidArgument(`${name}.id`, `must be at most ${MAX_ID_LENGTH} characters`);
    if (!isWellFormedText(ev.id)) throw invalidArgument(`${name}.id`, "must not contain a lone surrogate");
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export interface CheckedRead {
  from: number | undefined;
  count: number;
  backward: boolean;
}

export function checkReadOptions(value: unknown, name = "options"): CheckedRead {
  if (value === undefined || value === null) return { from: undefined, count: Infinity, backward: false };
  if (typeof value !== "object" || Array.isArray(value)) throw invalidArgument(name, "must be an object");
  const o = value as ReadOptions;
  if (o.direction !== undefined && o.direction !== "forward" && o.direction !== "backward") {
    throw invalidArgument(`${name}.direction`, 'must be "forward" or "backward"');
  }
  if (o.from !== undefined && !(typeof o.from === "number" && Number.isSafeInteger(o.from) && o.from >= 0)) {
    throw invalidArgument(`${name}.from`, "must be an integer >= 0");
  }
  if (o.count !== undefined && !(typeof o.count === "number" && (Number.isSafeInteger(o.count) || o.count === Infinity) && o.count >= 0)) {
    throw invalidArgument(`${name}.count`, "must be an integer >= 0");
  }
  return { from: o.from, count: o.count ?? Infinity, backward: o.direction === "backward" };
}

export function checkVersionNumber(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw invalidArgument(name, "must be an integer >= 0");
  return value;
}

export function checkRetention(value: unknown): { maxCount: number; maxAgeMs: number } {
  if (!isPlainObject(value)) throw invalidArgument("retention", "must be an object");
  const r = value as Retention;
  if (r.maxCount !== undefined && !(typeof r.maxCount === "number" && Number.isSafeInteger(r.maxCount) && r.maxCount >= 0)) {
    throw invalidArgument("retention.maxCount", "must be an integer >= 0");
  }
  if (r.maxAgeMs !== undefined && !(typeof r.maxAgeMs === "number" && Number.isSafeInteger(r.maxAgeMs) && r.maxAgeMs >= 0)) {
    throw invalidArgument("retention.maxAgeMs", "must be an integer >= 0");
  }
  return { maxCount: r.maxCount ?? -1, maxAgeMs: r.maxAgeMs ?? -1 };
}

export function checkOptionalObject(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalidArgument(name, "must be an object");
  return value as Record<string, unknown>;
}
