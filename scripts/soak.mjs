#!/usr/bin/env node
// Soak: runs the randomized suites again and again with fresh seeds until the time is
// up, and stops at the first failure with the seeds that replay it.
//
//   npm run soak -- --minutes 30 [--cases 20000] [--crash] [--filter open]
//
// Each round picks a new base seed and runs, in one jest process, every
// test/**/*.fuzz.test.ts, test/**/*.model.test.ts, test/**/*.load.test.ts (the load-and-verify
// bursts on all six stores) and test/model/**/*.test.ts (with --crash also every
// *.crash.test.ts, which draw their own seeds per run; the built engine is made
// once first). The base seed goes to the suites as SEGLOG_FUZZ_BASE_SEED (the
// fuzz suites and the load test derive every case seed from it) and SEGLOG_MODEL_BASE_SEED (for the
// model tests, when they read it). The fuzz suites' deterministic offset sweep runs
// in the first round only. A round that is running when the time is up finishes.
//
// On a failure the round's jest output is printed; every failing case names its
// own seed there (SEGLOG_SEED=..., SEGLOG_MODEL_SEED=...) and the command that
// replays it alone. The summary repeats those lines.
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";

const args = parseArgs(process.argv.slice(2));
const minutes = Number(args.minutes ?? 10);
if (!Number.isFinite(minutes) || minutes <= 0) usage("--minutes must be a positive number");
const root = process.cwd();
const files = findTests(join(root, "test"))
  .map((f) => relative(root, f))
  .filter((f) => /\.(fuzz|model|load)\.test\.ts$/.test(f) || /^test[\\/]model[\\/]/.test(f) || (args.crash && /\.crash\.test\.ts$/.test(f)))
  .filter((f) => args.filter === undefined || f.includes(args.filter))
  .sort();
if (files.length === 0) usage("no suites to run");

if (args.crash) {
  // Crash tests run the built engine in child processes.
  const build = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
  if (build.status !== 0) {
    console.error("soak: the build failed");
    process.exit(1);
  }
}

const deadline = Date.now() + minutes * 60_000;
console.log(`soak: ${minutes} min over ${files.length} suite(s):\n  ${files.join("\n  ")}`);
let round = 0;
while (Date.now() < deadline) {
  round++;
  const seed = randomInt(0, 2 ** 32);
  const env = {
    ...process.env,
    SEGLOG_FUZZ_BASE_SEED: String(seed),
    SEGLOG_MODEL_BASE_SEED: String(seed),
    SEGLOG_FUZZ_SWEEP: round === 1 ? (process.env.SEGLOG_FUZZ_SWEEP ?? "1") : "0",
  };
  if (args.cases !== undefined) env.SEGLOG_FUZZ_CASES = String(args.cases);
  // A replay variable left in the shell would pin every round to one case.
  delete env.SEGLOG_SEED;
  delete env.SEGLOG_MODEL_SEED;
  delete env.SEGLOG_LOAD_SEED;
  const started = Date.now();
  const left = Math.max(0, Math.round((deadline - started) / 1000));
  console.log(`soak round ${round}: SEGLOG_FUZZ_BASE_SEED=${seed} (${left} s left)`);
  const r = spawnSync(
    process.execPath,
    ["--experimental-vm-modules", "--no-warnings", "node_modules/jest/bin/jest.js", "--silent", ...files],
    { env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
  );
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  if (r.status !== 0) {
    process.stdout.write(output);
    const seeds = [...new Set(output.split("\n").filter((l) => /SEGLOG_(MODEL_|LOAD_)?SEED=\d|seed \d+:|Replay/.test(l)).map((l) => l.trim()))];
    console.error(`\nsoak: round ${round} FAILED after ${secs} s (base seed SEGLOG_FUZZ_BASE_SEED=${seed}).`);
    console.error(seeds.length > 0 ? `failing seeds:\n  ${seeds.join("\n  ")}` : "no seed found in the output: see above.");
    console.error(`the whole round again: SEGLOG_FUZZ_BASE_SEED=${seed} SEGLOG_MODEL_BASE_SEED=${seed} npm test -- ${files.join(" ")}`);
    process.exit(1);
  }
  const counts = output.split("\n").filter((l) => /cases in|batches of|sequences/.test(l)).map((l) => l.trim());
  console.log(`  passed in ${secs} s${counts.length > 0 ? `: ${counts.join("; ")}` : ""}`);
}
console.log(`soak: ${round} round(s) in ${minutes} min, no failure`);

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(p));
    else if (entry.name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--crash") out.crash = true;
    else if (a === "--minutes" || a === "--cases" || a === "--filter") {
      if (argv[i + 1] === undefined) usage(`${a} needs a value`);
      out[a.slice(2)] = argv[++i];
    } else if (a === "--help" || a === "-h") usage();
    else usage(`unknown argument ${a}`);
  }
  return out;
}

function usage(problem) {
  if (problem) console.error(`soak: ${problem}`);
  console.error("usage: npm run soak -- --minutes N [--cases N] [--crash] [--filter TEXT]");
  process.exit(problem ? 2 : 0);
}
