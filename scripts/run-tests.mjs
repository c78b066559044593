#!/usr/bin/env node
// The README's test command. Builds dist/ (crash tests run the built engine in child
// processes), type-checks the tests, runs every jest suite, and ends with one line
// `tests: N passed, N failed` that CI reads.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, ...extraEnv } });
  return r.status ?? 1;
}

const passArgs = process.argv.slice(2);
if (run("npx", ["tsc", "-p", "tsconfig.build.json"]) !== 0) finish(0, 1, "build failed");
if (run("npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]) !== 0) finish(0, 1, "type check failed");

const outDir = mkdtempSync(join(tmpdir(), "seglog-jest-"));
const outFile = join(outDir, "results.json");
const jestStatus = run(
  process.execPath,
  ["--experimental-vm-modules", "--no-warnings", "node_modules/jest/bin/jest.js", "--json", `--outputFile=${outFile}`, ...passArgs],
);
let passed = 0;
let failed = 0;
try {
  const results = JSON.parse(readFileSync(outFile, "utf8"));
  passed = results.numPassedTests;
  failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
} catch {
  failed += 1;
}
rmSync(outDir, { recursive: true, force: true });
if (jestStatus !== 0 && failed === 0) failed = 1;
finish(passed, failed);

function finish(p, f, why) {
  if (why) console.error(why);
  console.log(`tests: ${p} passed, ${f} failed`);
  process.exit(f === 0 ? 0 : 1);
}
