/**
 * Load and verify: bursts of hundreds of concurrent calls of mixed sizes on
 * all six stores at once, in sync and buffered durability, with small and
 * default segments; then every acknowledged write must read back byte for
 * byte, iterateAll must see every event once and verify() must be ok — live,
 * after close and reopen, after a replay without the checkpoint, and after a
 * compaction. SEGLOG_LOAD_SEED replays one run; SEGLOG_FUZZ_BASE_SEED (the
 * soak) moves them all.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { open } from "../../engine/index.js";
import type { OpenOptions } from "../../engine/index.js";
import { baseSeed } from "../support/fuzz.js";
import { burst, checkLedger, newLedger, random32 } from "../support/load.js";
import { largeSizes } from "../support/size-classes.js";
import { useTempDir } from "../support/temp-dir.js";

const KiB = 1024;
const MiB = 1024 * KiB;

interface Setup {
  name: string;
  options: OpenOptions;
  maxRecordBytes: number;
  bursts: number[];
  spread: number;
}

const setups: Setup[] = [
  // segmentBytes alone: the default maxRecordBytes follows it.
  { name: "sync, 64 KiB segments", options: { durability: "sync", segmentBytes: 64 * KiB }, maxRecordBytes: 64 * KiB - 44, bursts: [400, 300, 1500], spread: 16 * KiB },
  { name: "buffered, 64 KiB segments", options: { durability: "buffered", segmentBytes: 64 * KiB }, maxRecordBytes: 64 * KiB - 44, bursts: [400, 300, 1500], spread: 16 * KiB },
  { name: "sync, default segments", options: { durability: "sync" }, maxRecordBytes: 16 * MiB, bursts: [300, 200, 2000], spread: 96 * KiB },
  { name: "buffered, default segments", options: { durability: "buffered" }, maxRecordBytes: 16 * MiB, bursts: [300, 200, 2000], spread: 96 * KiB },
];

function seedFor(i: number): number {
  const one = process.env.SEGLOG_LOAD_SEED;
  return one !== undefined ? Number(one) >>> 0 : (baseSeed() * 31 + i * 7919) >>> 0;
}

describe("load and verify on all six stores", () => {
  const dir = useTempDir();

  setups.forEach((setup, i) => {
    const seed = seedFor(i);
    it(`${setup.name}: every acknowledged write reads back live, after reopen, after a replay without the checkpoint and after compaction (SEGLOG_LOAD_SEED=${seed})`, async () => {
      const r = random32(seed);
      const path = join(dir.path, "db");
      const limits = { maxPayload: setup.maxRecordBytes - 4 * KiB, segmentBytes: setup.options.segmentBytes };
      const ledger = newLedger();
      let db = await open(path, setup.options);
      const fail = (phase: string, problems: string[]) => {
        if (problems.length > 0) throw new Error(`${setup.name}, ${phase} (SEGLOG_LOAD_SEED=${seed}):\n  ${problems.slice(0, 8).join("\n  ")}`);
      };
      try {
        // The last burst is many small calls in one tick: far past the batch buffer.
        for (const [b, calls] of setup.bursts.entries()) {
          const last = b === setup.bursts.length - 1;
          // Default segments: the 16 MiB limit is reached through `large` only, to bound the volume.
          const large = { large: last ? 0 : 3, largeSizes: largeSizes(limits, setup.spread), limitShare: setup.options.segmentBytes === undefined ? 0 : 0.02 };
          fail(`burst ${b}`, await burst(db, ledger, r, `b${b}`, { calls, limits, spread: last ? 600 : setup.spread, ...large }));
        }
        fail("live", await checkLedger(db, ledger));
        await db.close();
        db = await open(path, setup.options);
        fail("after reopen", await checkLedger(db, ledger));
        await db.close();
        rmSync(join(path, "checkpoint.ckpt"));
        db = await open(path, setup.options);
        fail("after a replay without the checkpoint", await checkLedger(db, ledger));
        await db.compact();
        fail("after compaction", await checkLedger(db, ledger));
        const stats = await db.stats();
        if (setup.options.segmentBytes !== undefined) expect(stats.segments).toBeGreaterThan(3);
      } finally {
        await db.close();
      }
    }, 240_000);
  });
});
