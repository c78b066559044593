/**
 * Compaction of byte streams: records of deleted (and expired) streams are
 * reclaimed, while every live stream, and every record a fork still reads
 * through its source, is kept and moves with its segment.
 */
import { open } from "../../../engine/index.js";
import type { OpenOptions } from "../../../engine/index.js";
import { acrossReopens, manualClock, readAll } from "../../contract/byte-stream-store.contract.js";
import { throwsWith, useDatabases } from "../../contract/event-store.contract.js";

const SMALL = { segmentBytes: 4096, maxRecordBytes: 1024 };
const h = useDatabases({ open: (dir: string, options?: OpenOptions) => open(dir, { ...SMALL, ...options }) });
const chunk = (i: number): string => `chunk-${i}-`.padEnd(200, "x");

describe("byte stream compaction", () => {
  it("when deleted streams are compacted away, live streams and forks of deleted sources read the same, also after reopens", async () => {
    const db = await h.open();
    for (const id of ["live", "gone", "src"]) await db.streams.create(id, { contentType: "text/plain" });
    for (let i = 0; i < 30; i++) {
      await db.streams.append("live", chunk(i));
      await db.streams.append("gone", chunk(i));
      await db.streams.append("src", chunk(i));
    }
    await db.streams.ensure("fork", { fork: { from: "src" } });
    await db.streams.append("fork", "tail");
    const liveText = await readAll(db, "live");
    const forkText = await readAll(db, "fork");
    await db.streams.delete("gone");
    await db.streams.delete("src");
    const before = await db.stats();
    expect(before.garbageBytes).toBeGreaterThan(30 * 200);
    const report = await db.compact();
    expect(report.bytesAfter).toBeLessThan(report.bytesBefore);
    expect(report.segmentsRewritten).toBeGreaterThan(0);
    expect((await db.stats()).garbageBytes).toBeLessThan(before.garbageBytes);
    const last = await acrossReopens(h, db, async (again) => {
      expect(await readAll(again, "live")).toBe(liveText);
      expect(await readAll(again, "fork")).toBe(forkText);
      throwsWith(() => again.streams.getMetadata("gone"), "NOT_FOUND");
      throwsWith(() => again.streams.getMetadata("src"), "STREAM_DELETED");
      expect((await again.verify()).ok).toBe(true);
    });
    await last.streams.create("gone");
    expect(await readAll(last, "gone")).toBe("");
    await last.streams.append("live", "more");
    expect(await readAll(last, "live")).toBe(`${liveText}more`);
  });

  it("when the stream that held the highest incarnation is compacted away, a new stream never reuses its number", async () => {
    const clock = manualClock();
    const db = await h.open({ clock: clock.now });
    await db.streams.create("keep");
    for (let i = 0; i < 20; i++) await db.streams.append("keep", chunk(i));
    await db.streams.create("short", { ttlSeconds: 1 });
    await db.streams.append("short", "old bytes");
    clock.advance(5_000);
    await db.compact();
    const again = await h.reopen(db, { clock: clock.now });
    await again.streams.create("short");
    await again.streams.append("short", "new");
    const replayed = await acrossReopens(h, again, async (d) => {
      expect(await readAll(d, "short")).toBe("new");
      expect((await readAll(d, "keep")).length).toBe(20 * 200);
    }, { clock: clock.now });
    expect((await replayed.verify()).ok).toBe(true);
  });
});
