/**
 * `npm run bench`: the event store against better-sqlite3, lmdb-js and a plain
 * append-only file (the limit), workload by workload, side by side in one run.
 *
 * Every (store, workload) pair runs in a child process of its own
 * (bench/child.ts), one at a time, so no two stores share a heap or compete for
 * the two cores. Prints the tables, writes the JSON and, for a full run,
 * rewrites the "Event store vs SQLite and LMDB" section of docs/benchmarks.md.
 *
 *   node dist/bench/run.js [--quick] [--repeat N] [--only a,b,e] [--subjects seglog,lmdb] [--payload msgpack,bytes]
 *                          [--open-events 1000000,10000000] [--dir D] [--doc | --no-doc] [--render FILE]
 *
 * --repeat N: each timed workload (a–g) runs N times per store, the stores taking
 * turns, and the run with the median events/s is reported (the spread is kept);
 * on a machine shared with others this keeps one noisy moment from deciding a
 * ratio. Default 3 for a full run, 1 for --quick.
 *
 * --payload: which data the events carry (bench/data.ts), each measured in a run
 * of its own: msgpack objects, or opaque bytes; both by default, one after the
 * other, each with its own JSON (latest.json, latest-bytes.json) and doc section.
 *
 * --quick: fewer events (under a minute); writes bench/results/latest-quick.json
 * and leaves the doc alone unless --doc is given, so a development run never
 * replaces the published full run. --only or --subjects make a partial run:
 * bench/results/latest-partial.json, doc left alone. A full run writes
 * bench/results/latest.json and the doc section (unless --no-doc).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { dataBytesOf, makeEvent, PAYLOAD, STREAMS, streamIdOf } from "./data.js";
import { headingFor, sectionText, writeSection } from "./doc-section.js";
import { eventsFor, FULL, QUICK, type Sizes } from "./plan.js";
import { checkTargets, fix, footprintTable, int, targetsTable, throughputTable, type Entry, type Meta } from "./report.js";
import { encodeRecord } from "./subjects/record-codec.js";
import { SUBJECT_NAMES, type SubjectName } from "./subjects/subject.js";
import { WORKLOADS } from "./workloads/index.js";
import type { Workload } from "./workloads/workload.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");
const CHILD_TIMEOUT_MS = 15 * 60 * 1000;

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    repeat: { type: "string" },
    only: { type: "string" },
    subjects: { type: "string" },
    "open-events": { type: "string" },
    dir: { type: "string" },
    doc: { type: "boolean" },
    "no-doc": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
    render: { type: "string" },
    payload: { type: "string", default: "msgpack,bytes" },
  },
});
// One run per payload, each in a process of its own (the payload is fixed when bench/data.ts loads).
if (process.env.SEGLOG_BENCH_PAYLOAD === undefined && values.render === undefined && values.help !== true) {
  for (const payload of values.payload!.split(",")) {
    if (payload !== "msgpack" && payload !== "bytes") throw new Error(`--payload takes msgpack and/or bytes, got ${payload}`);
    console.log(`\n==== payload: ${payload} ====`);
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit", env: { ...process.env, SEGLOG_BENCH_PAYLOAD: payload } });
    if (r.status !== 0) process.exitCode = r.status ?? 1;
  }
  process.exit(process.exitCode ?? 0);
}
if (values.help) {
  console.log(
    "npm run bench -- [--quick] [--repeat N] [--only a,b,e] [--subjects seglog,sqlite,lmdb,plain-file]\n" +
      "                 [--open-events 1000000,10000000] [--dir D] [--doc | --no-doc] [--render FILE]\n" +
      "Runs each workload (a)-(j) against every subject, one child process each, and prints the tables;\n" +
      "a full run writes bench/results/latest.json and the results section of docs/benchmarks.md.\n" +
      "--render FILE prints the tables and rewrites the doc from a saved run without measuring.",
  );
  process.exit(0);
}

const quick = values.quick === true;
const sizes: Sizes = { ...(quick ? QUICK : FULL) };
if (values["open-events"] !== undefined) sizes.open = values["open-events"].split(",").map(Number);
const subjects = (values.subjects?.split(",") ?? SUBJECT_NAMES) as SubjectName[];
for (const s of subjects) if (!SUBJECT_NAMES.includes(s)) throw new Error(`unknown subject ${s}; known: ${SUBJECT_NAMES.join(", ")}`);
const letters = values.only?.split(",");
// Only a complete full run is "the latest run": a quick or partial one (--only,
// --subjects) writes its own JSON and leaves the doc alone unless --doc is given.
const partial = values.only !== undefined || values.subjects !== undefined;
const writeDoc = values["no-doc"] ? false : (values.doc ?? (!quick && !partial));
const repeat = Number(values.repeat ?? (quick ? 1 : 3));
if (!Number.isInteger(repeat) || repeat < 1) throw new Error("--repeat must be a whole number >= 1");
const root = values.dir ?? join(tmpdir(), `seglog-bench-${process.pid}`);

const selected = WORKLOADS.filter((w) => {
  if (letters === undefined) return true;
  if (w.id === "prepare-reads") return letters.some((l) => ["e", "f", "g"].includes(l));
  if (w.id === "prepare-open") return letters.includes("h") || letters.includes("i") || letters.includes("j");
  if (w.id === "open") return letters.some((l) => ["h", "i", "j"].includes(l));
  return letters.includes(w.letter);
});

// --render FILE: print the tables and rewrite the doc from a saved run instead of
// measuring (after a change to how results are reported, not to what is measured).
const saved = values.render === undefined ? undefined : (JSON.parse(readFileSync(values.render, "utf8")) as Meta & { entries: Entry[]; runs: Entry[] });
const raw: Entry[] = saved?.runs ?? [];
let meta: Meta;
if (saved !== undefined) {
  const { entries: _entries, runs: _runs, targets: _targets, schema: _schema, ...savedMeta } = saved as Meta & { entries: Entry[]; runs: Entry[]; targets: unknown; schema: number };
  meta = savedMeta;
} else {
  // The commit measured is the tree as the run starts (edits made while it runs are not in it).
  const commit = gitCommit();
  const loadStart = loadavg();
  const started = Date.now();
  await measure(raw);
  meta = {
    mode: quick ? "quick" : "full",
    payload: PAYLOAD,
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, memoryBytes: totalmem(), platform: platform(), release: release(), loadStart, loadEnd: loadavg() },
    node: process.version,
    commit,
    recordBytes: meanRecordBytes(),
    dataBytes: Math.round(dataBytesOf(makeEvent(123456))),
    sizes: { ...sizes },
    repeat,
    durationSeconds: (Date.now() - started) / 1000,
  };
}
const entries = medianRuns(raw);

const checks = checkTargets(entries);
console.log(`\nseglog event store vs better-sqlite3, lmdb-js and a plain file — ${meta.mode} run, ${meta.machine.cpu} × ${meta.machine.cores}, Node ${meta.node}, ${meta.commit.sha.slice(0, 12)}${meta.commit.dirty ? "+dirty" : ""}`);
console.log(`MB/s = events/s × ${meta.recordBytes} B (the plain file's record); seglog ÷ store > 1: seglog faster.\n`);
console.log(throughputTable(entries, meta.recordBytes));
console.log("");
console.log(footprintTable(entries));
console.log("");
console.log(targetsTable(checks));
for (const e of entries.filter((x) => x.error !== undefined)) console.log(`\n${e.subject} ${e.workload} failed:\n${e.error}`);

const suffix = (meta.payload ?? "msgpack") === "bytes" ? "-bytes" : "";
const jsonPath = values.render ?? join(repo, "bench", "results", `${quick ? "latest-quick" : partial ? "latest-partial" : "latest"}${suffix}.json`);
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, `${JSON.stringify({ schema: 1, ...meta, targets: checks, entries, runs: raw }, null, 2)}\n`);
console.log(`\nwrote ${jsonPath}`);
if (writeDoc && (values.doc === true || meta.mode === "full")) {
  const docPath = join(repo, "docs", "benchmarks.md");
  writeSection(docPath, sectionText(meta, entries), headingFor(meta));
  console.log(`updated "${headingFor(meta).slice(3)}" in ${docPath}`);
}
if (entries.some((e) => e.error !== undefined)) process.exitCode = 1;

// ---- helpers ------------------------------------------------------------------

async function measure(into: Entry[]): Promise<void> {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  try {
    for (const w of selected) {
      const runs = w.id === "prepare-open" || w.id === "open" ? sizes.open : [undefined];
      // Fills are not timed and open repeats itself in-process: only (a)–(g) repeat.
      const reps = w.letter !== "" && w.id !== "open" ? repeat : 1;
      for (const openSize of runs) {
        for (let rep = 0; rep < reps; rep++) for (const subject of subjects) into.push(await runChild(w, subject, openSize));
        // Drop databases as soon as nothing else reads them.
        if (w.id === "read-all") for (const s of subjects) rmSync(dirFor("prepare-reads", s), { recursive: true, force: true });
        if (w.id === "open") for (const s of subjects) rmSync(dirFor("open", s, openSize), { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function dirFor(workloadId: string, subject: string, openSize?: number): string {
  if (workloadId === "prepare-reads" || workloadId.startsWith("read-")) return join(root, `${subject}-reads`);
  if (workloadId === "prepare-open" || workloadId === "open") return join(root, `${subject}-open-${openSize}`);
  return join(root, `${subject}-${workloadId}`);
}

async function runChild(w: Workload, subject: SubjectName, openSize: number | undefined): Promise<Entry> {
  const events = eventsFor(sizes, w.id, openSize ?? sizes.open[0]!);
  const dir = dirFor(w.id, subject, openSize);
  const loadBefore = loadavg()[0]!;
  const t0 = Date.now();
  const args = ["--expose-gc", join(here, "child.js"), "--subject", subject, "--workload", w.id, "--dir", dir, "--events", String(events)];
  const { code, stdout } = await spawnChild(args);
  const wallSeconds = (Date.now() - t0) / 1000;
  if (w.uses === undefined && !w.id.startsWith("prepare-")) rmSync(dir, { recursive: true, force: true });
  const line = stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  const base = { workload: w.id, letter: w.letter, title: w.title, subject, events, loadBefore, wallSeconds };
  let entry: Entry;
  if (line === undefined) {
    entry = { ...base, ok: false, error: `child exited with ${code} and printed no result` };
  } else {
    const parsed = JSON.parse(line) as { ok: boolean; result?: Entry["result"]; settings?: Record<string, string>; unsupported?: string; error?: string };
    entry = { ...base, ok: parsed.ok, result: parsed.result, settings: parsed.settings, unsupported: parsed.unsupported, error: parsed.error };
  }
  progress(w, entry);
  return entry;
}

function spawnChild(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    // Only this child, by its own handle, if it hangs.
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout });
    });
  });
}

function progress(w: Workload, e: Entry): void {
  const label = `${w.letter === "" ? "  " : `(${w.letter})`} ${w.id.padEnd(24)} ${e.subject.padEnd(10)}`;
  const r = e.result;
  let what: string;
  if (!e.ok) what = e.unsupported !== undefined ? `n/a (${e.unsupported})` : "FAILED";
  else if (w.id === "open") what = `open ${fix(r!.extra!.openMedianMs as number, 2)} ms, ${fix(r!.extra!.bytesPerEvent as number, 1)} B/event, RSS ${fix((r!.extra!.rssBytesPerMillion as number) / 1e6, 1)} MB/1M`;
  else if (w.id.startsWith("prepare-")) what = `${int(e.events)} events in ${fix(r!.seconds, 1)} s`;
  else what = `${int(r!.events / r!.seconds).padStart(10)} events/s  p50 ${fix(r!.p50Ms, 3)} ms  p99 ${fix(r!.p99Ms, 3)} ms`;
  process.stderr.write(`${label} ${what}  [${fix(e.wallSeconds, 1)} s, load ${fix(e.loadBefore, 2)}]\n`);
}

/** One entry per (workload, store, size): the run with the median events/s, with the spread of all runs. */
function medianRuns(all: Entry[]): Entry[] {
  const groups = new Map<string, Entry[]>();
  for (const e of all) {
    const key = `${e.workload}|${e.subject}|${e.events}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  return [...groups.values()].map((group) => {
    const ok = group.filter((e) => e.ok && e.result !== undefined && e.result.seconds > 0);
    if (group.length === 1 || ok.length === 0) return group[0]!;
    const rates = ok.map((e) => e.result!.events / e.result!.seconds);
    const order = ok.map((_, i) => i).sort((a, b) => rates[a]! - rates[b]!);
    const median = ok[order[Math.floor((order.length - 1) / 2)]!]!;
    return { ...median, runs: ok.length, rateMin: rates[order[0]!]!, rateMax: rates[order[order.length - 1]!]! };
  });
}

function gitCommit(): { sha: string; dirty: boolean } {
  try {
    const sha = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo, encoding: "utf8" }).trim();
    // The benchmarks' own outputs (results, the doc) do not make the measured code dirty:
    // the second payload's run starts after the first one wrote them.
    const changed = execFileSync("git", ["status", "--porcelain"], { cwd: repo, encoding: "utf8" }).split("\n").filter((l) => l.trim() !== "");
    const dirty = changed.some((l) => !/ (bench\/results\/|docs\/benchmarks\.md)/.test(l));
    return { sha, dirty };
  } catch {
    return { sha: "unknown", dirty: false };
  }
}

/** Mean size of the plain file's record over a sample of the workload's events. */
function meanRecordBytes(): number {
  let total = 0;
  const n = 1000;
  for (let k = 0; k < n; k++) {
    const i = k * 197;
    total += encodeRecord(streamIdOf(i % STREAMS), Math.floor(i / STREAMS), Date.now(), randomUUID(), makeEvent(i)).length;
  }
  return Math.round(total / n);
}
