/**
 * Spawning and killing the child processes of crash tests. Children run the BUILT
 * engine (dist/, which `npm test` builds first) because a SIGKILL has to hit a
 * plain node process, not a jest worker. Jest runs from the repository root, so
 * fixtures are found from process.cwd().
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const REPO_ROOT = process.cwd();
export const CRASH_WRITER = path.join(REPO_ROOT, "test", "fixtures", "crash-writer.mjs");

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited, with its exit code or killing signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stdout lines seen so far. */
  readonly lines: string[];
  stderr(): string;
  /** Waits for a stdout line matching `test`; rejects on exit or after `timeoutMs`. */
  waitForLine(test: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** SIGKILLs the process (if still running) and waits for it to be gone. */
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnFixture(script: string, args: string[]): Child {
  if (!fs.existsSync(path.join(REPO_ROOT, "dist", "engine", "index.js"))) {
    throw new Error("dist/engine/index.js is missing: run the tests through `npm test`, which builds it first");
  }
  const proc = spawn(process.execPath, [script, ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  if (proc.pid === undefined) throw new Error(`could not spawn ${script}`);
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = "";
  let errText = "";
  let done = false;
  proc.stdout!.setEncoding("utf8");
  proc.stdout!.on("data", (chunk: string) => {
    partial += chunk;
    const parts = partial.split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
    for (const wake of [...waiters]) wake();
  });
  proc.stderr!.setEncoding("utf8");
  proc.stderr!.on("data", (chunk: string) => {
    errText += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on("exit", (code, signal) => {
      done = true;
      // Let the pipes drain so that waiters see the last lines before "exited".
      setImmediate(() => {
        for (const wake of [...waiters]) wake();
        resolve({ code, signal });
      });
    });
  });

  return {
    proc,
    pid: proc.pid,
    exited,
    lines,
    stderr: () => errText,
    waitForLine(test, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        const check = (): void => {
          const hit = lines.find(test);
          if (hit !== undefined) return finish(() => resolve(hit));
          if (done) finish(() => reject(new Error(`child ${proc.pid} exited before the expected line; stdout: ${lines.join(" | ")}; stderr: ${errText}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`child ${proc.pid}: no expected line after ${timeoutMs} ms; stderr: ${errText}`))), timeoutMs);
        const finish = (f: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    async kill() {
      if (!done) proc.kill("SIGKILL");
      return exited;
    },
  };
}

export function spawnCrashWriter(args: string[]): Child {
  return spawnFixture(CRASH_WRITER, args);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Small seeded PRNG (mulberry32): the same seed replays the same test. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from SEGLOG_SEED when set (to replay a failure), else a fresh one. */
export function testSeed(): number {
  const fromEnv = process.env.SEGLOG_SEED;
  if (fromEnv !== undefined && fromEnv !== "") return Number(fromEnv) >>> 0;
  return (Math.random() * 2 ** 32) >>> 0;
}
