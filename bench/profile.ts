/**
 * `npm run bench:profile -- --workload <id>`: runs one workload of `npm run bench`
 * for one subject (seglog by default) under `node --cpu-prof`, in a child process
 * exactly as the benchmark does, and prints where the time went: self time by
 * area (seglog's engine, msgpackr, checksum, system calls, GC, idle) and the
 * functions with the most self time. Reads and open first fill their database
 * in an unprofiled child, as the benchmark does.
 *
 *   node dist/bench/profile.js --workload append-single-buffered [--subject seglog]
 *                              [--events N] [--top 20] [--keep DIR]
 *
 * This is how the profiles quoted in docs/benchmarks.md for each missed target
 * were taken; the .cpuprofile is kept with --keep for a closer look (Chrome
 * DevTools, speedscope).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { eventsFor, FULL } from "./plan.js";
import { workloadById } from "./workloads/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    workload: { type: "string" },
    subject: { type: "string", default: "seglog" },
    events: { type: "string" },
    top: { type: "string", default: "20" },
    keep: { type: "string" },
  },
});
if (values.workload === undefined) throw new Error("--workload is required, e.g. append-single-buffered, read-forward, open");
const workload = workloadById(values.workload);
const events = values.events !== undefined ? Number(values.events) : eventsFor(FULL, workload.id, FULL.open[0]!);
const root = join(tmpdir(), `seglog-profile-${process.pid}`);
const dbDir = join(root, "db");
const profileDir = values.keep ?? join(root, "profile");
mkdirSync(profileDir, { recursive: true });

try {
  if (workload.uses !== undefined) runChild(`prepare-${workload.uses}`, []);
  runChild(workload.id, ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]);
  const file = readdirSync(profileDir).find((n) => n.endsWith(".cpuprofile"));
  if (file === undefined) throw new Error("the child wrote no profile");
  report(JSON.parse(readFileSync(join(profileDir, file), "utf8")) as CpuProfile, Number(values.top));
  if (values.keep !== undefined) console.log(`\nprofile kept: ${join(profileDir, file)}`);
} finally {
  rmSync(dbDir, { recursive: true, force: true });
  if (values.keep === undefined) rmSync(root, { recursive: true, force: true });
}

function runChild(workloadId: string, nodeFlags: string[]): void {
  const args = [...nodeFlags, "--expose-gc", join(here, "child.js"), "--subject", values.subject!, "--workload", workloadId, "--dir", dbDir, "--events", String(events)];
  const child = spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const line = child.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  const parsed = line === undefined ? undefined : (JSON.parse(line) as { ok: boolean; result?: { events: number; seconds: number }; error?: string });
  if (parsed?.ok !== true) throw new Error(`${workloadId} failed: ${parsed?.error ?? `exit ${child.status}`}`);
  if (nodeFlags.length > 0) console.log(`${values.subject} ${workloadId}: ${Math.round(parsed.result!.events / parsed.result!.seconds).toLocaleString("en-US")} events/s under the profiler (${events.toLocaleString("en-US")} events)\n`);
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the system a function belongs to, by its source. */
function areaOf(name: string, url: string): string {
  if (name === "(idle)") return "idle (waiting for I/O: fsync, thread pool)";
  if (name === "(garbage collector)") return "garbage collector";
  if (url.includes("/engine/")) return "seglog engine (JS)";
  if (url.includes("msgpackr")) return "msgpackr (encode/decode)";
  if (url.includes("xxhash") || url.startsWith("wasm")) return "xxHash32 checksums (WASM)";
  if (url.includes("lmdb") || url.includes("better-sqlite3")) return "peer library (JS)";
  if (url.includes("/bench/")) return "benchmark driver";
  if (url === "") return "native (system calls, V8 builtins)";
  return "node internals (JS)";
}

function report(profile: CpuProfile, top: number): void {
  const nodeById = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + dt);
    total += dt;
  }
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = nodeById.get(id)!.callFrame;
    const name = functionName || "(anonymous)";
    byArea.set(areaOf(name, url), (byArea.get(areaOf(name, url)) ?? 0) + t);
    const where = url === "" ? "" : ` ${url.replace(/^.*\/(node_modules|dist)\//, "")}:${lineNumber + 1}`;
    byFunction.set(`${name}${where}`, (byFunction.get(`${name}${where}`) ?? 0) + t);
  }
  const pct = (t: number) => `${((100 * t) / total).toFixed(1)}%`;
  console.log("| area | self time |\n|---|--:|");
  for (const [area, t] of [...byArea].sort((a, b) => b[1] - a[1])) console.log(`| ${area} | ${pct(t)} |`);
  console.log(`\n| function | self time |\n|---|--:|`);
  for (const [fn, t] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`| \`${fn}\` | ${pct(t)} |`);
}
