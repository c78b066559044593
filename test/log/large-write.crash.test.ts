/**
 * Crash tier for large records: a child appends events of byte-array data on
 * both sides of the group commit's size thresholds (fsync on a worker from
 * 256 KiB of batch, write on a worker from 1 MiB) from concurrent workers with
 * durability "sync", and is SIGKILLed at a random moment, several times into
 * the same database. After every kill the database opens, verify() finds no
 * damage, every acknowledged event is there byte for byte, and every event
 * there is whole (its bytes match the size and seed it carries).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { open } from "../../engine/index.js";
import { prng, REPO_ROOT, sleep, spawnFixture, testSeed } from "../support/child.js";

const WRITER = path.join(REPO_ROOT, "test", "fixtures", "large-writer.mjs");
const ROUNDS = 4;

/** The same pattern as the fixture's. */
function pattern(size: number, seed: number): Uint8Array {
  // Four bytes a step: the generator runs for megabytes in both processes.
  const words = new Uint32Array(Math.ceil(size / 4));
  let s = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    words[i] = s ^ (s >>> 13);
  }
  return new Uint8Array(words.buffer, 0, size);
}

describe("large appends, SIGKILLed", () => {
  it("keep every acknowledged event whole, and nothing else but whole events, through repeated kills", async () => {
    const seed = testSeed();
    const random = prng(seed);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seglog-large-crash-"));
    const acked = new Map<string, { size: number; seed: number }>();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const child = spawnFixture(WRITER, [dir, String((seed + round * 7919) >>> 0), "4"]);
        await child.waitForLine((l) => l === "ready", 30_000);
        // Let some appends land, then kill somewhere inside the next ones.
        const wanted = 3 + Math.floor(random() * 6);
        await child.waitForLine(() => child.lines.filter((l) => l.startsWith("ack ")).length >= wanted, 60_000);
        await sleep(Math.floor(random() * 40));
        await child.kill();
        for (const line of child.lines) {
          if (!line.startsWith("ack ")) continue;
          const [, stream, version, size, dataSeed] = line.split(" ");
          acked.set(`${stream}/${version}`, { size: Number(size), seed: Number(dataSeed) });
        }
        const db = await open(dir, { durability: "sync" });
        try {
          const report = await db.verify();
          expect([seed, round, report.ok]).toEqual([seed, round, true]);
          const found = new Map<string, Uint8Array>();
          for (const e of await db.events.readAll()) {
            const meta = e.metadata as { size: number; seed: number };
            const data = e.data as Uint8Array;
            expect([seed, e.streamId, e.version, data.length]).toEqual([seed, e.streamId, e.version, meta.size]);
            expect(Buffer.compare(data, pattern(meta.size, meta.seed))).toBe(0);
            found.set(`${e.streamId}/${e.version}`, data);
          }
          for (const [key, { size, seed: dataSeed }] of acked) {
            const data = found.get(key);
            expect([seed, key, data?.length]).toEqual([seed, key, size]);
            expect(Buffer.compare(data!, pattern(size, dataSeed))).toBe(0);
          }
        } finally {
          await db.close();
        }
      }
      expect(acked.size).toBeGreaterThanOrEqual(ROUNDS * 3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
