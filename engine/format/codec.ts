/**
 * The one configured msgpack encoder and decoder, reused everywhere (habit from
 * lmdb-js/msgpackr: configure once, no per-call setup). Records are plain msgpack:
 * no shared structures, so every record decodes on its own.
 */
import { Packr, Unpackr } from "msgpackr";
import { SeglogError } from "../errors.js";

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
// copyBuffers: byte arrays in decoded values get their own memory, so read buffers can be reused.
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: true, copyBuffers: true });
const viewingUnpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: true, copyBuffers: false });

/** Encodes into msgpackr's internal buffer; the result is only valid until the next call. */
export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes a body. Byte arrays in the result are copies; `bytes` may be reused after. */
export function decode(bytes: Uint8Array): unknown {
  return unpackChecked(unpackr, bytes);
}

/**
 * Decodes a buffer the caller owns and never reuses (a file read whole): byte
 * arrays in the result are views into `bytes`, not copies. The checkpoint's
 * index arrays are most of its size; copying them would double open's work.
 */
export function decodeOwned(bytes: Uint8Array): unknown {
  return unpackChecked(viewingUnpackr, bytes);
}

/**
 * Decodes a body the caller will reuse, for the hottest reads (events): byte
 * arrays in the result are views into `bytes` at first, then copied out by
 * `ownBytes`, small ones into Node's shared Buffer pool (what Buffer.allocUnsafe
 * does: one slab of 8 KiB for many small arrays) instead of an ArrayBuffer
 * each. msgpackr's copyBuffers gives every 200-byte array an ArrayBuffer of its
 * own: about 1 µs and GC work per array, against ~0.1 µs here.
 */
export function decodeReused(bytes: Uint8Array): unknown {
  return ownBytes(unpackChecked(viewingUnpackr, bytes));
}

/**
 * `v` with every Uint8Array in it (at any depth of arrays and plain objects)
 * replaced by a copy. Primitives are passed over without a call: for an event
 * of msgpack data this walk costs ~0.1 µs (cheaper than looking for bin bytes).
 */
function ownBytes(v: unknown): unknown {
  if (v instanceof Uint8Array) return copyOut(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === "object" && x !== null) v[i] = ownBytes(x);
    }
  } else if (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    for (const key in o) {
      const x = o[key];
      if (typeof x === "object" && x !== null) o[key] = ownBytes(x);
    }
  }
  return v;
}

function copyOut(view: Uint8Array): Uint8Array {
  const pooled = Buffer.allocUnsafe(view.length);
  pooled.set(view);
  // A plain Uint8Array over the same memory: reads hand back Uint8Array, never Buffer.
  return new Uint8Array(pooled.buffer, pooled.byteOffset, view.length);
}

function unpackChecked(decoder: Unpackr, bytes: Uint8Array): unknown {
  try {
    return decoder.unpack(bytes);
  } catch (err) {
    // The checksum matched, so these are the bytes that were written, and they do not decode.
    // msgpack's own words go to `cause`: they say nothing a user can act on.
    throw new SeglogError("CORRUPTION", "record body does not decode", { cause: err });
  }
}

/**
 * True when `s` is valid UTF-16 (no lone surrogate). Records store strings as
 * UTF-8, where a lone surrogate can only become U+FFFD: such a string would not
 * read back as written, so it is refused at the door.
 */
export function isWellFormedText(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Describes why a value would not read back as the same value, or undefined
 * when it would: plain objects and arrays of strings, numbers, booleans, null,
 * undefined, bigints within 64 bits, Uint8Array bytes and Dates. Anything msgpack
 * would change silently (functions, symbols, Maps, Sets, class instances, other
 * typed arrays, lone surrogates, an own "__proto__" key that the decoder renames)
 * is refused; a cyclic structure is found by the depth bound.
 */
export function findUnencodable(value: unknown, depth = 0): string | undefined {
  if (depth > 256) return "is nested too deeply (or cyclic)";
  switch (typeof value) {
    case "string":
      return isWellFormedText(value) ? undefined : "contains a string with a lone surrogate";
    case "function":
      return "contains a function";
    case "symbol":
      return "contains a symbol";
    case "bigint":
      return value >= -(2n ** 63n) && value < 2n ** 64n ? undefined : "contains a bigint outside 64 bits";
    case "object": {
      if (value === null || value instanceof Date) return undefined;
      if (value instanceof Uint8Array) return value.constructor === Uint8Array || value.constructor === Buffer ? undefined : "contains a typed array other than Uint8Array";
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return "contains an array of a subclass";
        for (let i = 0; i < value.length; i++) {
          const problem = findUnencodable(value[i], depth + 1);
          if (problem !== undefined) return problem;
        }
        return undefined;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return `contains a ${(value as object).constructor?.name ?? "non-plain"} object, not a plain one`;
      for (const key of Object.keys(value)) {
        if (key === "__proto__") return 'contains a "__proto__" key';
        if (!isWellFormedText(key)) return "contains a key with a lone surrogate";
        const problem = findUnencodable((value as Record<string, unknown>)[key], depth + 1);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}
