/**
 * Format constants. They never change once released: a new layout gets a new
 * version number or a new record type, and readers keep understanding the old one.
 */

/** "SGLG": the first four bytes of every seglog file. */
export const MAGIC = 0x474c4753; // little-endian read of the bytes 53 47 4c 47

export const enum FileType {
  Segment = 1,
  Checkpoint = 2,
}

/** The version this code writes, and the oldest a file may require of its reader. */
export const SEGMENT_FORMAT_VERSION = 1;
export const CHECKPOINT_FORMAT_VERSION = 4;

/**
 * Record types. Each store owns a range so stores can add types without meeting:
 *   1–15 events, 16–31 objects, 32–47 cassettes, 48–63 recordings,
 *   64–79 contexts, 80–95 byte streams, 96–111 compaction.
 */
export const enum RecordType {
  Event = 1,
  StreamMeta = 2,
  /** Written by compaction: a stream's state after the events it dropped. */
  StreamSnapshot = 3,
  /** Written by compaction: the highest position ever assigned, so positions never repeat. */
  PositionFloor = 4,
  // Objects (engine/stores/objects/object-codec.ts).
  ObjectBlob = 16,
  ObjectChunks = 17,
  ObjectDelete = 18,
  // Cassettes (engine/stores/cassettes/cassette-codec.ts).
  CassetteEntry = 32,
  CassetteDelete = 33,
  // Recordings (engine/stores/recordings/recording-codec.ts).
  RecordingSave = 48,
  RecordingDelete = 49,
  RecordingClear = 50,
  // Contexts (engine/stores/contexts/context-codec.ts).
  ContextSet = 64,
  ContextDelete = 65,
  DeltaSet = 66,
  DeltaDelete = 67,
  // Byte streams (engine/stores/streams/stream-codec.ts).
  ByteStreamCreate = 80,
  ByteStreamChunk = 81,
  ByteStreamClose = 82,
  ByteStreamDelete = 83,
  /** Written by compaction: the highest stream incarnation ever assigned, so numbers never repeat. */
  ByteStreamFloor = 84,
}

/** Record flag bits. */
export const FLAG_GROUP_END = 0x01;

export const SEGMENT_SUFFIX = ".seg";
export const CHECKPOINT_FILE = "checkpoint.ckpt";
export const LOCK_FILE = "LOCK";

/** 20-digit zero-padded segment numbers so that `ls` sorts segments in log order. */
export function segmentFileName(segmentNumber: number): string {
  return String(segmentNumber).padStart(20, "0") + SEGMENT_SUFFIX;
}

export function parseSegmentFileName(name: string): number | undefined {
  if (!name.endsWith(SEGMENT_SUFFIX) || name.length !== 20 + SEGMENT_SUFFIX.length) return undefined;
  const digits = name.slice(0, 20);
  if (!/^[0-9]{20}$/.test(digits)) return undefined;
  return Number(digits);
}
