/**
 * Record and file checksums: xxHash32 (xxhash-wasm). The WASM module initialises
 * asynchronously, so open() awaits `loadChecksum()` before any record is framed.
 */
import xxhash from "xxhash-wasm";

export type Checksum = (bytes: Uint8Array) => number;

let loaded: Promise<Checksum> | undefined;
let ready: Checksum | undefined;

export function loadChecksum(): Promise<Checksum> {
  loaded ??= xxhash().then((api) => {
    const h32 = api.h32Raw;
    ready = (bytes: Uint8Array) => h32(bytes, 0) >>> 0;
    return ready;
  });
  return loaded;
}

/** The loaded checksum; only valid after `loadChecksum()` resolved (open does that). */
export function checksum(bytes: Uint8Array): number {
  if (ready === undefined) throw new Error("seglog invariant broken: checksum used before open() loaded it");
  return ready(bytes);
}
