#!/usr/bin/env node
// The README's test command. Builds dist/ (crash tests run the built engine in child
// processes), type-checks the tests, runs every jest suite, then the Durable Streams
// conformance suite under vitest (vitest.config.ts: one file, test/conformance/), and
// ends with one line `tests: N passed, N failed` that CI reads, counting both.
// Arguments go to jest; when there are any, the conformance run is left out unless
// SEGLOG_CONFORMANCE=1 (SEGLOG_CONFORMANCE=0 leaves it out always).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, ...extraEnv } });
  return r.status ?? 1;
}

const passArgs = process.argv.slice(2);
// The replication tests need nats-server (Debian package; .ci/run installs it). Without
// it they are left out, and the last line says so: not run is never counted as passed.
const natsMissing = spawnSync("sh", ["-c", "command -v nats-server || test -x /usr/sbin/nats-server || test -x \"$NATS_SERVER\""]).status !== 0;
const notRun = natsMissing ? ["--testPathIgnorePatterns", "test/replication/"] : [];
if (natsMissing) console.error("nats-server is not installed: the replication tests (test/replication/) are not run");

if (run("npx", ["tsc", "-p", "tsconfig.build.json"]) !== 0) finish(0, 1, "build failed");
if (run("npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]) !== 0) finish(0, 1, "type check failed");

const outDir = mkdtempSync(join(tmpdir(), "seglog-jest-"));
const outFile = join(outDir, "results.json");
const jestStatus = run(
  process.execPath,
  ["--experimental-vm-modules", "--no-warnings", "node_modules/jest/bin/jest.js", "--json", `--outputFile=${outFile}`, ...notRun, ...passArgs],
);
let passed = 0;
let failed = 0;
// Tests that did not run are said on the last line, never folded into "passed".
let jestSkipped = 0;
let conformanceSkipped = 0;
try {
  const results = JSON.parse(readFileSync(outFile, "utf8"));
  passed = results.numPassedTests;
  jestSkipped = results.numPendingTests + results.numTodoTests;
  failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
} catch {
  failed += 1;
}
if (jestStatus !== 0 && failed === 0) failed = 1;

const conformance = process.env.SEGLOG_CONFORMANCE ?? (passArgs.length === 0 ? "1" : "0");
if (conformance === "1") {
  const vitestFile = join(outDir, "vitest.json");
  const vitestStatus = run(process.execPath, [
    "node_modules/vitest/vitest.mjs",
    "run",
    "--reporter=dot",
    "--reporter=json",
    `--outputFile.json=${vitestFile}`,
  ]);
  let vitestFailed = 0;
  try {
    const results = JSON.parse(readFileSync(vitestFile, "utf8"));
    passed += results.numPassedTests;
    conformanceSkipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
    // A file that fails to load (the server did not start) has no failed tests, only a failed suite.
    vitestFailed = results.numFailedTests || (results.numFailedTestSuites ?? 0);
  } catch {
    vitestFailed = 1;
  }
  if (vitestStatus !== 0 && vitestFailed === 0) vitestFailed = 1;
  failed += vitestFailed;
}
rmSync(outDir, { recursive: true, force: true });
finish(passed, failed);

function finish(p, f, why) {
  if (why) console.error(why);
  const notes = [];
  if (jestSkipped > 0) notes.push(`${jestSkipped} jest tests skipped`);
  // The conformance suite runs its "Reserved subscription APIs" (webhooks) only for servers that offer them; seglog serve does not.
  if (conformanceSkipped > 0) notes.push(`${conformanceSkipped} conformance tests not run (optional webhook subscriptions, not offered)`);
  if (natsMissing) notes.push("replication tests not run (nats-server not installed)");
  console.log(`tests: ${p} passed, ${f} failed${notes.map((n) => `, ${n}`).join("")}`);
  process.exit(f === 0 ? 0 : 1);
}
