import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { open } from "../../engine/index.js";
import type { Database, RecordedEvent } from "../../engine/index.js";
import { useTempDir } from "../support/temp-dir.js";

const SMALL = { segmentBytes: 32 * 1024, maxRecordBytes: 4096 };
const pad = "p".repeat(180);

async function fill(db: Database, streams: number, perStream: number): Promise<void> {
  for (let i = 0; i < perStream; i++) {
    for (let s = 0; s < streams; s++) await db.events.append(`s${s}`, [{ type: "T", data: { s, i, pad }, id: `id-${s}-${i}` }]);
  }
}

function strip(events: RecordedEvent[]): unknown[] {
  return events.map((e) => [e.position, e.streamId, e.version, e.id, e.type, e.data, e.timestamp]);
}

describe("compaction", () => {
  let db: Database | undefined;
  const dir = useTempDir(async () => {
    await db?.close();
    db = undefined;
  });

  it("when half the streams are truncated or deleted, compaction reclaims at least 90% of the garbage and every surviving event reads back identical, before and after reopen", async () => {
    db = await open(dir.path, { durability: "buffered", ...SMALL });
    await fill(db, 20, 30);
    for (let s = 0; s < 10; s++) {
      if (s % 3 === 0) await db.events.deleteStream(`s${s}`);
      else if (s % 3 === 1) await db.events.deleteStream(`s${s}`, { hard: true });
      else await db.events.truncateStream(`s${s}`, 20);
    }
    const survivors = strip(await db.events.readAll());
    const before = await db.stats();
    expect(before.garbageBytes).toBeGreaterThan(0);
    const report = await db.compact();
    expect(report.segmentsRewritten).toBeGreaterThan(0);
    expect(report.recordsDropped).toBeGreaterThan(0);
    const after = await db.stats();
    expect(before.diskBytes - after.diskBytes).toBeGreaterThanOrEqual(0.9 * before.garbageBytes);
    expect(after.garbageBytes).toBe(0);
    expect(strip(await db.events.readAll())).toEqual(survivors);
    expect(await db.verify()).toMatchObject({ ok: true });
    await db.close();
    db = await open(dir.path, SMALL);
    expect(strip(await db.events.readAll())).toEqual(survivors);
    await db.close();
    // Without the checkpoint, a full replay of the compacted log gives the same state.
    rmSync(join(dir.path, "checkpoint.ckpt"));
    db = await open(dir.path, SMALL);
    expect(strip(await db.events.readAll())).toEqual(survivors);
    expect(db.events.streamVersion("s0")).toBe(29);
    expect(db.events.streamExists("s0")).toBe(false);
    await expect(db.events.readStream("s1")).rejects.toMatchObject({ code: "STREAM_DELETED" });
    await expect(db.events.append("s1", [{ type: "T", data: 1 }])).rejects.toMatchObject({ code: "STREAM_DELETED" });
    expect((await db.events.readStream("s2")).map((e) => e.version)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    // A soft-deleted stream recreated after compaction numbers on from its old version.
    const recreated = await db.events.append("s0", [{ type: "T", data: "again" }], { expectedVersion: "no_stream" });
    expect(recreated.firstVersion).toBe(30);
    expect((await db.events.readStream("s0")).map((e) => e.data)).toEqual(["again"]);
  });

  it("when events are appended again with their ids after compaction and reopen, the append is idempotent", async () => {
    db = await open(dir.path, { durability: "buffered", ...SMALL });
    await fill(db, 4, 40);
    await db.events.truncateStream("s0", 10);
    const original = await db.events.append("s3", [{ type: "T", data: 1, id: "late-1" }, { type: "T", data: 2, id: "late-2" }]);
    await db.compact();
    await db.close();
    rmSync(join(dir.path, "checkpoint.ckpt"));
    db = await open(dir.path, SMALL);
    const again = await db.events.append("s3", [{ type: "T", data: 1, id: "late-1" }, { type: "T", data: 2, id: "late-2" }], { expectedVersion: 39 });
    expect(again).toEqual(original);
    const surviving = await db.events.append("s0", [{ type: "T", data: { s: 0, i: 15, pad }, id: "id-0-15" }], { expectedVersion: 14 });
    expect(surviving.firstVersion).toBe(15);
    expect(db.events.streamVersion("s0")).toBe(39);
  });

  it("when retention limits a stream, compaction drops what retention hides, by count and by age on the injected clock", async () => {
    let now = 1_000_000;
    db = await open(dir.path, { durability: "buffered", clock: () => now, ...SMALL });
    for (let i = 0; i < 50; i++) {
      await db.events.append("counted", [{ type: "T", data: { i, pad } }]);
      await db.events.append("aged", [{ type: "T", data: { i, pad } }]);
      now += 1000;
    }
    await db.events.setStreamRetention("counted", { maxCount: 5 });
    await db.events.setStreamRetention("aged", { maxAgeMs: 10_500 });
    const expected = { counted: strip(await db.events.readStream("counted")), aged: strip(await db.events.readStream("aged")) };
    expect(expected.counted).toHaveLength(5);
    expect(expected.aged).toHaveLength(10);
    const report = await db.compact();
    expect(report.recordsDropped).toBeGreaterThanOrEqual(85);
    await db.close();
    rmSync(join(dir.path, "checkpoint.ckpt"));
    db = await open(dir.path, { clock: () => now, ...SMALL });
    expect(strip(await db.events.readStream("counted"))).toEqual(expected.counted);
    expect(strip(await db.events.readStream("aged"))).toEqual(expected.aged);
    expect(db.events.streamVersion("aged")).toBe(49);
  });

  it("when appends and reads run while compaction rewrites, none fails or is lost and reads stay ordered", async () => {
    db = await open(dir.path, { durability: "sync", ...SMALL });
    await fill(db, 10, 40);
    for (let s = 0; s < 5; s++) await db.events.truncateStream(`s${s}`, 35);
    let stop = false;
    const appended: number[] = [];
    const appender = (async () => {
      for (let i = 0; !stop || i < 50; i++) {
        const r = await db!.events.append("live", [{ type: "T", data: i }], { expectedVersion: i - 1 });
        appended.push(r.firstVersion);
      }
    })();
    const reader = (async () => {
      while (!stop) {
        const all = await db!.events.readAll();
        for (let i = 1; i < all.length; i++) expect(all[i]!.position).toBeGreaterThan(all[i - 1]!.position);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const report = await db.compact();
    stop = true;
    await Promise.all([appender, reader]);
    expect(report.segmentsRewritten).toBeGreaterThan(0);
    const live = await db.events.readStream("live");
    expect(live.map((e) => e.data)).toEqual(appended.map((_, i) => i));
    expect(await db.verify()).toMatchObject({ ok: true });
  });

  it("when a subscription is live across a compaction, it delivers every new event once and in order", async () => {
    db = await open(dir.path, { durability: "buffered", ...SMALL });
    await fill(db, 5, 30);
    await db.events.deleteStream("s0");
    const sub = db.events.subscribe({ from: "end" });
    const seen: number[] = [];
    const reading = (async () => {
      for await (const e of sub) {
        seen.push(e.data as number);
        if (seen.length === 40) break;
      }
    })();
    for (let i = 0; i < 20; i++) await db.events.append("sub", [{ type: "T", data: i }]);
    await db.compact();
    for (let i = 20; i < 40; i++) await db.events.append("sub", [{ type: "T", data: i }]);
    await reading;
    sub.close();
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it("when a compaction copy was left behind by a crash before its swap, open removes it and the segment it shadowed stays whole", async () => {
    db = await open(dir.path, SMALL);
    await fill(db, 3, 60);
    const before = strip(await db.events.readAll());
    await db.close();
    db = undefined;
    const first = readdirSync(dir.path).find((n) => n.endsWith(".seg"))!;
    writeFileSync(join(dir.path, `${first}.cleaned`), Buffer.from("half a copy"));
    db = await open(dir.path, SMALL);
    expect(readdirSync(dir.path).some((n) => n.endsWith(".cleaned"))).toBe(false);
    expect(strip(await db.events.readAll())).toEqual(before);
  });

  it("when compact is given bad options or the database is read-only or closed, it is refused with the right code", async () => {
    db = await open(dir.path, SMALL);
    await expect(db.compact({ onProgress: 5 as never })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await db.close();
    await expect(db.compact()).rejects.toMatchObject({ code: "CLOSED" });
    db = await open(dir.path, { readOnly: true });
    await expect(db.compact()).rejects.toMatchObject({ code: "READ_ONLY" });
  });

  it("reports progress from 0 to the total it planned", async () => {
    db = await open(dir.path, { durability: "buffered", ...SMALL });
    await fill(db, 10, 30);
    await db.events.deleteStream("s1");
    const progress: { done: number; total: number }[] = [];
    await db.compact({ onProgress: (p) => progress.push(p) });
    expect(progress[0]!.done).toBe(0);
    expect(progress.at(-1)!.done).toBe(progress.at(-1)!.total);
    expect(progress.at(-1)!.total).toBeGreaterThan(0);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.done).toBeGreaterThanOrEqual(progress[i - 1]!.done);
  });
});
