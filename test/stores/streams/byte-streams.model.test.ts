/**
 * Model-based random testing of db.streams: random sequences of creates,
 * forks, appends, closes, deletes, reopens and compactions, with crashes at a
 * random write or fsync, run against the real engine on the crashing in-memory
 * file system and against StreamModel. After every step they must agree on
 * every stream id (text, closed, NOT_FOUND or STREAM_DELETED). A crash leaves
 * the call in flight undecided: the engine must then match the model with or
 * without it. Forks, soft deletes and compaction together are where replay,
 * keep() and relocation must all line up.
 *
 * Replay one sequence: SEGLOG_MODEL_SEED=<seed> npm test -- test/stores/streams/byte-streams.model
 * More sequences: SEGLOG_MODEL_SEQUENCES=<n>.
 */
import { open } from "../../../engine/database.js";
import { SeglogError, type Database } from "../../../engine/index.js";
import { MemoryFileSystem } from "../../support/memory-file-system.js";
import { modelSeeds } from "../../model/model-runner.js";
import { StreamModel, type Outcome } from "./stream-model.js";

const SEQUENCES = Number(process.env.SEGLOG_MODEL_SEQUENCES ?? 150);
const STEPS = 40;
const IDS = ["a", "b", "c", "d", "e"];
const DIR = "/db";
const OPTIONS = { segmentBytes: 4096, maxRecordBytes: 1024 };

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

interface Step {
  describe: string;
  /** undefined: the step changes nothing the model keeps. */
  predict(m: StreamModel): Outcome | undefined;
  run(db: Database): Promise<unknown>;
}

function randomStep(r: () => number, model: StreamModel, counter: { n: number }): Step {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const live = IDS.filter((x) => typeof model.status(x) !== "string");
  // Mostly act on streams that exist, so that sequences build up state worth checking.
  const target = (): string => (live.length > 0 && r() < 0.85 ? pick(live) : pick(IDS));
  const kind = Math.floor(r() * 20);
  if (kind < 3) {
    const id = pick(IDS);
    return { describe: `create ${id}`, predict: (m) => m.create(id), run: (db) => db.streams.create(id, { contentType: "text/plain" }) };
  }
  if (kind < 6) {
    const from = target();
    const id = pick(IDS.filter((x) => x !== from));
    return { describe: `fork ${id} from ${from}`, predict: (m) => m.fork(id, from), run: (db) => db.streams.ensure(id, { fork: { from } }) };
  }
  if (kind < 14) {
    const id = target();
    const data = `<${counter.n++}${"x".repeat(Math.floor(r() * 300))}>`;
    return { describe: `append ${id} ${data.length}B`, predict: (m) => m.append(id, data), run: (db) => db.streams.append(id, data) };
  }
  if (kind < 15) {
    const id = target();
    return { describe: `close ${id}`, predict: (m) => m.close(id), run: (db) => db.streams.close(id) };
  }
  if (kind < 17) {
    const id = target();
    return { describe: `delete ${id}`, predict: (m) => m.delete(id), run: (db) => db.streams.delete(id) };
  }
  if (kind < 19) return { describe: "compact", predict: () => undefined, run: (db) => db.compact() };
  return { describe: "reopen", predict: () => undefined, run: async () => undefined };
}

/** Where the engine and a model disagree, or undefined. */
async function disagreement(db: Database, m: StreamModel): Promise<string | undefined> {
  for (const id of IDS) {
    const expected = m.status(id);
    let actual: string;
    try {
      const info = db.streams.getMetadata(id);
      const text = new TextDecoder().decode((await db.streams.read(id)).data);
      actual = JSON.stringify({ text, closed: info.closed });
    } catch (err) {
      if (!(err instanceof SeglogError)) throw err;
      actual = err.code;
    }
    const want = typeof expected === "string" ? expected : JSON.stringify({ text: expected.text, closed: expected.closed });
    if (actual !== want) return `${id}: engine ${actual.slice(0, 120)}, model ${want.slice(0, 120)}`;
  }
  return undefined;
}

async function narrow(db: Database, candidates: StreamModel[]): Promise<{ kept: StreamModel[]; differences: string[] }> {
  const kept: StreamModel[] = [];
  const differences: string[] = [];
  for (const m of candidates) {
    const d = await disagreement(db, m);
    if (d === undefined) kept.push(m);
    else differences.push(d);
  }
  return { kept, differences };
}

async function runSequence(seed: number): Promise<void> {
  const r = rng(seed);
  const fs = new MemoryFileSystem();
  const reopen = () => open(DIR, { ...OPTIONS, fileSystem: fs });
  let db = await reopen();
  let candidates = [new StreamModel()];
  const counter = { n: 0 };
  const history: string[] = [];
  const fail = (why: string): never => {
    throw new Error(`seed ${seed}: ${why}\n  after: ${history.join(" | ")}`);
  };
  for (let i = 0; i < STEPS; i++) {
    const step = randomStep(r, candidates[0]!, counter);
    const crash = r() < 0.12;
    history.push(`${crash ? "CRASH " : ""}${step.describe}`);
    if (crash) fs.crashAfter(1 + Math.floor(r() * 6));
    let error: unknown;
    try {
      if (step.describe === "reopen") {
        await db.close();
        db = await reopen();
      } else {
        await step.run(db);
      }
    } catch (e) {
      error = e;
    }
    if (fs.hasCrashed) {
      await db.close().catch(() => undefined);
      fs.restart((extra) => (r() < 0.5 ? 0 : Math.floor(r() * (extra + 1))));
      db = await reopen();
      const next: StreamModel[] = [];
      for (const m of candidates) {
        next.push(m);
        const p = step.predict(m);
        if (p?.ok) next.push(p.next);
      }
      const { kept, differences } = await narrow(db, next);
      if (kept.length === 0) fail(`after a crash the engine matches no possible outcome: ${differences.join(" / ")}`);
      candidates = kept;
      continue;
    }
    fs.crashAfter(-1);
    if (error !== undefined && !(error instanceof SeglogError)) fail(`${step.describe} threw ${String((error as Error)?.stack ?? error)}`);
    const code = (error as SeglogError | undefined)?.code;
    const next: StreamModel[] = [];
    const outcomes: string[] = [];
    for (const m of candidates) {
      const p = step.predict(m);
      const predicted = p === undefined || p.ok ? "ok" : p.code;
      outcomes.push(predicted);
      if ((code ?? "ok") === predicted) next.push(p === undefined ? m : p.ok ? p.next : m);
    }
    if (next.length === 0) fail(`${step.describe} gave ${code ?? "ok"}${error ? ` (${(error as Error).message})` : ""}; the model says ${outcomes.join(" or ")}`);
    const { kept, differences } = await narrow(db, next);
    if (kept.length === 0) fail(differences.join(" / "));
    candidates = kept;
  }
  const report = await db.verify();
  if (!report.ok) fail(`verify: ${report.problems.join("; ")}`);
  await db.close();
}

describe("db.streams against its model, with crashes at random writes", () => {
  const seeds = modelSeeds(0x5eed, SEQUENCES);

  it(`${seeds.length} random sequences of ${STEPS} steps agree with the model after every step and every crash`, async () => {
    for (const seed of seeds) await runSequence(seed);
  }, 600_000);
});
