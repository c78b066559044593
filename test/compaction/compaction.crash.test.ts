import { spawn } from "node:child_process";
import { join } from "node:path";
import { open } from "../../engine/index.js";
import { useTempDir } from "../support/temp-dir.js";

const CHILD = join(process.cwd(), "test", "fixtures", "compaction-child.mjs");

interface Acked {
  values: Map<number, string>;
  /** The highest truncation asked for, acknowledged or not: below it events may be gone. */
  truncatedBefore: number;
}

/** Runs the child until a random moment, SIGKILLs it, returns what it acknowledged. */
async function runAndKill(dir: string, seed: number, lifetimeMs: number): Promise<{ lines: string[]; compactions: number }> {
  const child = spawn(process.execPath, [CHILD, dir, String(seed)], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  let errors = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (errors += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // The kill lands at a random moment after the third compaction started, so
  // every round has compactions behind it and most kills hit one in flight.
  const deadline = Date.now() + 30_000;
  const started = () => lines.filter((l) => l === "compacting").length;
  while (started() < 3 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
  if (started() < 3) {
    child.kill("SIGKILL");
    await exited;
    throw new Error(`the writer started ${started()} compactions in 30 s, not 3 (exit ${child.exitCode}): ${errors}`);
  }
  await new Promise((resolve) => setTimeout(resolve, lifetimeMs));
  child.kill("SIGKILL");
  await exited;
  if (!lines.includes("ready")) throw new Error(`child never got ready: ${errors}`);
  if (errors.trim() !== "") throw new Error(`child failed: ${errors}`);
  return { lines, compactions: lines.filter((l) => l.startsWith("compacted")).length };
}

describe("compaction under SIGKILL", () => {
  const dir = useTempDir();

  it("when a writer is killed at random moments while it appends, truncates and compacts, every reopen keeps every acknowledged event and verifies ok", async () => {
    const acked = new Map<string, Acked>();
    let seed = 0x5eed;
    let compactions = 0;
    const rounds = 20;
    for (let round = 0; round < rounds; round++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const lifetime = seed % 60;
      const run = await runAndKill(dir.path, seed, lifetime);
      compactions += run.compactions;
      for (const line of run.lines) {
        const [kind, op, stream, a, value] = line.split(" ");
        if (kind !== "ack" && kind !== "try") continue;
        const s = acked.get(stream!) ?? { values: new Map(), truncatedBefore: 0 };
        acked.set(stream!, s);
        if (op === "append") s.values.set(Number(a), value!);
        else s.truncatedBefore = Math.max(s.truncatedBefore, Number(a));
      }
      const db = await open(dir.path);
      try {
        const report = await db.verify();
        expect({ round, seed, problems: report.problems }).toEqual({ round, seed, problems: [] });
        for (const [stream, s] of acked) {
          const events = await db.events.readStream(stream);
          const byVersion = new Map(events.map((e) => [e.version, (e.data as { value: string }).value]));
          // Versions stay dense and never go back.
          const versions = events.map((e) => e.version);
          expect(versions).toEqual(versions.map((_, i) => versions[0]! + i));
          for (const [version, value] of s.values) {
            if (version < s.truncatedBefore) continue;
            expect({ round, seed, stream, version, value: byVersion.get(version) }).toEqual({ round, seed, stream, version, value });
          }
          expect(db.events.streamVersion(stream)).toBeGreaterThanOrEqual(Math.max(-1, ...s.values.keys()));
        }
        const all = await db.events.readAll();
        for (let i = 1; i < all.length; i++) expect(all[i]!.position).toBeGreaterThan(all[i - 1]!.position);
      } finally {
        await db.close();
      }
    }
    // Every round ran at least two whole compactions before its kill.
    expect(compactions).toBeGreaterThanOrEqual(2 * rounds);
  }, 120_000);
});
