/**
 * The database around the event store (API.md "Opening a database", "Errors",
 * "Semantics in detail"): the writer lock in this and another process, read-only
 * opens, close and CLOSED, health, stats, verify, directory creation, TOO_LARGE
 * and what close does to writes still in flight.
 *
 * The other-process tests run the built engine (dist/, which the test runner
 * builds first) in a child node process.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { open, SeglogError } from "../../../engine/index.js";
import type { Database, ErrorCode } from "../../../engine/index.js";
import {
  SubscriptionReader,
  WAIT_MS,
  dataOf,
  ev,
  expectConsistentViews,
  iterationFailsWith,
  numbered,
  rejectsWith,
  snapshot,
  throwsWith,
  useDatabases,
  withTimeout,
} from "../../contract/event-store.contract.js";

const h = useDatabases({ open });

const CHILD_SCRIPT = `
const [engineUrl, dir, mode] = process.argv.slice(1);
const { open } = await import(engineUrl);
try {
  const db = await open(dir, { readOnly: mode === "read" });
  const result = mode === "read" ? { ok: true, events: (await db.events.readAll()).length } : { ok: true };
  await db.close();
  console.log(JSON.stringify(result));
} catch (err) {
  console.log(JSON.stringify({ ok: false, code: err.code, message: String(err.message) }));
}
`;

/** Opens `dir` in a child process with the built engine; resolves with what it printed. */
function openInChild(dir: string, mode: "write" | "read"): Promise<{ ok: boolean; code?: string; events?: number }> {
  const engineUrl = pathToFileURL(resolve(process.cwd(), "dist/engine/index.js")).href;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD_SCRIPT, engineUrl, dir, mode], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill();
      fail(new Error(`the child process did not finish in 30 s: ${err}`));
    }, 30_000);
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("close", (status) => {
      clearTimeout(timer);
      const last = out.trim().split("\n").pop() ?? "";
      try {
        done(JSON.parse(last) as { ok: boolean; code?: string; events?: number });
      } catch {
        fail(new Error(`the child process exited with ${status} and printed no result: ${err}${out}`));
      }
    });
  });
}

describe("writer lock and read-only opens", () => {
  it("when a second writer opens the same directory in the same process, it is refused with LOCKED until the first closes", async () => {
    const first = await h.open();
    await first.events.append("s", numbered(2));
    await rejectsWith(() => h.open(), "LOCKED");
    await rejectsWith(() => h.open(undefined, `${h.dir}/`), "LOCKED");
    await rejectsWith(() => h.open(undefined, relative(process.cwd(), h.dir)), "LOCKED");
    expect(first.health().state).toBe("open");
    await first.events.append("s", numbered(1, 2));
    await first.close();
    const second = await h.open();
    expect(dataOf(await second.events.readStream("s"))).toEqual(numbered(3).map((e) => e.data));
  });

  it("when another process opens the directory as a writer while this process holds it, it is refused with LOCKED", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(1));
    const result = await openInChild(h.dir, "write");
    expect(result).toMatchObject({ ok: false, code: "LOCKED" });
    await db.close();
    expect(await openInChild(h.dir, "write")).toMatchObject({ ok: true });
  });

  it("when another process opens the directory read-only while this process writes, it reads every acknowledged event", async () => {
    const db = await h.open({ durability: "sync" });
    for (let i = 0; i < 10; i++) await db.events.append(`s-${i % 3}`, numbered(5, i * 5));
    expect(await openInChild(h.dir, "read")).toEqual({ ok: true, events: 50 });
    await db.events.append("s-0", numbered(1));
    expect(await db.events.readStream("s-0", { from: 20 })).toHaveLength(1);
  });

  it("when a writer holds the directory, a readOnly open succeeds, reads what was written and rejects every write with READ_ONLY", async () => {
    const writer = await h.open({ durability: "sync" });
    await writer.events.append("s", numbered(3));
    await writer.events.append("t", numbered(2));
    const reader = await h.open({ readOnly: true });
    expect(reader.health()).toMatchObject({ ok: true, state: "open" });
    expect(await reader.events.readAll()).toEqual(await writer.events.readAll());
    expect(reader.events.listStreams()).toEqual(["s", "t"]);
    expect(reader.events.streamVersion("s")).toBe(2);
    expect(await reader.stats()).toMatchObject({ events: 5, streams: 2 });
    expect((await reader.verify()).ok).toBe(true);
    const before = await snapshot(reader, ["s", "t", "new"]);
    await rejectsWith(() => reader.events.append("new", numbered(1)), "READ_ONLY");
    await rejectsWith(() => reader.events.append("s", numbered(1), { expectedVersion: 2 }), "READ_ONLY");
    await rejectsWith(() => reader.events.appendMany([{ streamId: "new", events: numbered(1) }]), "READ_ONLY");
    await rejectsWith(() => reader.events.deleteStream("s"), "READ_ONLY");
    await rejectsWith(() => reader.events.deleteStream("s", { hard: true }), "READ_ONLY");
    await rejectsWith(() => reader.events.truncateStream("s", 1), "READ_ONLY");
    await rejectsWith(() => reader.events.setStreamRetention("s", { maxCount: 1 }), "READ_ONLY");
    expect(await snapshot(reader, ["s", "t", "new"])).toEqual(before);
    await reader.close();
    await writer.events.append("s", numbered(1), { expectedVersion: 2 });
    await writer.close();
    const again = await h.open();
    expect(again.events.streamVersion("s")).toBe(3);
    expect(again.events.streamExists("new")).toBe(false);
  });

  it("when the directory is opened read-only first, a writer can still open it", async () => {
    const setup = await h.open();
    await setup.events.append("s", numbered(1));
    await setup.close();
    const reader = await h.open({ readOnly: true });
    const writer = await h.open();
    await writer.events.append("s", numbered(1));
    expect(writer.events.streamVersion("s")).toBe(1);
    expect(reader.events.streamVersion("s")).toBeGreaterThanOrEqual(0);
  });
});

describe("close", () => {
  it("when the database is closed, every event-store method fails with CLOSED and health reports closed", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(2));
    await db.close();
    expect(db.health()).toMatchObject({ ok: false, state: "closed" });
    const rejecting: [string, () => Promise<unknown>][] = [
      ["append", () => db.events.append("s", numbered(1))],
      ["appendMany", () => db.events.appendMany([{ streamId: "s", events: numbered(1) }])],
      ["readStream", () => db.events.readStream("s")],
      ["readAll", () => db.events.readAll()],
      ["deleteStream", () => db.events.deleteStream("s")],
      ["truncateStream", () => db.events.truncateStream("s", 1)],
      ["setStreamRetention", () => db.events.setStreamRetention("s", { maxCount: 1 })],
      ["stats", () => db.stats()],
      ["verify", () => db.verify()],
    ];
    for (const [, call] of rejecting) await rejectsWith(call, "CLOSED");
    const throwing: [string, () => unknown][] = [
      ["streamVersion", () => db.events.streamVersion("s")],
      ["streamExists", () => db.events.streamExists("s")],
      ["hasEvents", () => db.events.hasEvents()],
      ["listStreams", () => db.events.listStreams()],
    ];
    for (const [, call] of throwing) throwsWith(call, "CLOSED");
    await iterationFailsWith(() => db.events.iterateStream("s"), "CLOSED");
    await iterationFailsWith(() => db.events.iterateAll(), "CLOSED");
    await iterationFailsWith(() => db.events.subscribe(), "CLOSED");
  });

  it("when close is called twice or concurrently, every call resolves", async () => {
    const db = await h.open();
    await db.events.append("s", numbered(1));
    await Promise.all([db.close(), db.close()]);
    await db.close();
    expect(db.health().state).toBe("closed");
    const again = await h.open();
    expect(again.events.streamVersion("s")).toBe(0);
  });

  it("when appends are in flight as close is called, each either lands and survives a reopen or fails with CLOSED", async () => {
    const db = await h.open({ durability: "sync" });
    const calls = Array.from({ length: 20 }, (_, i) => db.events.append(`s-${i % 4}`, [ev("e", { i })]));
    await db.close();
    const outcomes = await Promise.allSettled(calls);
    const landed: number[] = [];
    outcomes.forEach((o, i) => {
      if (o.status === "fulfilled") landed.push(i);
      else expect((o.reason as { code?: ErrorCode }).code).toBe("CLOSED");
    });
    const again = await h.open();
    const stored = (await again.events.readAll()).map((e) => (e.data as { i: number }).i).sort((a, b) => a - b);
    expect(stored).toEqual(landed);
  });

  it("when the database closes while a subscription waits for live events, the waiting read settles instead of hanging", async () => {
    const db = await h.open({ durability: "buffered" });
    await db.events.append("s", numbered(1));
    const reader = new SubscriptionReader(db.events.subscribe());
    try {
      await reader.take(1);
      const pending = reader.nextPending();
      await db.close();
      const settled = await withTimeout(
        pending.then(
          (step) => ({ done: step.done === true, code: undefined as string | undefined }),
          (err: unknown) => ({ done: true, code: err instanceof SeglogError ? err.code : `not a SeglogError: ${String(err)}` }),
        ),
        WAIT_MS,
        "waiting for a subscription read to settle after close",
      );
      expect(settled.done).toBe(true);
      if (settled.code !== undefined) expect(settled.code).toBe("CLOSED");
    } finally {
      reader.close();
    }
  });
});

describe("health, stats and verify", () => {
  it("when the database is open, health is ok in state open and never throws", async () => {
    const db = await h.open();
    expect(db.health()).toMatchObject({ ok: true, state: "open" });
    await db.events.append("s", numbered(1));
    expect(db.health()).toMatchObject({ ok: true, state: "open" });
  });

  it("when the database is empty, stats report no events, no streams, lastPosition -1 and verify is ok", async () => {
    const db = await h.open();
    const stats = await db.stats();
    expect(stats).toMatchObject({ events: 0, streams: 0, lastPosition: -1 });
    for (const field of ["diskBytes", "segments", "garbageBytes"] as const) {
      expect(Number.isInteger(stats[field])).toBe(true);
      expect(stats[field]).toBeGreaterThanOrEqual(0);
    }
    const report = await db.verify();
    expect(report).toMatchObject({ ok: true, problems: [] });
  });

  it("when events fill several segments, stats count events, streams, segments and disk bytes and verify checks them all", async () => {
    const db = await h.open({ segmentBytes: 4096, maxRecordBytes: 1024, durability: "buffered" });
    let last = -1;
    for (let i = 0; i < 60; i++) {
      last = (await db.events.append(`s-${i % 4}`, [ev("big", { i, pad: "q".repeat(300) })])).lastPosition;
    }
    const stats = await db.stats();
    expect(stats).toMatchObject({ events: 60, streams: 4, lastPosition: last });
    expect(stats.segments).toBeGreaterThan(3);
    expect(stats.diskBytes).toBeGreaterThanOrEqual(60 * 300);
    const report = await db.verify();
    expect(report).toMatchObject({ ok: true, problems: [], segments: stats.segments });
    expect(report.records).toBeGreaterThan(0);
    const again = await h.reopen(db, { segmentBytes: 4096, maxRecordBytes: 1024 });
    expect(await again.stats()).toMatchObject({ events: 60, streams: 4, lastPosition: last });
    expect((await again.verify()).ok).toBe(true);
    await expectConsistentViews(again);
  });

  it("when a stream's events are deleted, garbageBytes grows by at least their size", async () => {
    const db = await h.open();
    await db.events.append("keep", numbered(2));
    await db.events.append("drop", Array.from({ length: 10 }, (_, i) => ev("big", { i, pad: "g".repeat(400) })));
    const before = (await db.stats()).garbageBytes;
    await db.events.deleteStream("drop");
    expect((await db.stats()).garbageBytes).toBeGreaterThanOrEqual(before + 10 * 400);
  });

  it("when open is given a directory that does not exist, it creates it", async () => {
    const dir = join(h.dir, "missing", "deeper");
    const db = await h.open(undefined, dir);
    expect(existsSync(dir)).toBe(true);
    expect(db.dir).toBe(dir);
    await db.events.append("s", numbered(1));
    const again = await h.reopen(db);
    expect(again.events.streamVersion("s")).toBe(0);
  });
});

describe("record size limit", () => {
  const limited = { maxRecordBytes: 1024 };
  const big = "x".repeat(2000);

  it("when an event is larger than maxRecordBytes, the append fails with TOO_LARGE and writes nothing, also after reopen", async () => {
    const db = await h.open(limited);
    await db.events.append("s", numbered(1));
    const before = await snapshot(db, ["s", "t"]);
    await rejectsWith(() => db.events.append("t", [ev("big", big)]), "TOO_LARGE");
    await rejectsWith(() => db.events.append("s", [ev("small", 1), ev("big", { big })]), "TOO_LARGE");
    await rejectsWith(() => db.events.append("s", [ev("meta", 1, { metadata: { big } })]), "TOO_LARGE");
    await rejectsWith(
      () => db.events.appendMany([{ streamId: "t", events: numbered(1) }, { streamId: "s", events: [ev("big", big)] }]),
      "TOO_LARGE",
    );
    expect(await snapshot(db, ["s", "t"])).toEqual(before);
    const again = await h.reopen(db, limited);
    expect(await snapshot(again, ["s", "t"])).toEqual(before);
  });

  it("when many events each fit maxRecordBytes but together exceed it, one append stores them all", async () => {
    const db = await h.open(limited);
    const events = Array.from({ length: 10 }, (_, i) => ev("medium", { i, pad: "m".repeat(400) }));
    const result = await db.events.append("s", events);
    expect([result.firstVersion, result.lastVersion]).toEqual([0, 9]);
    expect(dataOf(await db.events.readStream("s"))).toEqual(events.map((e) => e.data));
    const results = await db.events.appendMany([
      { streamId: "a", events: events.slice(0, 5) },
      { streamId: "b", events: events.slice(5) },
    ]);
    expect(results.map((r) => r.lastVersion)).toEqual([4, 4]);
  });
});

describe("durability modes", () => {
  it("when durability is sync, every acknowledged append of concurrent writers is there after reopen", async () => {
    const db = await h.open({ durability: "sync" });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => db.events.append(`s-${i % 5}`, numbered(2, i * 2))));
    const positions = results.flatMap((r) => [r.firstPosition, r.lastPosition]);
    expect(new Set(positions).size).toBe(positions.length);
    const before = await snapshot(db, ["s-0", "s-1", "s-2", "s-3", "s-4"]);
    const again = await h.reopen(db);
    expect(await snapshot(again, ["s-0", "s-1", "s-2", "s-3", "s-4"])).toEqual(before);
    expect((await again.events.readAll()).length).toBe(60);
  });

  it("when durability is buffered with a short flush interval, appends are readable at once and after reopen", async () => {
    const db: Database = await h.open({ durability: "buffered", flushIntervalMs: 5 });
    await db.events.append("s", numbered(3));
    expect((await db.events.readStream("s")).length).toBe(3);
    await db.events.append("s", numbered(2, 3));
    const again = await h.reopen(db);
    expect(dataOf(await again.events.readStream("s"))).toEqual(numbered(5).map((e) => e.data));
  });
});
