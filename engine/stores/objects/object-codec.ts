/**
 * Bodies of the object store's records (record types in format/constants.ts).
 * The head is a fixed 32-byte binary hash rather than msgpack: replay and
 * keep() read it without decoding anything, and a blob's content is framed
 * exactly as it came, with no envelope to encode it into.
 *
 *   ObjectBlob (16)     offset 0   32 bytes  SHA-256 of the content
 *                       offset 32  rest      the content, raw
 *   ObjectChunks (17)   offset 0   32 bytes  SHA-256 of bytes [32, end)
 *                       offset 32  rest      msgpack array of [timestamp, data]
 *                                            pairs (number, bin), in list order
 *   ObjectDelete (18)   offset 0   32 bytes  SHA-256 of the object deleted
 *
 * A chunk list's hash is the SHA-256 of its encoding above, which is stable
 * within seglog: one encoder configuration (format/codec.ts) and arrays only,
 * so the same list always encodes to the same bytes.
 */
import { createHash } from "node:crypto";
import { corruption } from "../../errors.js";
import { decode, encode } from "../../format/codec.js";

export const HASH_BYTES = 32;

export interface Chunk {
  timestamp: number;
  data: Uint8Array;
}

export function sha256(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(bytes).digest();
}

/** The lowercase hex hash at the start of a body. */
export function bodyHash(body: Uint8Array): string {
  if (body.length < HASH_BYTES) throw corruption("(object record)", 0, "body is shorter than a hash");
  return Buffer.from(body.buffer, body.byteOffset, HASH_BYTES).toString("hex");
}

export function hashBytes(hash: string): Buffer {
  return Buffer.from(hash, "hex");
}

/** The content after the hash (a view of `body`). */
export function bodyContent(body: Uint8Array): Uint8Array {
  return body.subarray(HASH_BYTES);
}

/** The list's encoding; only valid until the next encode() anywhere. */
export function encodeChunkList(chunks: Chunk[]): Uint8Array {
  return encode(chunks.map((c) => [c.timestamp, c.data]));
}

/** Decodes a chunk list; the data arrays are copies. */
export function decodeChunkList(bytes: Uint8Array): Chunk[] {
  const pairs = decode(bytes);
  if (!Array.isArray(pairs)) throw corruption("(chunk list)", 0, "chunk list is not an array");
  return pairs.map((pair: unknown) => {
    const [timestamp, data] = pair as [number, Uint8Array];
    return { timestamp, data };
  });
}
