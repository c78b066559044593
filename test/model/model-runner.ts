/**
 * The engine of the model-based tests: runs a random sequence of steps against
 * the real database on the crashing in-memory file system and against a model,
 * and fails with the seed and the steps so far when they disagree.
 *
 * A crash (at a random write, in 15% of the steps) leaves the call in flight
 * undecided: afterwards the engine may follow the model with or without it.
 * The runner keeps every model the engine may still be following and drops the
 * ones that later reads contradict.
 */
import { open, SeglogError } from "../../engine/index.js";
import type { Database } from "../../engine/index.js";
import { MemoryFileSystem } from "../../engine/io/memory-file-system.js";

export type Outcome<M> = { ok: true; next: M } | { ok: false; code: string };

export interface Step<M> {
  describe: string;
  /** What the model says; undefined for steps that change no modelled state. */
  predict(model: M): Outcome<M> | undefined;
  /** Undefined: the step is a close and reopen. */
  run: ((db: Database) => Promise<unknown>) | undefined;
}

export interface ModelSpec<M> {
  initial(): M;
  randomStep(random: () => number, model: M): Step<M>;
  /** The first difference between what the engine shows and the model, or undefined. */
  disagreement(db: Database, model: M): Promise<string | undefined>;
}

const DIR = "/db";
const OPTIONS = { segmentBytes: 4096, maxRecordBytes: 2048 };

export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/**
 * Seeds to run: SEGLOG_MODEL_SEED replays one; SEGLOG_MODEL_SEQUENCES sets how
 * many; SEGLOG_MODEL_BASE_SEED moves them (the soak script draws a new one each round).
 */
export function modelSeeds(defaultBase: number, defaultCount: number): number[] {
  const only = process.env.SEGLOG_MODEL_SEED;
  if (only !== undefined) return [Number(only)];
  const moved = process.env.SEGLOG_MODEL_BASE_SEED;
  const base = moved === undefined ? defaultBase : (Number(moved) ^ defaultBase) >>> 0;
  const count = Number(process.env.SEGLOG_MODEL_SEQUENCES ?? defaultCount);
  return Array.from({ length: count }, (_, i) => (base + i * 7919) >>> 0);
}

export async function runSequence<M>(seed: number, steps: number, spec: ModelSpec<M>): Promise<void> {
  const r = seededRandom(seed);
  const fs = new MemoryFileSystem();
  const reopen = () => open(DIR, { ...OPTIONS, fileSystem: fs });
  let db = await reopen();
  let candidates = [spec.initial()];
  const history: string[] = [];
  const fail = (why: string): never => {
    throw new Error(`seed ${seed}: ${why}\n  steps: ${history.join(" | ")}\n  replay: SEGLOG_MODEL_SEED=${seed} npm test -- test/model`);
  };
  for (let i = 0; i < steps; i++) {
    const step = spec.randomStep(r, candidates[0]!);
    const crash = r() < 0.15;
    history.push(`${crash ? "CRASH " : ""}${step.describe}`);
    if (crash) fs.crashAfter(1 + Math.floor(r() * 4));
    let error: unknown;
    if (step.run === undefined) {
      await db.close().catch(() => undefined);
      if (!fs.hasCrashed) db = await reopen();
    } else {
      try {
        await step.run(db);
      } catch (e) {
        error = e;
      }
    }
    let next: M[] = [];
    if (fs.hasCrashed) {
      // Power comes back; a random prefix of unsynced appended bytes may survive.
      await db.close().catch(() => undefined);
      fs.restart((extra) => (r() < 0.5 ? 0 : Math.floor(r() * (extra + 1))));
      db = await reopen();
      for (const m of candidates) {
        next.push(m);
        const p = step.predict(m);
        if (p?.ok) next.push(p.next);
      }
    } else {
      fs.crashAfter(-1);
      if (error !== undefined && !(error instanceof SeglogError)) fail(`${step.describe} threw a non-SeglogError: ${String(error)}`);
      const code = error === undefined ? undefined : (error as SeglogError).code;
      const outcomes: string[] = [];
      for (const m of candidates) {
        const p = step.predict(m);
        const said = p === undefined || p.ok ? undefined : p.code;
        outcomes.push(said ?? "ok");
        if (said === code) next.push(p?.ok ? p.next : m);
      }
      if (next.length === 0) fail(`${step.describe} gave ${code ?? "ok"}${error ? ` (${(error as Error).message})` : ""}, the model says ${outcomes.join(" or ")}`);
    }
    const kept: M[] = [];
    const differences: string[] = [];
    for (const m of next) {
      const d = await spec.disagreement(db, m);
      if (d === undefined) kept.push(m);
      else differences.push(d);
    }
    if (kept.length === 0) fail(differences.join(" / "));
    candidates = kept;
  }
  const report = await db.verify();
  if (!report.ok) fail(`verify: ${report.problems.join("; ")}`);
  await db.close();
}
