/**
 * The engine of the model-based tests: runs a random sequence of steps against
 * the real database on the crashing in-memory file system and against a model,
 * and fails with the seed and the steps so far when they disagree.
 *
 * A crash (at a random write, in 15% of the steps) leaves the call in flight
 * undecided: afterwards the engine may follow the model with or without it.
 * The runner keeps every model the engine may still be following and drops the
 * ones that later reads contradict.
 *
 * A group step issues several calls at once, none awaiting another (the way a
 * server under load calls): the model decides each outcome in call order, and
 * every call must settle with exactly the code the model gives it. Groups run
 * without a crash: a crash would leave every call of the group undecided.
 */
import { open } from "../../engine/database.js";
import { SeglogError } from "../../engine/index.js";
import type { Database } from "../../engine/index.js";
import { MemoryFileSystem } from "../support/memory-file-system.js";

export type Outcome<M> = { ok: true; next: M } | { ok: false; code: string };

export interface Step<M> {
  describe: string;
  /** What the model says; undefined for steps that change no modelled state. */
  predict(model: M): Outcome<M> | undefined;
  /** Undefined: the step is a close and reopen. */
  run: ((db: Database) => Promise<unknown>) | undefined;
  /** A group: these steps' calls are all issued before any is awaited (`run` and `predict` unused). */
  parts?: Step<M>[];
}

/** Several steps issued at once, decided in call order. */
export function group<M>(parts: Step<M>[]): Step<M> {
  return { describe: `group[${parts.map((p) => p.describe).join("; ")}]`, predict: () => undefined, run: undefined, parts };
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
    if (step.parts !== undefined) {
      history.push(step.describe);
      candidates = await runGroup(db, step.parts, candidates, fail);
      const kept = await agreeing(db, spec, candidates);
      if (kept.models.length === 0) fail(kept.differences.join(" / "));
      candidates = kept.models;
      continue;
    }
    const crash = r() < 0.15;
    history.push(`${crash ? "CRASH " : ""}${step.describe}`);
    if (crash) fs.crashAfter(1 + Math.floor(r() * 4));
    let error: unknown;
    if (step.run === undefined) {
      // A close may fail only because the machine crashed under it.
      const closeError = await db.close().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (closeError !== undefined && !fs.hasCrashed) fail(`close failed without a crash: ${String(closeError)}`);
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
    const kept = await agreeing(db, spec, next);
    if (kept.models.length === 0) fail(kept.differences.join(" / "));
    candidates = kept.models;
  }
  const report = await db.verify();
  if (!report.ok) fail(`verify: ${report.problems.join("; ")}`);
  await db.close();
}

async function agreeing<M>(db: Database, spec: ModelSpec<M>, models: M[]): Promise<{ models: M[]; differences: string[] }> {
  const kept: M[] = [];
  const differences: string[] = [];
  for (const m of models) {
    const d = await spec.disagreement(db, m);
    if (d === undefined) kept.push(m);
    else differences.push(d);
  }
  return { models: kept, differences };
}

/** Issues every part before awaiting any; keeps the models under which each part settled as predicted, in call order. */
async function runGroup<M>(db: Database, parts: Step<M>[], candidates: M[], fail: (why: string) => never): Promise<M[]> {
  const calls = parts.map((p) => {
    try {
      return p.run!(db);
    } catch (e) {
      return Promise.reject(e);
    }
  });
  const settled = await Promise.allSettled(calls);
  const codes = settled.map((s, k) => {
    if (s.status === "fulfilled") return "ok";
    if (!(s.reason instanceof SeglogError)) fail(`${parts[k]!.describe} (in a group) threw a non-SeglogError: ${String(s.reason)}`);
    return (s.reason as SeglogError).code;
  });
  const next: M[] = [];
  const said: string[] = [];
  for (let m of candidates) {
    const predicted: string[] = [];
    let agrees = true;
    for (const [k, part] of parts.entries()) {
      const p = part.predict(m);
      const code = p === undefined || p.ok ? "ok" : p.code;
      predicted.push(code);
      if (code !== codes[k]) agrees = false;
      if (p?.ok) m = p.next;
    }
    if (agrees) next.push(m);
    said.push(predicted.join(","));
  }
  if (next.length === 0) fail(`a group settled ${codes.join(",")}, the model says ${said.join(" or ")}`);
  return next;
}
