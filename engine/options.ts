/** Open options: defaults and validation. Unknown fields are ignored. */
import { invalidArgument } from "./errors.js";
import {
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_MAX_RECORD_BYTES,
  DEFAULT_SEGMENT_BYTES,
  MAX_RECORD_BYTES_LIMIT,
  MAX_SEGMENT_BYTES,
  MIN_SEGMENT_BYTES,
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
} from "./limits.js";
import type { FileSystem } from "./io/file-system.js";

export type Durability = "sync" | "buffered";

export interface OpenOptions {
  durability?: Durability;
  flushIntervalMs?: number;
  segmentBytes?: number;
  maxRecordBytes?: number;
  readOnly?: boolean;
  clock?: () => number;
  fsyncOnWorker?: boolean;
}

/** What the engine takes beyond the public options: tests run it on other file systems. */
export interface EngineOptions extends OpenOptions {
  fileSystem?: FileSystem;
}

export interface ResolvedOptions {
  durability: Durability;
  flushIntervalMs: number;
  segmentBytes: number;
  maxRecordBytes: number;
  readOnly: boolean;
  clock: () => number;
  fsyncOnWorker: boolean;
}

export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined || options === null) options = {};
  if (typeof options !== "object") throw invalidArgument("options", "must be an object");
  const o = options as OpenOptions;
  const durability = o.durability ?? "sync";
  if (durability !== "sync" && durability !== "buffered") {
    throw invalidArgument("options.durability", 'must be "sync" or "buffered"');
  }
  const flushIntervalMs = integerOption("options.flushIntervalMs", o.flushIntervalMs, DEFAULT_FLUSH_INTERVAL_MS, 1, 3_600_000);
  // Either bound may be given alone: the other default follows it, so that one
  // largest record always fits in a segment. Only an explicit pair can conflict.
  const explicitSegment = o.segmentBytes === undefined ? undefined : integerOption("options.segmentBytes", o.segmentBytes, 0, MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES);
  const recordDefault = explicitSegment === undefined ? DEFAULT_MAX_RECORD_BYTES : Math.min(DEFAULT_MAX_RECORD_BYTES, largestRecordIn(explicitSegment));
  const maxRecordBytes = integerOption("options.maxRecordBytes", o.maxRecordBytes, recordDefault, 64, MAX_RECORD_BYTES_LIMIT);
  const minSegment = Math.max(MIN_SEGMENT_BYTES, SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + maxRecordBytes);
  const segmentBytes = explicitSegment ?? Math.max(DEFAULT_SEGMENT_BYTES, minSegment);
  if (segmentBytes < minSegment) {
    throw invalidArgument("options.segmentBytes", `must hold at least one largest record (${minSegment} bytes with maxRecordBytes ${maxRecordBytes})`);
  }
  if (o.readOnly !== undefined && typeof o.readOnly !== "boolean") throw invalidArgument("options.readOnly", "must be a boolean");
  if (o.clock !== undefined && typeof o.clock !== "function") throw invalidArgument("options.clock", "must be a function");
  if (o.fsyncOnWorker !== undefined && typeof o.fsyncOnWorker !== "boolean") throw invalidArgument("options.fsyncOnWorker", "must be a boolean");
  return { durability, flushIntervalMs, segmentBytes, maxRecordBytes, readOnly: o.readOnly ?? false, clock: o.clock ?? Date.now, fsyncOnWorker: o.fsyncOnWorker ?? false };
}

/** The largest maxRecordBytes a segment of `segmentBytes` holds. */
function largestRecordIn(segmentBytes: number): number {
  return segmentBytes - SEGMENT_HEADER_BYTES - RECORD_HEADER_BYTES;
}

function integerOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(name, `must be an integer between ${min} and ${max}`);
  }
  return value;
}
