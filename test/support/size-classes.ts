/**
 * Sizes for generated payloads, drawn where storage engines break: 0 and 1
 * byte, both sides of every buffer and block boundary the engine has, and
 * around the limits a caller configures. Every generator that writes (model
 * tests, the API fuzzer, the contract suites, the load test) draws from here,
 * so a new boundary in the engine is one line in `engineBoundaries`.
 */
import { GROUP_COMMIT_SOFT_LIMIT, RECORD_HEADER_BYTES, SCAN_CHUNK_BYTES, SEGMENT_HEADER_BYTES } from "../../engine/limits.js";

const KiB = 1024;

/** Byte counts at which some buffer of the engine changes: blocks, batch buffer doublings, read chunks, the group-commit limit. */
export function engineBoundaries(): number[] {
  const out = [4 * KiB, 8 * KiB, 12 * KiB]; // read-cache blocks, and records spanning two or three of them
  for (let b = 64 * KiB; b <= GROUP_COMMIT_SOFT_LIMIT * 2; b *= 2) out.push(b); // batch buffer, cursor fills, doublings
  out.push(SCAN_CHUNK_BYTES, GROUP_COMMIT_SOFT_LIMIT);
  return [...new Set(out)].sort((a, b) => a - b);
}

export interface SizeLimits {
  /** Largest payload a call may carry (what fits in maxRecordBytes after the record's own bytes). */
  maxPayload: number;
  segmentBytes?: number;
}

/** Every boundary below `maxPayload`, each with its neighbours, plus the payload limit's own. */
export function boundarySizes(limits: SizeLimits): number[] {
  const centres = [...engineBoundaries()];
  if (limits.segmentBytes !== undefined) centres.push(limits.segmentBytes - SEGMENT_HEADER_BYTES - RECORD_HEADER_BYTES, limits.segmentBytes / 2);
  const out = new Set<number>([0, 1, 2, limits.maxPayload - 1, limits.maxPayload]);
  for (const c of centres) for (const d of [-1, 0, 1]) if (c + d >= 0 && c + d <= limits.maxPayload) out.add(c + d);
  return [...out].sort((a, b) => a - b);
}

/**
 * One payload size: half small (0–600 bytes, where most real records are),
 * a third at a boundary up to `spread` (each ±1), a few at the payload limit
 * (the limit and one below, `limitShare` of the draws), the rest anywhere up
 * to `spread`. `spread` and `limitShare` let a suite bound its volume.
 */
export function drawSize(random: () => number, limits: SizeLimits, spread = limits.maxPayload, limitShare = 0.02): number {
  const r = random();
  if (r < 0.5) return Math.floor(random() * 601);
  if (r < 0.82) {
    const sizes = boundarySizes(limits).filter((s) => s <= Math.max(spread, 2) && s < limits.maxPayload - 1);
    return sizes[Math.floor(random() * sizes.length)]!;
  }
  if (r < 0.82 + limitShare) return limits.maxPayload - (random() < 0.5 ? 1 : 0);
  return Math.floor(random() * (Math.min(spread, limits.maxPayload) + 1));
}

/** The boundaries above `from` (large sizes a suite spends its volume on deliberately). */
export function largeSizes(limits: SizeLimits, from: number): number[] {
  return boundarySizes(limits).filter((s) => s > from);
}

/** Deterministic bytes of a given size (a seeded fill: cheap, and a wrong offset shows as a mismatch). */
export function patternBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s;
    out[i + 1] = s >>> 8;
    out[i + 2] = s >>> 16;
    out[i + 3] = s >>> 24;
  }
  return out;
}
