/**
 * Readers in other processes follow the writer: a read-only database sees what
 * the writer commits, across segment rolls, compactions and a writer killed
 * with SIGKILL and started again, and only ever what the writer's fsyncs made
 * durable. Writer and reader are separate processes (test/fixtures/follow-*.mjs).
 */
import { open } from "../../engine/index.js";
import { NodeFileSystem } from "../../engine/io/node-file-system.js";
import { DurableTailWriter } from "../../engine/log/durable-tail.js";
import { REPO_ROOT, spawnFixture, type Child } from "../support/child.js";
import { baseSeed, Rng } from "../support/fuzz.js";
import { makeTempDir, removeTempDir } from "../support/temp-dir.js";
import { until } from "../support/until.js";
import * as path from "node:path";

const WRITER = path.join(REPO_ROOT, "test", "fixtures", "follow-writer.mjs");
const READER = path.join(REPO_ROOT, "test", "fixtures", "follow-reader.mjs");

let dir: string;
const children: Child[] = [];

beforeEach(async () => {
  dir = await makeTempDir("seglog-follow-");
});

afterEach(async () => {
  for (const c of children.splice(0)) await c.kill();
  await removeTempDir(dir);
});

function acked(writer: Child): number[] {
  return writer.lines.filter((l) => l.startsWith("ack ")).map((l) => Number(l.slice(4)));
}

function seen(reader: Child): { position: number; ms: number }[] {
  return reader.lines.filter((l) => l.startsWith("saw ")).map((l) => {
    const [, p, ms] = l.split(" ");
    return { position: Number(p), ms: Number(ms) };
  });
}


describe("a read-only database in another process", () => {
  it("when the writer appends, rolls, compacts, is killed with SIGKILL and starts again, the reader's subscription delivers every acknowledged event once, in order, soon after its fsync", async () => {
    const rng = new Rng(baseSeed() ^ 0xf0110);
    // The database exists before the reader opens it.
    const first = spawnFixture(WRITER, [dir, "50", String(rng.int(2 ** 31))]);
    children.push(first);
    await first.waitForLine((l) => l === "done", 30_000);
    await first.exited;

    const reader = spawnFixture(READER, [dir]);
    children.push(reader);
    await reader.waitForLine((l) => l === "ready", 20_000);

    const killed = spawnFixture(WRITER, [dir, "100000", String(rng.int(2 ** 31))]);
    children.push(killed);
    await killed.waitForLine((l) => l === "ready", 20_000);
    await until(() => acked(killed).length >= 300 + rng.int(300), 60_000, "the writer's acknowledgements");
    await killed.kill();
    const ackedBeforeKill = acked(killed);

    const last = spawnFixture(WRITER, [dir, "300", String(rng.int(2 ** 31))]);
    children.push(last);
    await last.waitForLine((l) => l === "done", 60_000);
    await last.exited;
    const finalAcked = acked(last);
    const lastPosition = Math.max(...finalAcked);
    await until(() => seen(reader).some((s) => s.position === lastPosition), 10_000, "the reader to reach the last append");

    reader.proc.kill("SIGTERM");
    await reader.waitForLine((l) => l === "closed", 10_000);
    const delivered = seen(reader);
    const positions = delivered.map((s) => s.position);
    // In order, once each.
    for (let i = 1; i < positions.length; i++) expect(positions[i]!).toBeGreaterThan(positions[i - 1]!);
    // Every acknowledged event, also those acknowledged just before the kill.
    const deliveredSet = new Set(positions);
    expect([...ackedBeforeKill, ...finalAcked].filter((p) => !deliveredSet.has(p))).toEqual([]);
    // Exactly what the database holds: nothing the reader saw was taken back.
    const db = await open(dir, { readOnly: true });
    try {
      expect(positions).toEqual((await db.events.readAll()).map((e) => e.position));
    } finally {
      await db.close();
    }
    // Soon: half of the events within 50 ms of their append (fsync included), none later than 2 s.
    const latencies = delivered.filter((s) => s.position > Math.max(...acked(first))).map((s) => s.ms).sort((a, b) => a - b);
    expect(latencies[Math.floor(latencies.length / 2)]!).toBeLessThanOrEqual(50);
    expect(latencies[latencies.length - 1]!).toBeLessThan(2000);
  }, 180_000);

  it("when the writer has written but not yet fsynced (buffered), a reader neither opens onto nor follows into those records; once fsynced they arrive", async () => {
    const writer = await open(dir, { durability: "buffered", flushIntervalMs: 3_600_000 });
    try {
      await writer.events.append("durable", [{ type: "T", data: 0 }]);
      await writer.close();
      const again = await open(dir, { durability: "buffered", flushIntervalMs: 3_600_000 });
      // Acknowledged (buffered: handed to the OS) but not fsynced.
      await again.events.append("pending", [{ type: "T", data: 1 }, { type: "T", data: 2 }]);
      const reader = await open(dir, { readOnly: true });
      try {
        expect((await reader.events.readAll()).map((e) => e.streamId)).toEqual(["durable"]);
        await new Promise((r) => setTimeout(r, 400)); // two of the reader's timer periods: it looked again
        expect(reader.events.streamExists("pending")).toBe(false);
        await again.close(); // fsyncs, then says so
        await until(() => reader.events.streamExists("pending"), 5_000, "the fsynced events");
        expect((await reader.events.readStream("pending")).map((e) => e.data)).toEqual([1, 2]);
      } finally {
        await reader.close();
      }
    } finally {
      await writer.close();
    }
  });

  it("when the writer creates byte streams and objects, a reader's reads and long-polls see them", async () => {
    const writer = await open(dir);
    const reader = await open(dir, { readOnly: true });
    try {
      await writer.streams.create("log", { contentType: "text/plain" });
      await until(() => reader.streams.list().includes("log"), 5_000, "the byte stream");
      const start = reader.streams.currentOffset("log");
      const woke = reader.streams.waitForData("log", start, 5_000);
      await writer.streams.append("log", new TextEncoder().encode("hello"));
      expect(await woke).toBe(true);
      const read = await reader.streams.read("log", start);
      expect(new TextDecoder().decode(read.data)).toBe("hello");
      const hash = await writer.objects.put(new Uint8Array([1, 2, 3]));
      await until(() => reader.objects.has(hash), 5_000, "the object");
      expect([...(await reader.objects.get(hash))]).toEqual([1, 2, 3]);
    } finally {
      await reader.close();
      await writer.close();
    }
  });
});

describe("a read-only database whose writer's tail cannot be followed", () => {
  it("when the TAIL names a segment whose file is gone, the reader does not crash: reads go on, health says why, and following resumes once the TAIL is right again", async () => {
    const writer = await open(dir, { segmentBytes: 4096 });
    for (let i = 0; i < 40; i++) await writer.events.append("s", [{ type: "T", data: "x".repeat(200) }]);
    await writer.close();
    const reader = await open(dir, { readOnly: true });
    try {
      const before = (await reader.events.readStream("s")).length;
      expect(before).toBe(40);
      const last = (await reader.stats()).segments - 1;
      const tail = new DurableTailWriter(new NodeFileSystem(), dir);
      tail.publish(last + 3, 100); // segments last+1.. do not exist
      await until(() => !reader.health().ok, 5_000, "health to report the failure");
      expect(reader.health()).toMatchObject({ ok: false, state: "failed", reason: expect.stringMatching(/following the writer failed \(reopen to catch up\)/) });
      expect((await reader.events.readStream("s")).length).toBe(40);
      const again = await open(dir, { segmentBytes: 4096 }); // publishes the true tail at its first fsync
      await again.events.append("s", [{ type: "T", data: "after" }]);
      await until(() => reader.events.streamVersion("s") === 40, 5_000, "the reader to follow again");
      expect(reader.health()).toEqual({ ok: true, state: "open" });
      tail.close();
      await again.close();
    } finally {
      await reader.close();
    }
  });
});
