/**
 * Bodies of the cassette store's records (record types in format/constants.ts).
 *
 *   CassetteEntry (32)   head/tail body (../split-body.ts):
 *                          head  msgpack [path]
 *                          tail  msgpack map: the entry as written
 *   CassetteDelete (33)  msgpack [path]
 *
 * The path sits in the head so that replay and compaction find it without
 * decoding the entry, which may hold a whole recorded HTTP response.
 */
import { invalidArgument, corruption } from "../../errors.js";
import { decode, encode } from "../../format/codec.js";
import { decodeHead, encodeHead, tailBytes } from "../split-body.js";

export function encodeEntryHead(path: string): Uint8Array {
  return encodeHead([path]);
}

/** The entry's encoding; only valid until the next encode() anywhere. */
export function encodeEntry(entry: Record<string, unknown>): Uint8Array {
  try {
    return encode(entry);
  } catch (err) {
    throw invalidArgument("entry", `cannot be encoded: ${(err as Error).message}`);
  }
}

export function entryPath(body: Uint8Array): string {
  const head = decodeHead(body);
  if (!Array.isArray(head) || typeof head[0] !== "string") throw corruption("(cassette entry)", 0, "head is not [path]");
  return head[0];
}

export function decodeEntry(body: Uint8Array): Record<string, unknown> {
  return decode(tailBytes(body)) as Record<string, unknown>;
}

/** Only valid until the next encode() anywhere: frame it right away. */
export function encodeDelete(path: string): Uint8Array {
  return encode([path]);
}

export function deletePath(body: Uint8Array): string {
  const fields = decode(body);
  if (!Array.isArray(fields) || typeof fields[0] !== "string") throw corruption("(cassette delete)", 0, "body is not [path]");
  return fields[0];
}
