/**
 * Record and file checksums: xxHash32 (xxhash-wasm). The WASM module initialises
 * asynchronously, so open() awaits `loadChecksum()` before any record is framed.
 */
import xxhash from "xxhash-wasm";

export type Checksum = (bytes: Uint8Array) => number;

/**
 * The one-shot hash copies its whole input into WASM memory, which never
 * shrinks: hashing a 100 MB checkpoint that way would keep 100 MB resident for
 * the life of the process. Inputs above this go through the streaming hasher in
 * pieces of this size (same result).
 */
const ONE_SHOT_BYTES = 1024 * 1024;

/** A checksum over bytes given in pieces: the same value as `checksum` of them joined. */
export interface ChecksumStream {
  update(bytes: Uint8Array): void;
  digest(): number;
}

let loaded: Promise<Checksum> | undefined;
let ready: Checksum | undefined;
let streaming: (() => ChecksumStream) | undefined;

export function loadChecksum(): Promise<Checksum> {
  loaded ??= xxhash().then((api) => {
    const h32 = api.h32Raw;
    streaming = () => {
      const hasher = api.create32(0);
      return {
        update: (bytes) => void hasher.update(bytes),
        digest: () => hasher.digest() >>> 0,
      };
    };
    ready = (bytes: Uint8Array) => {
      if (bytes.length <= ONE_SHOT_BYTES) return h32(bytes, 0) >>> 0;
      const hasher = api.create32(0);
      for (let at = 0; at < bytes.length; at += ONE_SHOT_BYTES) hasher.update(bytes.subarray(at, at + ONE_SHOT_BYTES));
      return hasher.digest() >>> 0;
    };
    return ready;
  });
  return loaded;
}

/** The loaded checksum; only valid after `loadChecksum()` resolved (open does that). */
export function checksum(bytes: Uint8Array): number {
  if (ready === undefined) throw new Error("seglog invariant broken: checksum used before open() loaded it");
  return ready(bytes);
}

/** A streaming checksum; only valid after `loadChecksum()` resolved. */
export function checksumStream(): ChecksumStream {
  if (streaming === undefined) throw new Error("seglog invariant broken: checksum used before open() loaded it");
  return streaming();
}
