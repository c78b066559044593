/**
 * Bodies of the recording store's records (record types in format/constants.ts).
 *
 *   RecordingSave (48)    head/tail body (../split-body.ts):
 *                           head  msgpack [id, savedAt, eventCount, hasEvents, fields]
 *                                 fields: the recording without `events` (id included)
 *                           tail  msgpack array: the events; empty when hasEvents is false
 *   RecordingDelete (49)  msgpack [id]
 *   RecordingClear (50)   msgpack [] (removes every recording saved before it)
 *
 * The head is the recording's summary. The store keeps its bytes in memory, so
 * listSummaries decodes small heads and never reads, let alone decodes, events.
 */
import { corruption, invalidArgument } from "../../errors.js";
import { decode, encode } from "../../format/codec.js";
import type { Recording } from "../../types.js";
import { encodeHead, headBytes, tailBytes } from "../split-body.js";

export interface Summary {
  id: string;
  savedAt: number;
  eventCount: number;
  hasEvents: boolean;
  fields: Record<string, unknown>;
}

export function encodeSaveHead(id: string, savedAt: number, recording: Recording): Uint8Array {
  const { events, ...fields } = recording;
  return encodeHead([id, savedAt, events?.length ?? 0, events !== undefined, fields]);
}

/** The events' encoding (undefined when the recording has none); valid until the next encode(). */
export function encodeEvents(recording: Recording): Uint8Array | undefined {
  if (recording.events === undefined) return undefined;
  try {
    return encode(recording.events);
  } catch (err) {
    throw invalidArgument("recording.events", `cannot be encoded: ${(err as Error).message}`);
  }
}

/** The summary's msgpack bytes in a save body (a view of `body`). */
export function summaryBytes(body: Uint8Array): Uint8Array {
  return headBytes(body);
}

export function decodeSummary(bytes: Uint8Array): Summary {
  const f = decode(bytes) as [string, number, number, boolean, Record<string, unknown>];
  if (!Array.isArray(f) || f.length !== 5 || typeof f[0] !== "string") throw corruption("(recording)", 0, "summary has the wrong shape");
  return { id: f[0], savedAt: f[1], eventCount: f[2], hasEvents: f[3], fields: f[4] };
}

/** The whole recording, field for field as saved. */
export function decodeRecording(body: Uint8Array): Recording {
  const s = decodeSummary(summaryBytes(body));
  const recording = s.fields as Recording;
  if (s.hasEvents) recording.events = decode(tailBytes(body)) as unknown[];
  return recording;
}

/** Only valid until the next encode() anywhere: frame it right away. */
export function encodeDelete(id: string): Uint8Array {
  return encode([id]);
}

export function deleteId(body: Uint8Array): string {
  const f = decode(body);
  if (!Array.isArray(f) || typeof f[0] !== "string") throw corruption("(recording delete)", 0, "body is not [id]");
  return f[0];
}

export function encodeClear(): Uint8Array {
  return encode([]);
}
