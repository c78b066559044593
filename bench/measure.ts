/**
 * Timing and resource helpers shared by the workloads: per-call latency samples
 * with percentiles, resident memory after a full GC, and bytes on disk.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Per-call latencies in milliseconds, recorded into a preallocated array. */
export class Latencies {
  private readonly samples: Float64Array;
  private n = 0;

  constructor(capacity: number) {
    this.samples = new Float64Array(capacity);
  }

  add(ms: number): void {
    if (this.n < this.samples.length) this.samples[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): { p50Ms: number; p99Ms: number; maxMs: number; meanMs: number } {
    const s = this.samples.slice(0, this.n).sort();
    const at = (q: number) => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
    let sum = 0;
    for (const x of s) sum += x;
    return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(at(1)), meanMs: round(s.length === 0 ? 0 : sum / s.length) };
  }
}

export function now(): number {
  return performance.now();
}

/** Resident set size in bytes after a full GC (the child runs with --expose-gc). */
export function settledRss(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
  return process.memoryUsage().rss;
}

export function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) gc();
  return process.memoryUsage().heapUsed;
}

/** Apparent size (sum of file lengths) and allocated size (blocks) of every file under `dir`. */
export function diskUsage(dir: string): { bytes: number; allocatedBytes: number; files: number } {
  let bytes = 0;
  let allocatedBytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = diskUsage(path);
      bytes += sub.bytes;
      allocatedBytes += sub.allocatedBytes;
      files += sub.files;
    } else if (entry.isFile()) {
      const st = statSync(path);
      bytes += st.size;
      allocatedBytes += st.blocks * 512;
      files++;
    }
  }
  return { bytes, allocatedBytes, files };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
