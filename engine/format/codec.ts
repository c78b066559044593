/**
 * The one configured msgpack encoder and decoder, reused everywhere (habit from
 * lmdb-js/msgpackr: configure once, no per-call setup). Records are plain msgpack:
 * no shared structures, so every record decodes on its own.
 */
import { Packr, Unpackr } from "msgpackr";

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
// copyBuffers: byte arrays in decoded values get their own memory, so read buffers can be reused.
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: true, copyBuffers: true });

/** Encodes into msgpackr's internal buffer; the result is only valid until the next call. */
export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes a body. Byte arrays in the result are copies; `bytes` may be reused after. */
export function decode(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}

/**
 * Values msgpack would silently change (functions, symbols) are rejected before
 * encoding; a cyclic structure is found by the depth bound.
 */
export function findUnencodable(value: unknown, depth = 0): string | undefined {
  if (depth > 256) return "is nested too deeply (or cyclic)";
  switch (typeof value) {
    case "function":
      return "contains a function";
    case "symbol":
      return "contains a symbol";
    case "bigint":
      return value >= -(2n ** 63n) && value < 2n ** 64n ? undefined : "contains a bigint outside 64 bits";
    case "object": {
      if (value === null || value instanceof Uint8Array || value instanceof Date) return undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const problem = findUnencodable(value[i], depth + 1);
          if (problem !== undefined) return problem;
        }
        return undefined;
      }
      for (const key in value) {
        const problem = findUnencodable((value as Record<string, unknown>)[key], depth + 1);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}
