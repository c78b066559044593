/**
 * Shared machinery of the *.fuzz.test.ts suites: a small seeded random number
 * generator, per-case seeds derived from one base seed, the case count, a
 * timeout guard (a fuzz case must never hang), a canonical form of values for
 * byte-exact comparison, and failure collection that prints the seed to replay.
 *
 * Seeds. Every case runs from its own 32-bit seed, derived from the suite's base
 * seed and the case number, so one case can be replayed alone:
 *
 *   SEGLOG_SEED=<case seed> npm test -- test/fuzz/<suite>.fuzz.test.ts
 *
 * SEGLOG_FUZZ_BASE_SEED changes the base seed (CI uses a fixed one, so a CI
 * failure reproduces; `npm run soak` passes fresh ones), SEGLOG_FUZZ_CASES the
 * number of cases per suite.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as util from "node:util";
import { Packr } from "msgpackr";
import { SeglogError } from "../../engine/index.js";

/** Cases per fuzz suite (each suite reads it; the default keeps CI inside its time budget). */
export function fuzzCases(fallback: number): number {
  const raw = process.env.SEGLOG_FUZZ_CASES;
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`SEGLOG_FUZZ_CASES must be a positive integer, not ${raw}`);
  return n;
}

export const DEFAULT_BASE_SEED = 20240607;

export function baseSeed(): number {
  const raw = process.env.SEGLOG_FUZZ_BASE_SEED;
  if (raw === undefined || raw === "") return DEFAULT_BASE_SEED;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`SEGLOG_FUZZ_BASE_SEED must be an integer, not ${raw}`);
  return n >>> 0;
}

/** The case seeds to run: the one of SEGLOG_SEED, or `count` derived from the base seed and the suite's name. */
export function caseSeeds(suite: string, count: number): number[] {
  const one = process.env.SEGLOG_SEED;
  if (one !== undefined && one !== "") {
    const n = Number(one);
    if (!Number.isSafeInteger(n)) throw new Error(`SEGLOG_SEED must be an integer, not ${one}`);
    return [n >>> 0];
  }
  const base = mix(baseSeed() ^ hashString(suite));
  const seeds: number[] = [];
  for (let i = 0; i < count; i++) seeds.push(mix(base + Math.imul(i + 1, 0x9e3779b9)));
  return seeds;
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A 32-bit finaliser (murmur3's), so neighbouring inputs give unrelated seeds. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** mulberry32: tiny, fast and good enough to pick damage and arguments. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Rng.pick from an empty list");
    return items[this.int(items.length)]!;
  }

  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((n, [w]) => n + w, 0);
    let r = this.next() * total;
    for (const [w, v] of choices) {
      r -= w;
      if (r < 0) return v;
    }
    return choices[choices.length - 1]![1];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** Thrown for a broken property; the runner adds the seed and re-throws at the end. */
export class FuzzViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FuzzViolation";
  }
}

export function violation(message: string): never {
  throw new FuzzViolation(message);
}

/** How an error that reached a property check is described: its class, code and message. */
export function describeError(err: unknown): string {
  if (err instanceof SeglogError) return `SeglogError ${err.code}: ${err.message}`;
  // util.types.isNativeError also knows errors made in another realm (Node's own, under jest's VM).
  if (err instanceof Error || util.types.isNativeError(err)) {
    const e = err as Error;
    return `${e.constructor?.name ?? "Error"}: ${e.message}${e.stack ? `\n${e.stack.split("\n").slice(1, 6).join("\n")}` : ""}`;
  }
  return `non-Error thrown: ${safeString(err)}`;
}

export function safeString(v: unknown): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

const TIMED_OUT = Symbol("timed out");

/** Rejects with a FuzzViolation when `p` does not settle within `ms` (a hang is a failure). */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    const r = await Promise.race([p, guard]);
    if (r === TIMED_OUT) violation(`${what} did not settle within ${ms} ms (hang)`);
    return r as T;
  } finally {
    clearTimeout(timer);
  }
}

/** msgpack with key order kept and no shared structures: equal encodings are equal values. */
const packr = new Packr({ useRecords: false, variableMapSize: false });

/**
 * A canonical form of a value for exact comparison: its msgpack encoding, which
 * keeps key order and tells bytes from arrays, Dates from numbers and undefined
 * from null, so two values with the same form are the same value byte for byte.
 * (It is fast, which matters: a fuzz case compares whole database dumps.)
 */
export function canon(value: unknown): string {
  return packr.pack(value).toString("latin1");
}

/**
 * A readable text form of a value for failure messages, shortened to `max`
 * characters. It never runs the value's own code: getters show as `get`, and a
 * Proxy whose traps throw shows as `?`; deep values are cut at six levels.
 */
export function show(value: unknown, max = 300): string {
  const out: string[] = [];
  try {
    write(value, out, 0, { left: max + 10 });
  } catch {
    out.push("?");
  }
  const text = out.join("");
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function write(v: unknown, out: string[], depth: number, budget: { left: number }): void {
  if (budget.left <= 0) return;
  const push = (s: string): void => {
    out.push(s);
    budget.left -= s.length;
  };
  switch (typeof v) {
    case "undefined":
      return push("u");
    case "boolean":
      return push(v ? "T" : "F");
    case "number":
      return push(Object.is(v, -0) ? "n-0" : `n${v}`);
    case "bigint":
      return push(`b${v}n`);
    case "string":
      return push(v.length > 60 ? `${JSON.stringify(v.slice(0, 60))}…(${v.length} chars)` : JSON.stringify(v));
    case "object":
      break;
    default:
      return push(`?${typeof v}`);
  }
  if (v === null) return push("N");
  if (depth > 6) return push("…");
  if (v instanceof Uint8Array) {
    const hex = Buffer.from(v.buffer, v.byteOffset, Math.min(v.byteLength, 24)).toString("hex");
    return push(`x${hex}${v.byteLength > 24 ? `…(${v.byteLength} bytes)` : ""};`);
  }
  if (v instanceof Date) return push(`d${v.getTime()}`);
  if (util.types.isProxy(v)) return push("Proxy?");
  const isArray = Array.isArray(v);
  const proto = Object.getPrototypeOf(v);
  push(isArray ? "[" : proto === Object.prototype || proto === null ? "{" : `{${(v as object).constructor?.name ?? "?"}:`);
  for (const key of Object.keys(v as object)) {
    if (budget.left <= 0) break;
    if (!isArray) push(`${JSON.stringify(key)}:`);
    const d = Object.getOwnPropertyDescriptor(v, key);
    if (d !== undefined && d.get !== undefined) push("get");
    else write(d?.value, out, depth + 1, budget);
    push(",");
  }
  push(isArray ? "]" : "}");
}

export interface CaseFailure {
  seed: number;
  description: string;
  error: string;
}

/**
 * Runs `count` cases (or the one of SEGLOG_SEED), each from its own seed, and
 * collects failures instead of stopping at the first, up to `maxFailures`. Throws
 * one error at the end that names every failing seed and how to replay it.
 */
export async function runCases(
  suite: string,
  file: string,
  seeds: number[],
  runCase: (seed: number, describe: (text: string) => void) => Promise<void>,
  maxFailures = Number(process.env.SEGLOG_FUZZ_MAX_FAILURES ?? 5),
): Promise<{ ran: number; ms: number }> {
  const failures: CaseFailure[] = [];
  const started = Date.now();
  let ran = 0;
  for (const seed of seeds) {
    let description = "";
    try {
      ran++;
      await runCase(seed, (text) => {
        description = text;
      });
    } catch (err) {
      failures.push({ seed, description, error: err instanceof FuzzViolation ? err.message : describeError(err) });
      if (failures.length >= maxFailures) break;
    }
  }
  const ms = Date.now() - started;
  if (failures.length > 0) {
    const lines = failures.map(
      (f) => `  SEGLOG_SEED=${f.seed}  ${f.description}\n    ${f.error.split("\n").join("\n    ")}`,
    );
    throw new Error(
      `${suite}: ${failures.length} failing case(s) of ${ran} run (base seed ${baseSeed()}).\n` +
        `Replay one with: SEGLOG_SEED=<seed> npm test -- ${file}\n${lines.join("\n")}`,
    );
  }
  return { ran, ms };
}

/**
 * Where fuzz cases put their files: SEGLOG_FUZZ_TMP, else /dev/shm when it is a
 * writable directory (a RAM file system: fsync costs nothing there, and these
 * suites test decoding and recovery logic, not the disk), else the system temp
 * directory.
 */
export function fuzzTempRoot(): string {
  const chosen = process.env.SEGLOG_FUZZ_TMP;
  if (chosen !== undefined && chosen !== "") return chosen;
  try {
    fs.accessSync("/dev/shm", fs.constants.W_OK);
    if (fs.statSync("/dev/shm").isDirectory()) return "/dev/shm";
  } catch {
    // No RAM file system here.
  }
  return os.tmpdir();
}
