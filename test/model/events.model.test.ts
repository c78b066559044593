/**
 * Model-based random testing: random sequences of event-store operations, closes,
 * reopens, compactions and crashes at a random write run against the real engine
 * on the crashing in-memory file system, and against EventModel. After every
 * step the two must agree on everything acknowledged. A crash leaves the call in
 * flight undecided: the engine must then match the model either with or without
 * that call.
 *
 * Replay one sequence: SEGLOG_MODEL_SEED=<seed> npm test -- test/model
 * More sequences: SEGLOG_MODEL_SEQUENCES=<n>.
 */
import { open, SeglogError } from "../../engine/index.js";
import type { Database } from "../../engine/index.js";
import { MemoryFileSystem } from "../../engine/io/memory-file-system.js";
import { EventModel, type Expected, type Outcome } from "./event-model.js";

const SEQUENCES = Number(process.env.SEGLOG_MODEL_SEQUENCES ?? 1000);
const STEPS = 24;
const STREAMS = ["a", "b", "c", "d"];
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
  /** What the model says; undefined for steps that change no modelled state. */
  predict(model: EventModel): Outcome | undefined;
  run(db: Database): Promise<unknown>;
}

function randomStep(r: () => number, model: EventModel): Step {
  const int = (n: number) => Math.floor(r() * n);
  const stream = STREAMS[int(STREAMS.length)]!;
  const expected = (): Expected => {
    const v = model.stream(stream).version;
    const pick = int(6);
    return pick === 0 ? "any" : pick === 1 ? "no_stream" : pick === 2 ? "stream_exists" : pick === 3 ? Math.max(-1, v + int(3) - 1) : v;
  };
  const kind = int(20);
  if (kind < 9) {
    const e = expected();
    const data = Array.from({ length: 1 + int(3) }, () => ({ n: int(1_000_000), pad: "x".repeat(int(120)) }));
    return {
      describe: `append ${stream} x${data.length} expected ${String(e)}`,
      predict: (m) => m.append([{ streamId: stream, data, expected: e }]),
      run: (db) => db.events.append(stream, data.map((d) => ({ type: "T", data: d })), { expectedVersion: e }),
    };
  }
  if (kind < 11) {
    const other = STREAMS[(STREAMS.indexOf(stream) + 1 + int(STREAMS.length - 1)) % STREAMS.length]!;
    const items = [stream, other].map((s) => ({ streamId: s, data: [{ n: int(1000) }], expected: (int(3) === 0 ? model.stream(s).version + 1 : "any") as Expected }));
    return {
      describe: `appendMany ${items.map((i) => `${i.streamId}@${String(i.expected)}`).join(",")}`,
      predict: (m) => m.append(items),
      run: (db) => db.events.appendMany(items.map((i) => ({ streamId: i.streamId, events: i.data.map((d) => ({ type: "T", data: d })), expectedVersion: i.expected }))),
    };
  }
  if (kind === 11) {
    const hard = int(4) === 0;
    return { describe: `delete ${stream}${hard ? " hard" : ""}`, predict: (m) => m.delete(stream, hard), run: (db) => db.events.deleteStream(stream, { hard }) };
  }
  if (kind === 12) {
    const before = int(model.stream(stream).version + 3);
    return { describe: `truncate ${stream} ${before}`, predict: (m) => m.truncate(stream, before), run: (db) => db.events.truncateStream(stream, before) };
  }
  if (kind === 13) {
    const maxCount = int(6);
    return { describe: `retain ${stream} ${maxCount}`, predict: (m) => m.retain(stream, maxCount), run: (db) => db.events.setStreamRetention(stream, { maxCount }) };
  }
  if (kind < 16) return { describe: "compact", predict: (m) => m.compacted(), run: (db) => db.compact() };
  return { describe: "reopen", predict: () => undefined, run: async () => undefined };
}

/** Describes the first disagreement between the engine and the model, or undefined. */
async function disagreement(db: Database, model: EventModel): Promise<string | undefined> {
  const expectedList = STREAMS.filter((s) => model.exists(s)).sort();
  const list = db.events.listStreams();
  if (JSON.stringify(list) !== JSON.stringify(expectedList)) return `listStreams ${JSON.stringify(list)} != ${JSON.stringify(expectedList)}`;
  const visibleAll: string[] = [];
  for (const s of STREAMS) {
    const m = model.stream(s);
    if (db.events.streamVersion(s) !== m.version) return `streamVersion(${s}) ${db.events.streamVersion(s)} != ${m.version}`;
    if (db.events.streamExists(s) !== model.exists(s)) return `streamExists(${s}) differs`;
    if (m.state === "hard") {
      const err = await db.events.readStream(s).then(() => undefined, (e: unknown) => e);
      if (!(err instanceof SeglogError) || err.code !== "STREAM_DELETED") return `readStream(${s}) of a hard-deleted stream did not reject STREAM_DELETED`;
      continue;
    }
    const events = await db.events.readStream(s);
    const got = events.map((e) => [e.version, e.data]);
    const want = model.visible(s).map((v) => [v, m.data.get(v)]);
    if (JSON.stringify(got) !== JSON.stringify(want)) return `readStream(${s}) ${JSON.stringify(got)} != ${JSON.stringify(want)}`;
    for (const v of model.visible(s)) visibleAll.push(`${s}@${v}`);
  }
  const all = await db.events.readAll();
  for (let i = 1; i < all.length; i++) if (all[i]!.position <= all[i - 1]!.position) return "readAll positions do not increase";
  const gotAll = all.map((e) => `${e.streamId}@${e.version}`).sort();
  if (JSON.stringify(gotAll) !== JSON.stringify(visibleAll.sort())) return `readAll ${gotAll.length} events != model ${visibleAll.length}`;
  return undefined;
}

/**
 * The models the engine may still be following. A crash leaves two (with and
 * without the call in flight) until later reads tell them apart; every step
 * keeps only the models that agree with what the engine did and shows.
 */
async function narrow(db: Database, candidates: EventModel[]): Promise<{ kept: EventModel[]; differences: string[] }> {
  const kept: EventModel[] = [];
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
  let db = await open(DIR, { ...OPTIONS, fileSystem: fs });
  let candidates = [new EventModel()];
  const history: string[] = [];
  const fail = (why: string) => {
    throw new Error(`seed ${seed}: ${why}\n  after: ${history.join(" | ")}`);
  };
  for (let i = 0; i < STEPS; i++) {
    const step = randomStep(r, candidates[0]!);
    const crash = r() < 0.15;
    history.push(`${crash ? "CRASH " : ""}${step.describe}`);
    if (crash) fs.crashAfter(1 + Math.floor(r() * 4));
    let error: unknown;
    if (step.describe === "reopen") {
      await db.close().catch(() => undefined);
      if (!fs.hasCrashed) db = await open(DIR, { ...OPTIONS, fileSystem: fs }).catch((e: unknown) => ((error = e), db));
    } else {
      try {
        await step.run(db);
      } catch (e) {
        error = e;
      }
    }
    if (fs.hasCrashed) {
      // Power comes back; a random prefix of unsynced appended bytes may survive.
      await db.close().catch(() => undefined);
      fs.restart((extra) => (r() < 0.5 ? 0 : Math.floor(r() * (extra + 1))));
      db = await open(DIR, { ...OPTIONS, fileSystem: fs });
      const next: EventModel[] = [];
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
    if (error !== undefined && !(error instanceof SeglogError)) fail(`${step.describe} threw a non-SeglogError: ${String(error)}`);
    const code = error === undefined ? undefined : (error as SeglogError).code;
    const next: EventModel[] = [];
    const outcomes: string[] = [];
    for (const m of candidates) {
      const p = step.predict(m);
      if (p === undefined) {
        if (code === undefined) next.push(m);
        outcomes.push("ok");
      } else if (p.ok) {
        if (code === undefined) next.push(p.next);
        outcomes.push("ok");
      } else {
        if (code === p.code) next.push(m);
        outcomes.push(p.code);
      }
    }
    if (next.length === 0) fail(`${step.describe} gave ${code ?? "ok"}${error ? ` (${(error as Error).message})` : ""}, the model says ${outcomes.join(" or ")}`);
    const { kept, differences } = await narrow(db, next);
    if (kept.length === 0) fail(differences.join(" / "));
    candidates = kept;
  }
  const report = await db.verify();
  if (!report.ok) fail(`verify: ${report.problems.join("; ")}`);
  await db.close();
}

describe("db.events against its model, with crashes at random writes", () => {
  const only = process.env.SEGLOG_MODEL_SEED;
  const seeds = only !== undefined ? [Number(only)] : Array.from({ length: SEQUENCES }, (_, i) => 0x9e3779b1 + i * 7919);

  it(`${seeds.length} random sequences of ${STEPS} steps agree with the model after every step and every crash`, async () => {
    for (const seed of seeds) await runSequence(seed);
  }, 600_000);
});
