import { open } from "../../engine/database.js";
import type { Database } from "../../engine/index.js";
import { CountingFileSystem } from "../support/counting-file-system.js";
import { useTempDir } from "../support/temp-dir.js";

describe("group commit", () => {
  let db: Database | undefined;
  const dir = useTempDir(async () => {
    await db?.close();
    db = undefined;
  });

  it("when 64 appenders append at once with sync durability, they share one write and one fsync", async () => {
    const fs = new CountingFileSystem();
    db = await open(dir.path, { fileSystem: fs });
    const before = { writes: fs.writes, syncs: fs.syncs };
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => db!.events.append(`s-${i}`, [{ type: "T", data: { i } }], { expectedVersion: "no_stream" })),
    );
    expect(fs.writes - before.writes).toBe(1);
    expect(fs.syncs - before.syncs).toBe(1);
    // Positions follow call order, and every appender got its own.
    expect(results.map((r) => r.firstPosition)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect((await db.events.readAll()).map((e) => e.streamId)).toEqual(Array.from({ length: 64 }, (_, i) => `s-${i}`));
  });

  it("when appenders keep appending while an fsync runs, the next batch carries all of them", async () => {
    const fs = new CountingFileSystem();
    db = await open(dir.path, { fileSystem: fs });
    const before = fs.syncs;
    await Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        for (let n = 0; n < 20; n++) await db!.events.append(`w-${w}`, [{ type: "T", data: n }], { expectedVersion: n - 1 });
      }),
    );
    // 640 acknowledged appends; each round of 32 shares one fsync.
    expect(fs.syncs - before).toBeLessThanOrEqual(25);
    for (let w = 0; w < 32; w++) expect(db.events.streamVersion(`w-${w}`)).toBe(19);
  });

  it("when concurrent appends name the same stream with expected versions, they are checked in call order", async () => {
    db = await open(dir.path);
    const first = db.events.append("s", [{ type: "T", data: 0 }], { expectedVersion: "no_stream" });
    const second = db.events.append("s", [{ type: "T", data: 1 }], { expectedVersion: 0 });
    const stale = db.events.append("s", [{ type: "T", data: 2 }], { expectedVersion: 0 });
    const [a, b, c] = await Promise.allSettled([first, second, stale]);
    expect(a).toMatchObject({ status: "fulfilled", value: { firstVersion: 0 } });
    expect(b).toMatchObject({ status: "fulfilled", value: { firstVersion: 1 } });
    expect(c).toMatchObject({ status: "rejected", reason: { code: "WRONG_EXPECTED_VERSION", expected: 0, actual: 1 } });
    expect((await db.events.readStream("s")).map((e) => e.data)).toEqual([0, 1]);
  });

  it("when buffered appends are awaited one by one, each is readable as soon as it resolves", async () => {
    const fs = new CountingFileSystem();
    db = await open(dir.path, { durability: "buffered", flushIntervalMs: 3_600_000, fileSystem: fs });
    const syncs = fs.syncs;
    for (let i = 0; i < 50; i++) {
      const r = await db.events.append("b", [{ type: "T", data: i }]);
      expect((await db.events.readAll({ from: r.firstPosition })).map((e) => e.data)).toEqual([i]);
    }
    // Handed to the OS, not fsynced: buffered mode leaves flushing to its timer.
    expect(fs.syncs).toBe(syncs);
    await db.close();
    db = undefined;
    expect(fs.syncs).toBeGreaterThan(syncs);
  });

  for (const durability of ["buffered", "sync"] as const) {
    it(`when one appender awaits ${durability} appends in a tight loop, timers and I/O still get their turns`, async () => {
      db = await open(dir.path, { durability });
      let timerFiredAt = -1;
      let appended = 0;
      setTimeout(() => (timerFiredAt = appended), 0);
      for (; appended < 2000; appended++) await db.events.append("tight", [{ type: "T", data: appended }]);
      // Without event-loop turns the timer would fire only after the loop.
      expect(timerFiredAt).toBeGreaterThanOrEqual(0);
      expect(timerFiredAt).toBeLessThan(2000);
    });
  }
});
