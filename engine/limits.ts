/**
 * Every limit the engine enforces, in one place, with the checks of how they
 * relate. Options may lower or raise the configurable ones within these bounds.
 */
import { assert } from "./errors.js";

export const MiB = 1024 * 1024;

/** Record frame header, see engine/format/record.ts. */
export const RECORD_HEADER_BYTES = 12;
/** Segment file header, see engine/format/segment-header.ts. */
export const SEGMENT_HEADER_BYTES = 32;

export const DEFAULT_SEGMENT_BYTES = 64 * MiB;
export const DEFAULT_MAX_RECORD_BYTES = 16 * MiB;
export const DEFAULT_FLUSH_INTERVAL_MS = 100;

/** A record's body length is a u32 and offsets inside a segment are u32 too. */
export const MAX_RECORD_BYTES_LIMIT = 1024 * MiB;
export const MIN_SEGMENT_BYTES = 4096;
export const MAX_SEGMENT_BYTES = 2048 * MiB;

/** Locations pack (segment number, offset) into one double: segment < 2^21. */
export const MAX_SEGMENT_NUMBER = 2 ** 21 - 1;

/** Identifiers (stream ids, paths, context ids, ...) are bounded so that one
 *  record's envelope stays small next to its data. */
export const MAX_ID_LENGTH = 4096;
export const MAX_TYPE_LENGTH = 1024;

/** The position index keeps one entry every this many events of a segment. */
export const POSITION_INDEX_INTERVAL = 64;

/** Random-access reads keep this many 4 KiB blocks (16 MiB) in their cache. */
export const READ_CACHE_BLOCKS = 4096;
/** Sequential scans (readAll, recovery, verify) read this much at a time. */
export const SCAN_CHUNK_BYTES = 1 * MiB;
/** Iterators fetch this many events per step. */
export const ITERATE_BATCH = 512;

/** A group-commit batch is sealed at this size (or at what one segment holds, if less); the next write opens a new one. */
export const GROUP_COMMIT_SOFT_LIMIT = 8 * MiB;

export function checkLimits(segmentBytes: number, maxRecordBytes: number): void {
  assert(maxRecordBytes <= MAX_RECORD_BYTES_LIMIT, "maxRecordBytes within the frame's u32 length");
  assert(segmentBytes >= MIN_SEGMENT_BYTES && segmentBytes <= MAX_SEGMENT_BYTES, "segment size in range");
}
