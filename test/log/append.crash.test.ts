/**
 * Crash tier: a child process appends with durability "sync" and is SIGKILLed at a
 * random moment (seeded; replay a failure with SEGLOG_SEED=<seed>). After every
 * kill the database must open and hold every acknowledged event unchanged, no part
 * of an atomic append without the rest, dense versions and increasing positions.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { open, SeglogError } from "../../engine/index.js";
import { prng, sleep, spawnCrashWriter, testSeed } from "../support/child.js";
import { listSegments } from "../support/damage.js";

type Database = Awaited<ReturnType<typeof open>>;
type Recorded = Awaited<ReturnType<Database["events"]["readAll"]>>[number];

/** Must match WRITER_OPTIONS in test/fixtures/crash-writer.mjs. */
const OPTIONS = { segmentBytes: 32 * 1024, maxRecordBytes: 8 * 1024 };
const ROUNDS = 24;

interface AckedEvent {
  id: string;
  type: string;
  data: { stream: string; version: number; nonce: string; group: { key: string; size: number; index: number } };
  metadata: Record<string, unknown>;
  tags: string[];
}
interface Ack {
  kind: string;
  key: string;
  results: { streamId: string; firstVersion: number; lastVersion: number; firstPosition: number; lastPosition: number }[];
  items: { streamId: string; expectedVersion: number; events: AckedEvent[] }[];
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "seglog-crash-"));
}

function fail(message: string): never {
  throw new Error(message);
}

/**
 * Whole ack lines only: a line cut by the kill was never a complete ack. Each
 * round writes a file of its own, so a line cut by one kill is always its
 * file's last and never runs into the next round's first.
 */
function readAcks(ackFiles: string[]): Ack[] {
  return ackFiles.flatMap((ackFile) => {
    if (!fs.existsSync(ackFile)) return [];
    const text = fs.readFileSync(ackFile, "utf8");
    const whole = text.slice(0, text.lastIndexOf("\n") + 1);
    return whole
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Ack);
  });
}

async function checkDatabase(db: Database, acks: Ack[]): Promise<{ events: number }> {
  const all = await db.events.readAll();

  // The query index after the kill (checkpoint of an earlier round + replay of the
  // rest) holds exactly the events the log holds: none that the kill took, none missing.
  const categories = [...new Set(all.map((e) => e.streamId.slice(0, e.streamId.indexOf("-"))))];
  const queries: [Parameters<Database["events"]["query"]>[0], (e: Recorded) => boolean][] = [
    ...["w0", "w1", "w2", "single", "many"].map((tag): [Parameters<Database["events"]["query"]>[0], (e: Recorded) => boolean] => [{ items: [{ tags: [tag] }] }, (e) => e.tags.includes(tag)]),
    [{ items: [{ types: ["Moved"], tags: ["w1"] }] }, (e) => e.type === "Moved" && e.tags.includes("w1")],
    ...categories.map((c): [Parameters<Database["events"]["query"]>[0], (e: Recorded) => boolean] => [{ items: [{ categories: [c] }] }, (e) => e.streamId.startsWith(`${c}-`)]),
  ];
  for (const [query, matches] of queries) {
    const expected = all.filter(matches).map((e) => e.position);
    const got = (await db.events.query(query)).map((e) => e.position);
    if (!isDeepStrictEqual(got, expected)) fail(`query ${JSON.stringify(query)} returned ${got.length} events, the log holds ${expected.length}`);
  }

  // Positions strictly increasing across the whole log.
  for (let i = 1; i < all.length; i++) {
    if (!(all[i]!.position > all[i - 1]!.position)) fail(`readAll positions not increasing at index ${i}: ${all[i - 1]!.position} then ${all[i]!.position}`);
  }

  // Every stream: versions dense from 0, the same events as readAll, in the same order.
  const byStream = new Map<string, Recorded[]>();
  for (const e of all) {
    let list = byStream.get(e.streamId);
    if (list === undefined) byStream.set(e.streamId, (list = []));
    list.push(e);
  }
  expect(db.events.listStreams()).toEqual([...byStream.keys()].sort());
  const stream = new Map<string, Recorded[]>();
  for (const [streamId, fromAll] of byStream) {
    const events = await db.events.readStream(streamId);
    events.forEach((e, i) => {
      if (e.version !== i) fail(`stream ${streamId}: version ${e.version} at index ${i} (versions must be dense from 0)`);
      if (e.streamId !== streamId) fail(`stream ${streamId}: event ${e.id} claims stream ${e.streamId}`);
    });
    if (db.events.streamVersion(streamId) !== events.length - 1) fail(`stream ${streamId}: streamVersion ${db.events.streamVersion(streamId)}, but ${events.length} events`);
    if (!isDeepStrictEqual(events, fromAll)) fail(`stream ${streamId}: readStream and readAll disagree`);
    stream.set(streamId, events);
  }

  // Every event, acknowledged or not, is one the writer made (see crash-writer.mjs).
  const groups = new Map<string, Recorded[]>();
  for (const e of all) {
    const d = e.data as AckedEvent["data"];
    if (d.stream !== e.streamId || d.version !== e.version || e.id !== `${e.streamId}/${e.version}/${d.nonce}`) {
      fail(`event at position ${e.position} is not the one written for ${e.streamId}@${e.version}: ${JSON.stringify(e)}`);
    }
    let members = groups.get(d.group.key);
    if (members === undefined) groups.set(d.group.key, (members = []));
    members.push(e);
  }
  // No partial atomic append: a group is either all there or not at all.
  for (const [key, members] of groups) {
    const d = members[0]!.data as AckedEvent["data"];
    const indexes = members.map((m) => (m.data as AckedEvent["data"]).group.index).sort((a, b) => a - b);
    if (!isDeepStrictEqual(indexes, Array.from({ length: d.group.size }, (_, i) => i))) {
      fail(`atomic append ${key} is partial: has members ${JSON.stringify(indexes)} of ${d.group.size}`);
    }
  }

  // Every acknowledged event is there, identical, where the AppendResult said.
  for (const ack of acks) {
    expect(ack.results).toHaveLength(ack.items.length);
    ack.items.forEach((item, k) => {
      const result = ack.results[k]!;
      const events = stream.get(item.streamId) ?? [];
      if (result.streamId !== item.streamId || result.firstVersion !== item.expectedVersion + 1 || result.lastVersion !== item.expectedVersion + item.events.length) {
        fail(`ack ${ack.key}: AppendResult ${JSON.stringify(result)} does not match the append (expectedVersion ${item.expectedVersion}, ${item.events.length} events)`);
      }
      item.events.forEach((want, i) => {
        const got = events[result.firstVersion + i];
        if (got === undefined) fail(`acknowledged event ${want.id} (${item.streamId}@${result.firstVersion + i}) is missing after the crash`);
        const same = got.id === want.id && got.type === want.type && isDeepStrictEqual(got.data, want.data) && isDeepStrictEqual(got.metadata, want.metadata) && isDeepStrictEqual(got.tags, want.tags);
        if (!same) fail(`acknowledged event ${want.id} changed: wrote ${JSON.stringify(want)}, read ${JSON.stringify(got)}`);
      });
      if (events[result.firstVersion]!.position !== result.firstPosition || events[result.lastVersion]!.position !== result.lastPosition) {
        fail(`ack ${ack.key}: positions ${result.firstPosition}..${result.lastPosition} acknowledged, read ${events[result.firstVersion]!.position}..${events[result.lastVersion]!.position}`);
      }
    });
  }

  const report = await db.verify();
  if (!report.ok) fail(`verify() after the crash: ${JSON.stringify(report)}`);
  return { events: all.length };
}

describe("append under SIGKILL", () => {
  test("when a sync writer is killed at random moments, every acknowledged event survives, atomic appends are all-or-nothing and the log stays dense", async () => {
    const seed = testSeed();
    const rand = prng(seed);
    const dir = tempDir();
    const ackFiles: string[] = [];
    let round = 0;
    let acked = 0;
    try {
      for (; round < ROUNDS; round++) {
        const ackFile = path.join(dir, "..", `${path.basename(dir)}.acks.${round}`);
        ackFiles.push(ackFile);
        const child = spawnCrashWriter(["write", dir, String(Math.floor(rand() * 2 ** 31)), ackFile, "3"]);
        if (rand() < 0.2) {
          // Sometimes the kill lands during open (recovery, lock takeover, checkpoint).
          await sleep(Math.floor(rand() * 250));
        } else {
          await child.waitForLine((l) => l === "ready", 30_000);
          await sleep(20 + Math.floor(rand() * 281));
        }
        const exit = await child.kill();
        if (exit.signal !== "SIGKILL") fail(`the writer exited by itself (code ${exit.code}) before it was killed: ${child.stderr()}`);

        const acks = readAcks(ackFiles);
        acked = acks.reduce((n, a) => n + a.items.reduce((m, it) => m + it.events.length, 0), 0);
        const db = await open(dir, OPTIONS);
        try {
          await checkDatabase(db, acks);
        } finally {
          await db.close();
        }
      }
      // The test only means something if the writer got work done and segments rolled.
      expect(acked).toBeGreaterThan(200);
      expect(listSegments(dir).length).toBeGreaterThan(2);
    } catch (e) {
      const err = e as Error;
      err.message = `seed ${seed} (replay with SEGLOG_SEED=${seed}), round ${round}: ${err.message}`;
      throw err;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      for (const ackFile of ackFiles) fs.rmSync(ackFile, { force: true });
    }
  }, 150_000);

  test("when the writer holding the LOCK is killed, its stale lock is taken over; a live holder is refused with LOCKED", async () => {
    const dir = tempDir();
    try {
      const holder = spawnCrashWriter(["hold", dir]);
      await holder.waitForLine((l) => l === "ready", 30_000);
      // A live writer in another process: refused.
      let err: unknown;
      try {
        const db = await open(dir, OPTIONS);
        await db.close();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SeglogError);
      expect((err as SeglogError).code).toBe("LOCKED");
      expect(fs.existsSync(path.join(dir, "LOCK"))).toBe(true);

      const exit = await holder.kill();
      expect(exit.signal).toBe("SIGKILL");
      // The LOCK file is still there, naming a dead process: taken over.
      expect(fs.existsSync(path.join(dir, "LOCK"))).toBe(true);
      const db = await open(dir, OPTIONS);
      try {
        await db.events.append("after-takeover", [{ type: "T", data: 1, id: "after-1" }], { expectedVersion: "no_stream" });
        // And now this process holds it: another process is refused.
        const prober = spawnCrashWriter(["try-open", dir]);
        const line = await prober.waitForLine((l) => l.startsWith("{"), 30_000);
        await prober.exited;
        expect(JSON.parse(line)).toMatchObject({ ok: false, code: "LOCKED" });
      } finally {
        await db.close();
      }
      // Released by close: another process may open it.
      const prober = spawnCrashWriter(["try-open", dir]);
      const line = await prober.waitForLine((l) => l.startsWith("{"), 30_000);
      await prober.exited;
      expect(JSON.parse(line)).toEqual({ ok: true });
      const again = await open(dir, OPTIONS);
      try {
        expect((await again.events.readStream("after-takeover")).map((e) => e.id)).toEqual(["after-1"]);
      } finally {
        await again.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
