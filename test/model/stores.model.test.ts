/**
 * Model-based random testing of db.objects and db.contexts on the shared log:
 * puts (duplicates included), deletes, context snapshots, deltas (replaced,
 * trimmed, deleted), compaction, reopen and crashes at random writes.
 * Replay one sequence: SEGLOG_MODEL_SEED=<seed> npm test -- test/model
 */
import { createHash } from "node:crypto";
import type { Database } from "../../engine/index.js";
import { boundarySizes, drawSize, patternBytes } from "../support/size-classes.js";
import { group, modelSeeds, runSequence, type ModelSpec, type Outcome, type Step } from "./model-runner.js";

/** maxRecordBytes 2048 (the runner's) less the 32-byte hash: the largest object. */
const MAX_OBJECT = 2048 - 32;
/** Object contents at every size class up to the limit, and one byte over it (TOO_LARGE). */
const CONTENTS = [...boundarySizes({ maxPayload: MAX_OBJECT, segmentBytes: 4096 }), 40, 137, 525, MAX_OBJECT + 1].map((n, i) => patternBytes(n, i + 1));
const CONTEXTS = ["c1", "c2", "c3"];

class StoresModel {
  constructor(
    readonly objects = new Map<string, Uint8Array>(),
    readonly contexts = new Map<string, { context: Record<string, unknown>; version: number }>(),
    readonly deltas = new Map<string, Map<number, Record<string, unknown>>>(),
  ) {}

  clone(): StoresModel {
    const deltas = new Map<string, Map<number, Record<string, unknown>>>();
    for (const [id, d] of this.deltas) deltas.set(id, new Map(d));
    return new StoresModel(new Map(this.objects), new Map(this.contexts), deltas);
  }

  with(change: (m: StoresModel) => void): Outcome<StoresModel> {
    const next = this.clone();
    change(next);
    return { ok: true, next };
  }
}

const hex = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function randomStep(r: () => number, _model?: StoresModel, inGroup = false): Step<StoresModel> {
  const int = (n: number) => Math.floor(r() * n);
  // A group: calls issued at once, decided in call order (no compaction or reopen inside).
  if (!inGroup && int(6) === 0) {
    const parts: Step<StoresModel>[] = [];
    for (let n = 2 + int(int(4) === 0 ? 40 : 10); parts.length < n; ) {
      const step = randomStep(r, undefined, true);
      if (step.run !== undefined && step.describe !== "compact") parts.push(step);
    }
    return group(parts);
  }
  const kind = int(20);
  const context = CONTEXTS[int(CONTEXTS.length)]!;
  if (kind < 5) {
    const content = CONTENTS[int(CONTENTS.length)]!;
    if (content.length > MAX_OBJECT) return { describe: `put ${content.length}b (too large)`, predict: () => ({ ok: false, code: "TOO_LARGE" }), run: (db) => db.objects.put(content) };
    return { describe: `put ${content.length}b`, predict: (m) => m.with((n) => n.objects.set(hex(content), content)), run: (db) => db.objects.put(content) };
  }
  if (kind < 7) {
    const hash = hex(CONTENTS[int(CONTENTS.length)]!);
    return { describe: `delete object ${hash.slice(0, 6)}`, predict: (m) => m.with((n) => n.objects.delete(hash)), run: (db) => db.objects.delete(hash) };
  }
  if (kind < 10) {
    const version = int(5);
    // Documents of every size class that fits beside the record's head.
    const value = { v: version, n: int(1000), pad: patternBytes(drawSize(r, { maxPayload: 2048 - 200 }), int(1000)) };
    return {
      describe: `setContext ${context} v${version}`,
      predict: (m) => m.with((n) => n.contexts.set(context, { context: value, version })),
      run: (db) => db.contexts.setContext(context, value, version),
    };
  }
  if (kind < 14) {
    const version = int(8);
    const value = { d: int(1000), pad: patternBytes(drawSize(r, { maxPayload: 2048 - 200 }), int(1000)) };
    return {
      describe: `setDelta ${context} v${version}`,
      predict: (m) =>
        m.with((n) => {
          const d = n.deltas.get(context) ?? new Map();
          d.set(version, value);
          n.deltas.set(context, d);
        }),
      run: (db) => db.contexts.setDelta(context, value, version),
    };
  }
  if (kind === 14) return { describe: `deleteContext ${context}`, predict: (m) => m.with((n) => n.contexts.delete(context)), run: (db) => db.contexts.deleteContext(context) };
  if (kind === 15) return { describe: `deleteDeltasForContext ${context}`, predict: (m) => m.with((n) => n.deltas.delete(context)), run: (db) => db.contexts.deleteDeltasForContext(context) };
  if (kind === 16) {
    const keep = int(4);
    return {
      describe: `deleteDeltasExceedingThreshold ${context} ${keep}`,
      predict: (m) =>
        m.with((n) => {
          const d = n.deltas.get(context);
          if (d === undefined) return;
          const newest = [...d.keys()].sort((a, b) => b - a).slice(0, keep);
          for (const v of [...d.keys()]) if (!newest.includes(v)) d.delete(v);
          if (d.size === 0) n.deltas.delete(context);
        }),
      run: (db) => db.contexts.deleteDeltasExceedingThreshold(context, keep),
    };
  }
  if (kind < 19) return { describe: "compact", predict: () => undefined, run: (db) => db.compact() };
  return { describe: "reopen", predict: () => undefined, run: undefined };
}

async function disagreement(db: Database, m: StoresModel): Promise<string | undefined> {
  const listed = db.objects.list().slice().sort();
  const expected = [...m.objects.keys()].sort();
  if (JSON.stringify(listed) !== JSON.stringify(expected)) return `objects.list ${listed.length} != ${expected.length}`;
  for (const [hash, bytes] of m.objects) {
    if (!db.objects.has(hash)) return `objects.has(${hash.slice(0, 6)}) false`;
    const got = await db.objects.get(hash);
    if (Buffer.compare(Buffer.from(got), Buffer.from(bytes)) !== 0) return `objects.get(${hash.slice(0, 6)}) differs`;
  }
  const contexts = (await db.contexts.listContexts()).map((c) => [c.contextId, c.version, c.context]);
  const wantContexts = [...m.contexts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, c]) => [id, c.version, c.context]);
  if (canon(contexts) !== canon(wantContexts)) return `listContexts ${canon(contexts).slice(0, 300)} != ${canon(wantContexts).slice(0, 300)}`;
  const deltas = (await db.contexts.listDeltas()).map((d) => [d.contextId, d.version, d.delta]);
  const wantDeltas: unknown[] = [];
  for (const id of [...m.deltas.keys()].sort()) for (const v of [...m.deltas.get(id)!.keys()].sort((a, b) => a - b)) wantDeltas.push([id, v, m.deltas.get(id)!.get(v)]);
  if (canon(deltas) !== canon(wantDeltas)) return `listDeltas ${canon(deltas).slice(0, 300)} != ${canon(wantDeltas).slice(0, 300)}`;
  return undefined;
}

/** JSON with bytes as base64, for comparing documents that hold Uint8Arrays. */
function canon(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString("base64")}` : v));
}

const spec: ModelSpec<StoresModel> = {
  initial: () => new StoresModel(),
  randomStep,
  disagreement,
};

describe("db.objects and db.contexts against their model, with crashes at random writes", () => {
  const seeds = modelSeeds(0x85ebca6b, 300);
  it(`${seeds.length} random sequences of 24 steps agree with the model after every step and every crash`, async () => {
    for (const seed of seeds) await runSequence(seed, 24, spec);
  }, 600_000);
});
