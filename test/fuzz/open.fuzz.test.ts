/**
 * Fuzzing open() and the record decoders with damaged files (issue 7, point 4).
 *
 * Five template databases are built once through the public API (several
 * segments, every store, atomic appends, a compaction, a single large segment,
 * an almost empty one), closed with a checkpoint, and kept as bytes. Each case
 * writes one template afresh into a temporary directory with random damage:
 * cuts at any offset of the newest segment's last records, garbage after them,
 * bit flips anywhere (headers, frames, bodies, checkpoint), zeroed sectors,
 * files removed or zero-length, cut sealed segments, an older or foreign
 * checkpoint, leftover .cleaned / .tmp / LOCK files, forged headers, copied
 * segments. Then, for every case:
 *
 * - open() resolves or rejects with a SeglogError (CORRUPTION), never anything
 *   else, never hangs; a rejected open changes no segment or checkpoint and holds
 *   no lock; a read-only open changes no file at all and agrees with the writer's;
 * - every read of every store returns only values that were written (events
 *   byte-identical: data, ids, versions, positions, in order) or throws a
 *   SeglogError with a read error code (CORRUPTION, or the "not there" code of
 *   the method); verify() throws nothing but a SeglogError;
 * - when the damage is confined to the tail of the newest segment (judged from the
 *   bytes by the test's own frame check, support/fuzz-damage.ts), the database
 *   shows exactly the template's state after its last complete atomic group
 *   before the damage, and verify() is ok;
 * - in some cases an append after open, then close and reopen: the reopened
 *   database shows exactly what the first one showed.
 *
 * A second test cuts the newest segment of every template at every offset of its
 * last two records (deterministic), with the tail property checked each time.
 *
 * Replay a failing case: SEGLOG_SEED=<seed> npm test -- test/fuzz/open.fuzz.test.ts
 * More cases: SEGLOG_FUZZ_CASES=<n>; other seeds: SEGLOG_FUZZ_BASE_SEED=<n>;
 * SEGLOG_FUZZ_SWEEP=0 leaves the offset sweep out (npm run soak repeats only the random cases).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { open, SeglogError } from "../../engine/index.js";
import { CHECKPOINT_FILE } from "../support/damage.js";
import { caseSeeds, canon, describeError, show, FuzzViolation, fuzzCases, fuzzTempRoot, Rng, runCases, violation, withTimeout } from "../support/fuzz.js";
import { damage, judge, type Expectation, type Files } from "../support/fuzz-damage.js";
import {
  compactedTemplate,
  eventsTemplate,
  singleSegmentTemplate,
  storesTemplate,
  tinyTemplate,
  type Template,
} from "../support/fuzz-templates.js";
import { attempt, CALL_TIMEOUT_MS, checkOnlyWrittenValues, dumpDatabase, firstDifference, type Dump } from "../support/store-dump.js";

type Database = Awaited<ReturnType<typeof open>>;

/** Random cases (the offset sweep adds about 1,150 more). */
const CASES = fuzzCases(3900);
/** Records at the end of each template's newest segment whose every offset is cut. */
const SWEEP_RECORDS = 2;
const SWEEP = process.env.SEGLOG_FUZZ_SWEEP !== "0" && (process.env.SEGLOG_SEED ?? "") === "";
const PROBE_STREAM = "fuzz-probe";

let root: string;
let templates: Template[];
const tally = new Map<string, number>();
function count(what: string): void {
  tally.set(what, (tally.get(what) ?? 0) + 1);
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(fuzzTempRoot(), "seglog-open-fuzz-"));
  const started = Date.now();
  templates = [await eventsTemplate(), await storesTemplate(), await compactedTemplate(), await singleSegmentTemplate(), await tinyTemplate()];
  process.stdout.write(`open fuzz: ${templates.length} templates built in ${Date.now() - started} ms\n`);
  // The layouts the damage relies on.
  const [events, stores, compacted, single, tiny] = templates;
  for (const t of [events!, stores!, compacted!]) {
    expect(t.segments.length).toBeGreaterThanOrEqual(4);
    expect(t.olderCheckpoints.length).toBeGreaterThanOrEqual(2);
  }
  expect(single!.segments).toHaveLength(1);
  expect(tiny!.segments).toHaveLength(1);
  for (const t of templates) expect(t.files.has(CHECKPOINT_FILE)).toBe(true);
  // The compaction rewrote sealed segments (generation 1), and the appends after it
  // span at least two segments, so a tail cut never reaches back into it: the state
  // at the end of the second newest segment is known (as for every template).
  expect(compacted!.files.get(compacted!.segments[0]!)!.readUInt32LE(16)).toBe(1);
  for (const t of [events!, stores!, compacted!]) {
    const second = t.segments.at(-2)!;
    expect(t.states.has(`${Number(second.slice(0, 20))}:${t.files.get(second)!.length}`)).toBe(true);
  }
}, 300_000);

afterAll(() => {
  if (root !== undefined) fs.rmSync(root, { recursive: true, force: true });
  if (tally.size > 0) {
    const lines = [...tally].sort().map(([k, v]) => `  ${k}: ${v}`);
    process.stdout.write(`open fuzz outcomes:\n${lines.join("\n")}\n`);
  }
});

describe("open() on damaged files", () => {
  test("resolves or rejects with a SeglogError, shows only written data, and keeps every intact atomic group before a torn tail", async () => {
    const seeds = caseSeeds("open", CASES);
    const result = await runCases("open fuzz", "test/fuzz/open.fuzz.test.ts", seeds, async (seed, describeCase) => {
      const rng = new Rng(seed);
      const t = rng.weighted<Template>([[3, templates[0]!], [3, templates[1]!], [2, templates[2]!], [1, templates[3]!], [1, templates[4]!]]);
      const damaged = await damage(t, templates, rng);
      describeCase(`${t.name}: ${damaged.actions.join("; ")}`);
      const expectation = await judge(t, damaged.files, damaged.actions);
      describeCase(`${t.name}: ${damaged.actions.join("; ")} (expect ${expectationText(expectation)})`);
      await runOpenCase(t, damaged.files, expectation, { readOnlyFirst: rng.chance(0.25), probe: rng.chance(0.2), seed });
    });
    process.stdout.write(`open fuzz: ${result.ran} random cases in ${result.ms} ms\n`);
  }, 600_000);

  test("a cut at every offset of the newest segment's last two records keeps every earlier atomic group and verify() is ok", async () => {
    if (!SWEEP) return;
    const failures: string[] = [];
    const started = Date.now();
    let cases = 0;
    for (const t of templates) {
      const newest = t.segments.at(-1)!;
      const records = t.records.get(newest)!;
      const original = t.files.get(newest)!;
      const from = records.length >= SWEEP_RECORDS ? records[records.length - SWEEP_RECORDS]!.offset : 0;
      for (let at = from; at < original.length; at++) {
        const files: Files = new Map(t.files);
        files.set(newest, original.subarray(0, at));
        const expectation = await judge(t, files);
        cases++;
        try {
          if (expectation.kind !== "exact") violation(`the test judged a plain cut as ${expectationText(expectation)}`);
          await runOpenCase(t, files, expectation, { readOnlyFirst: false, probe: false, seed: at });
        } catch (err) {
          failures.push(`${t.name}: ${newest} cut to ${at} bytes: ${err instanceof FuzzViolation ? err.message : describeError(err)}`);
          if (failures.length >= 5) break;
        }
      }
    }
    process.stdout.write(`open fuzz: ${cases} offset-sweep cases in ${Date.now() - started} ms\n`);
    if (failures.length > 0) throw new Error(`offset sweep: ${failures.length} failing cut(s):\n${failures.join("\n")}`);
  }, 600_000);
});

function expectationText(e: Expectation): string {
  if (e.kind === "exact") return `exactly the state at log end ${e.logEnd}`;
  return e.kind === "written" ? `only written data: ${e.why}` : `only SeglogErrors: ${e.why}`;
}

interface CaseOptions {
  readOnlyFirst: boolean;
  probe: boolean;
  seed: number;
}

/** Writes the files, opens (read-only first, maybe), checks every property, and cleans up. */
async function runOpenCase(t: Template, files: Files, expectation: Expectation, o: CaseOptions): Promise<void> {
  const dir = fs.mkdtempSync(path.join(root, "case-"));
  try {
    for (const [name, bytes] of files) fs.writeFileSync(path.join(dir, name), bytes);
    const options = { ...t.options, clock: () => t.now };
    const keys = t.keys;
    let readOnlyView: Dump | undefined;
    let readOnlyCode: string | undefined;
    if (o.readOnlyFirst) {
      const ro = await openOutcome(dir, { ...options, readOnly: true });
      if (ro.db !== undefined) {
        try {
          const d = await dumpDatabase(ro.db, keys);
          checkDump(d, t, expectation, "read-only open");
          readOnlyView = d;
        } finally {
          await closeDb(ro.db);
        }
      } else readOnlyCode = ro.code;
      const changed = changedFiles(dir, files, () => true);
      if (changed !== undefined) violation(`a read-only open changed ${changed}`);
    }
    const w = await openOutcome(dir, options);
    if (w.db === undefined) {
      count(`open rejected with ${w.code}`);
      if (expectation.kind === "exact") violation(`open rejected a database whose only damage is a torn tail, with ${w.code}`);
      if (w.code !== "CORRUPTION") violation(`open rejected with ${w.code}, not CORRUPTION`);
      if (readOnlyView !== undefined) violation(`a read-only open succeeded where the writer's open failed with ${w.code}`);
      const changed = changedFiles(dir, files, (name) => /\.seg$/.test(name) || name === CHECKPOINT_FILE);
      if (changed !== undefined) violation(`the rejected open changed ${changed}`);
      // No lock is left behind: the same answer again, not LOCKED.
      const again = await openOutcome(dir, options);
      if (again.db !== undefined) {
        await closeDb(again.db);
        violation("a second open succeeded where the first was rejected");
      }
      if (again.code !== w.code) violation(`a second open rejected with ${again.code}, the first with ${w.code}`);
      return;
    }
    count(`opened, ${expectation.kind === "exact" ? "exact state" : expectation.kind === "written" ? "only written data" : "only SeglogErrors"} expected`);
    if (readOnlyCode !== undefined) {
      await closeDb(w.db);
      violation(`the writer's open succeeded where a read-only open failed with ${readOnlyCode}`);
    }
    let db: Database | undefined = w.db;
    try {
      const health = db.health();
      if (!health.ok || health.state !== "open") violation(`health() after open is ${JSON.stringify(health)}`);
      const d = await dumpDatabase(db, keys);
      checkDump(d, t, expectation, "open");
      if (readOnlyView !== undefined) {
        const diff = firstDifference(readOnlyView, d);
        if (diff !== undefined) violation(`the read-only and the writer's open show different data: ${diff}`);
      }
      await checkVerify(db, expectation);
      if (!o.probe) return;
      // An append after open, then the same view after close and reopen.
      const probe = await attempt("events.append(probe)", () => db!.events.append(PROBE_STREAM, [{ id: `probe-${o.seed}`, type: "Probe", data: { seed: o.seed } }]));
      if (!probe.ok) {
        count(`probe append rejected with ${probe.code}`);
        if (expectation.kind === "exact") violation(`an append after open rejected with ${probe.code}`);
      }
      const probeKeys = { ...keys, streams: [...keys.streams, PROBE_STREAM] };
      const before = await dumpDatabase(db, probeKeys);
      const probeRead = before.events.streams[PROBE_STREAM]!.read;
      if (probe.ok && !(probeRead.ok && (probeRead.v as { id: string }[]).map((e) => e.id).join() === `probe-${o.seed}`)) {
        violation(`the appended probe event does not read back: ${show(probeRead)}`);
      }
      await closeDb(db);
      db = undefined;
      const again = await openOutcome(dir, options);
      if (again.db === undefined) violation(`the reopen after a successful open rejected with ${again.code}`);
      db = again.db;
      const after = await dumpDatabase(db, probeKeys);
      const diff = firstDifference(before, after);
      if (diff !== undefined) violation(`the reopened database shows other data than before the close: ${diff}`);
      await checkVerify(db, expectation);
    } finally {
      if (db !== undefined) await closeDb(db);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function checkDump(d: Dump, t: Template, expectation: Expectation, what: string): void {
  if (expectation.kind === "exact") {
    const diff = canon(d) === expectation.state.canon ? undefined : firstDifference(expectation.state.dump, d);
    if (diff !== undefined) violation(`after a torn tail, ${what} does not show the state at log end ${expectation.logEnd}: ${diff}`);
  } else if (expectation.kind === "written") checkOnlyWrittenValues(d, t.written);
}

async function checkVerify(db: Database, expectation: Expectation): Promise<void> {
  const v = await attempt("verify()", () => db.verify());
  if (!v.ok) {
    if (v.code !== "CORRUPTION" && v.code !== "IO_ERROR") violation(`verify() rejected with ${v.code}`);
    if (expectation.kind === "exact") violation(`verify() rejected with ${v.code} after only a torn tail`);
    return;
  }
  const report = v.v as { ok: boolean; problems: string[] };
  if (expectation.kind === "exact" && (!report.ok || report.problems.length > 0)) {
    violation(`verify() after only a torn tail is not ok: ${JSON.stringify(report.problems).slice(0, 400)}`);
  }
  if (!report.ok && report.problems.length === 0) violation("verify() says not ok but lists no problem");
}

async function openOutcome(dir: string, options: object): Promise<{ db?: Database; code?: string }> {
  try {
    return { db: await withTimeout(open(dir, options), CALL_TIMEOUT_MS, "open()") };
  } catch (err) {
    if (err instanceof FuzzViolation) throw err;
    if (err instanceof SeglogError) return { code: err.code };
    return violation(`open() threw something other than a SeglogError: ${describeError(err)}`);
  }
}

async function closeDb(db: Database): Promise<void> {
  try {
    await withTimeout(db.close(), CALL_TIMEOUT_MS, "close()");
  } catch (err) {
    if (err instanceof FuzzViolation) throw err;
    violation(`close() rejected: ${describeError(err)}`);
  }
}

/** The first file (of those `which` selects) whose bytes differ from `files`, or that appeared or vanished. */
function changedFiles(dir: string, files: Files, which: (name: string) => boolean): string | undefined {
  const now = new Map(fs.readdirSync(dir).filter(which).map((n) => [n, fs.readFileSync(path.join(dir, n))]));
  for (const [name, bytes] of files) {
    if (!which(name)) continue;
    const current = now.get(name);
    if (current === undefined) return `${name} (removed)`;
    if (!current.equals(bytes)) return `${name} (${bytes.length} → ${current.length} bytes)`;
  }
  for (const name of now.keys()) if (!files.has(name)) return `${name} (created)`;
  return undefined;
}
