/**
 * seglog/replication against a real 3-node NATS JetStream cluster (nats-server
 * processes on free loopback ports, started here; `.ci/run` installs the Debian
 * package). scripts/run-tests.mjs leaves this file out, and says so in its last
 * line, when nats-server is not installed.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { NatsCluster } from "../../bench/nats-cluster.js";
import { open } from "../../engine/database.js";
import { SeglogError } from "../../engine/index.js";
import type { Database, RecordedEvent } from "../../engine/index.js";
import { replicate, restore, type Replication } from "../../engine/integrations/replication/index.js";
import { REPO_ROOT } from "../support/child.js";
import { makeTempDir, removeTempDir } from "../support/temp-dir.js";
import { until } from "../support/until.js";
import { HeldSyncFileSystem } from "../support/held-sync-file-system.js";

const LONG = 240_000;

let root: string;
let cluster: NatsCluster;
let nc: NatsConnection;
let jsm: JetStreamManager;
let streamCount = 0;
const open_: Database[] = [];

beforeAll(async () => {
  root = await makeTempDir("seglog-replication-");
  cluster = await NatsCluster.start(join(root, "nats"), 3);
  await cluster.ready();
  nc = await connect({ servers: cluster.servers });
  jsm = await jetstreamManager(nc, { checkAPI: false });
}, 60_000);

afterAll(async () => {
  for (const db of open_) await db.close().catch(() => undefined);
  await nc?.close();
  await cluster?.stop();
  await removeTempDir(root);
});

function dir(name: string): string {
  return join(root, `${name}-${streamCount}`);
}

function freshStream(): string {
  return `EV${++streamCount}`;
}

async function openDb(path: string, options: Parameters<typeof open>[1] = {}): Promise<Database> {
  const db = await open(path, options);
  open_.push(db);
  return db;
}

/** Starts replication, retrying while the cluster elects a leader (a conflict is never retried). */
async function start(db: Database, stream: string, extra: { ack?: "local" | "replicated" } = {}): Promise<Replication> {
  for (let tries = 0; ; tries++) {
    try {
      return await replicate(db, { servers: cluster.servers, stream, publishTimeoutMs: 3000, ...extra });
    } catch (err) {
      if ((err as SeglogError).code === "REPLICATION_CONFLICT" || tries > 40) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function caughtUp(r: Replication): Promise<void> {
  await until(() => r.status().lagEvents === 0 && r.status().state === "forwarding", 60_000);
}

/** Everything a reader can see of the event store, for equality between two databases. */
async function view(db: Database): Promise<unknown> {
  const all = await db.events.readAll();
  const streams = db.events.listStreams();
  const perStream: Record<string, unknown> = {};
  const named = [0, 1, 2].flatMap((round) => ["gone", "hard", "cut", "kept"].map((n) => `${n}${round}`));
  for (const s of ["a", "b", "big", ...named, ...streams]) {
    perStream[s] = {
      version: db.events.streamVersion(s),
      exists: db.events.streamExists(s),
      read: await db.events.readStream(s).then((es) => es.map(flat), (e: SeglogError) => e.code),
    };
  }
  return { all: all.map(flat), streams, perStream, last: (await db.stats()).lastPosition };
}

function flat(e: RecordedEvent): unknown[] {
  // Bytes compare as base64 (JSON.stringify would spell a 2.5 MB Uint8Array out index by index).
  const data = e.data instanceof Uint8Array ? `bytes:${Buffer.from(e.data.buffer, e.data.byteOffset, e.data.length).toString("base64")}` : JSON.stringify(e.data ?? null);
  return [e.position, e.streamId, e.version, e.id, e.type, e.timestamp, data, e.metadata, e.tags];
}

function runCli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "dist/engine/cli/main.js"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("exit", (code) => done({ code, out, err }));
  });
}

/** A history with every kind of record: events of many sizes (one over NATS's 1 MiB payload), deletes, truncation, retention, an atomic group. */
async function writeHistory(db: Database, round = 0, big = true): Promise<void> {
  for (let i = 0; i < 30; i++) await db.events.append(i % 2 ? "a" : "b", [{ type: "T", data: { i, round, pad: "x".repeat(i * 37) }, metadata: { m: i }, tags: [`t${i % 3}`] }]);
  if (big) await db.events.append("big", [{ type: "Big", data: new Uint8Array(2_500_000).fill(7 + round) }]);
  await db.events.appendMany([
    { streamId: `gone${round}`, events: [{ type: "G" }, { type: "G" }] },
    { streamId: `hard${round}`, events: [{ type: "H", data: new Uint8Array([1, 2, 3]) }] },
    { streamId: `cut${round}`, events: Array.from({ length: 6 }, (_, k) => ({ type: "C", data: k })) },
    { streamId: `kept${round}`, events: Array.from({ length: 6 }, (_, k) => ({ type: "K", data: k })) },
  ]);
  await db.events.deleteStream(`gone${round}`);
  await db.events.deleteStream(`hard${round}`, { hard: true });
  await db.events.truncateStream(`cut${round}`, 4);
  await db.events.setStreamRetention(`kept${round}`, { maxCount: 2 });
  await expect(db.events.append("a", [{ type: "T" }], { expectedVersion: 0 })).rejects.toMatchObject({ code: "WRONG_EXPECTED_VERSION" });
}

async function restoredView(stream: string, target: string): Promise<unknown> {
  await restore(target, { servers: cluster.servers, stream });
  const db = await openDb(target);
  return view(db);
}

describe("seglog/replication", () => {
  it("forwards every kind of record, and restore reads back the same database, also after the original is compacted", async () => {
    const stream = freshStream();
    const db = await openDb(dir("original"), { segmentBytes: 8 * 1024 * 1024 });
    const r = await start(db, stream);
    await writeHistory(db);
    await caughtUp(r);
    const before = await view(db);
    expect(await restoredView(stream, dir("restored"))).toEqual(before);

    // A compaction of the original folds its deletes into snapshots: the stream keeps the operations, and both read the same.
    await db.compact();
    await writeHistory(db, 1);
    await caughtUp(r);
    expect(await restoredView(stream, dir("restored-after-compaction"))).toEqual(await view(db));

    // A fresh stream forwarded from the compacted log (snapshots first) restores the same too.
    await r.close();
    const fresh = freshStream();
    const r2 = await start(db, fresh);
    await caughtUp(r2);
    expect(await restoredView(fresh, dir("restored-from-compacted"))).toEqual(await view(db));
    await r2.close();
  }, LONG);

  it('ack "replicated": every resolved append is in JetStream, so deleting the local directory loses none of them', async () => {
    const stream = freshStream();
    const path = dir("replicated");
    const db = await open(path);
    const r = await start(db, stream, { ack: "replicated" });
    const resolved: string[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async (_, k) => {
        for (let i = 0; i < 40; i++) {
          const id = `r${k}-${i}`;
          const result = await db.events.append(`s${k}`, [{ id, type: "T", data: i }]);
          resolved.push(id);
          // When an append resolves, JetStream has acknowledged it already.
          expect(r.status().lastForwardedPosition).toBeGreaterThanOrEqual(result.lastPosition);
        }
      }),
    );
    await db.events.deleteStream("s0");
    await r.close();
    await db.close();
    rmSync(path, { recursive: true, force: true });
    await restore(dir("replicated-restored-2"), { servers: cluster.servers, stream });
    const restored = await openDb(dir("replicated-restored-2"));
    const ids = new Set((await restored.events.readAll()).map((e) => e.id));
    for (const id of resolved.filter((x) => !x.startsWith("r0-"))) expect(ids.has(id)).toBe(true);
    expect(restored.events.streamExists("s0")).toBe(false);
    expect(restored.events.streamVersion("s0")).toBe(39);
  }, LONG);

  it("a second database publishing to the same stream is fenced, and one holding an older copy (the stream ahead) is refused without changing anything", async () => {
    const stream = freshStream();
    const a = await openDb(dir("first"));
    const r = await start(a, stream);
    await a.events.append("x", [{ type: "T", data: 1 }]);
    await caughtUp(r);
    // An older copy of the same database: the stream holds what it does not.
    await r.close();
    await a.close();
    const backup = dir("backup");
    cpSync(dir("first"), backup, { recursive: true });
    const a2 = await openDb(dir("first"));
    const r2 = await start(a2, stream);
    await a2.events.append("x", [{ type: "T", data: 2 }]);
    await caughtUp(r2);
    const seqBefore = (await jsm.streams.info(stream)).state.last_seq;

    const old = await openDb(backup);
    await expect(start(old, stream)).rejects.toMatchObject({ code: "REPLICATION_CONFLICT", message: expect.stringContaining("ahead") });
    const other = await openDb(dir("other"));
    await other.events.append("x", [{ type: "T", data: "another history" }]);
    await other.events.append("x", [{ type: "T", data: "another history" }]);
    await other.events.append("x", [{ type: "T", data: "another history" }]);
    await expect(start(other, stream)).rejects.toMatchObject({ code: "REPLICATION_CONFLICT", message: expect.stringContaining("another database") });
    expect((await jsm.streams.info(stream)).state.last_seq).toBe(seqBefore);
    await r2.close();

    // Two databases starting on one empty stream at once: exactly one forwards, the other stops.
    const race = freshStream();
    const p = await openDb(dir("p"));
    const q = await openDb(dir("q"));
    const [rp, rq] = await Promise.all([start(p, race), start(q, race)]);
    await Promise.all([p.events.append("x", [{ type: "P" }]), q.events.append("x", [{ type: "Q" }])]);
    await until(() => [rp, rq].some((h) => h.status().state === "stopped"), 30_000);
    const states = [rp.status(), rq.status()];
    expect(states.filter((s) => s.state === "stopped")).toHaveLength(1);
    expect(states.find((s) => s.state === "stopped")!.lastError).toMatch(/another database|ahead/);
    const info = await jsm.streams.info(race);
    expect(info.state.messages).toBe(1);
    await rp.close();
    await rq.close();
  }, LONG);

  it('"buffered" durability: nothing leaves the machine before its fsync', async () => {
    const stream = freshStream();
    const db = await openDb(dir("buffered"), { durability: "buffered", flushIntervalMs: 1500 });
    const r = await start(db, stream);
    await new Promise((done) => setTimeout(done, 1600)); // one flush behind us: the next is ~1.5 s away
    await db.events.append("b", [{ type: "T", data: 1 }]);
    await new Promise((done) => setTimeout(done, 300));
    expect((await jsm.streams.info(stream)).state.messages).toBe(0);
    expect(r.status().lagEvents).toBe(1);
    await until(() => jsm.streams.info(stream).then((i) => i.state.messages === 1), 5_000);
    await r.close();
  }, LONG);

  it("a restored database goes on replicating into the same stream; compaction while replication is down leaves unforwarded records alone", async () => {
    const stream = freshStream();
    const db = await openDb(dir("dr-original"), { segmentBytes: 64 * 1024 });
    const r = await start(db, stream);
    await writeHistory(db, 0, false);
    await caughtUp(r);
    await r.close();
    // Written while replication is down, then compacted (as `seglog compact` would).
    await writeHistory(db, 2, false);
    await db.compact();
    const r2 = await start(db, stream);
    await caughtUp(r2);
    await r2.close();
    await restore(dir("dr-restored"), { servers: cluster.servers, stream });
    const restored = await openDb(dir("dr-restored"), { segmentBytes: 64 * 1024 });
    expect(await view(restored)).toEqual(await view(db));
    // The replacement machine continues the stream.
    const r3 = await start(restored, stream);
    await restored.events.append("a", [{ type: "After", data: "restore" }]);
    await caughtUp(r3);
    await r3.close();
    expect(await restoredView(stream, dir("dr-restored-again"))).toEqual(await view(restored));
  }, LONG);

  it("CLI: seglog restore --from-nats, seglog stats shows replication, seglog serve --replicate forwards", async () => {
    const stream = freshStream();
    const path = dir("cli");
    const db = await open(path);
    const r = await start(db, stream);
    await writeHistory(db, 0, false);
    await caughtUp(r);
    await r.close();
    await db.close();
    const cli = (...args: string[]) => runCli(args);
    const stats = await cli("stats", path);
    expect(stats).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`replication +stream ${stream}: forwarded through position \\d+, 0 events behind`)) });
    const restored = await cli("restore", dir("cli-restored"), "--from-nats", cluster.servers.join(","), "--stream", stream);
    expect(restored).toMatchObject({ code: 0, err: "", out: expect.stringMatching(/^restored \d+ records from \d+ messages/) });
    const again = await cli("restore", dir("cli-restored"), "--from-nats", cluster.servers.join(","), "--stream", stream);
    expect(again).toMatchObject({ code: 2, err: expect.stringContaining("ALREADY_EXISTS") });
    const a = await openDb(path, { readOnly: true });
    const b = await openDb(dir("cli-restored"), { readOnly: true });
    expect(await view(b)).toEqual(await view(a));
    await a.close();

    // serve --replicate: the served database's events go on into the stream.
    const served = spawn(process.execPath, [join(REPO_ROOT, "dist/engine/cli/main.js"), "serve", path, "--port", "0", "--replicate", cluster.servers.join(","), "--replicate-stream", stream], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    served.stdout.on("data", (d: Buffer) => (out += d.toString()));
    await until(() => out.includes(`forwarding events to stream ${stream}`), 30_000, "serve to start replicating");
    const exited = new Promise((done) => served.once("exit", done));
    served.kill("SIGTERM");
    await exited;
  }, LONG);

  it('close() in the middle of forwarding returns; appends waiting for "replicated" then resolve or reject NOT_REPLICATED, and every one is stored', async () => {
    // Right after replicated appends resolve, the forwarder is still finishing its round: close must not wait for a commit that never comes.
    for (let round = 0; round < 5; round++) {
      const db = await openDb(dir(`close-after-${round}`));
      const r = await start(db, freshStream(), { ack: "replicated" });
      await db.events.append("o", [{ type: "A" }]);
      await db.events.append("o", [{ type: "B" }]);
      const closed = await Promise.race([r.close().then(() => "closed"), new Promise((done) => setTimeout(() => done("still waiting after 10 s"), 10_000))]);
      expect(closed).toBe("closed");
    }
    // Appends whose commit lands after close() finished (their fsync held until then) still settle.
    {
      const fs = new HeldSyncFileSystem();
      const db = await openDb(dir("commit-after-close"), { fileSystem: fs });
      const r = await start(db, freshStream(), { ack: "replicated" });
      fs.hold();
      const pending = [0, 1].map((i) =>
        db.events.append("late", [{ type: "T", data: i }]).then(
          () => "resolved",
          (err: { code?: string }) => err.code,
        ),
      );
      await until(() => fs.heldSyncs > 0, 10_000, "the appends' fsync to begin");
      await r.close();
      fs.release();
      const outcome = await Promise.race([Promise.all(pending), new Promise((done) => setTimeout(() => done("still waiting after 10 s"), 10_000))]);
      expect(outcome).toEqual(["NOT_REPLICATED", "NOT_REPLICATED"]);
      expect(await db.events.readStream("late")).toHaveLength(2);
    }
    for (let round = 0; round < 5; round++) {
      const stream = freshStream();
      const db = await openDb(dir(`closing-${round}`));
      const r = await start(db, stream, { ack: "replicated" });
      const appends = Array.from({ length: 200 }, (_, i) => db.events.append(`c${i % 7}`, [{ id: `c-${i}`, type: "T", data: i }]));
      const outcomes = Promise.allSettled(appends);
      await new Promise((done) => setTimeout(done, round * 3));
      await r.close();
      const settled = await outcomes;
      for (const s of settled) if (s.status === "rejected") expect(s.reason).toMatchObject({ name: "SeglogError", code: "NOT_REPLICATED" });
      expect(await db.events.readAll()).toHaveLength(200);
      expect(r.status().state).toBe("closed");
    }
  }, LONG);

  it("a record split over several messages, of which the stream holds only the first part, is completed on start and restores whole", async () => {
    const stream = freshStream();
    const db = await openDb(dir("split"));
    await db.events.append("s", [{ type: "Small", data: 1 }]);
    const big = new Uint8Array(2_300_000).map((_, i) => i % 251);
    await db.events.append("big", [{ type: "Big", data: big }]);
    // What a forwarder killed between the parts of the big record leaves: record 0, then part 1 of 3 of record 1.
    const r = await start(db, stream);
    await caughtUp(r);
    await r.close();
    const all = await jsm.streams.info(stream);
    expect(all.state.messages).toBe(4); // 1 + 3 parts
    const partial = freshStream();
    await jsm.streams.add({ name: partial, subjects: [`seglog.${partial}.>`], num_replicas: 3 });
    const js = jetstream(nc);
    for (let seq = 1; seq <= 2; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq });
      const h = headers();
      for (const name of ["Seglog-Key", "Seglog-Record", "Seglog-Part"]) if (m!.header.has(name)) h.set(name, m!.header.get(name));
      await js.publish(m!.subject.replace(`seglog.${stream}.`, `seglog.${partial}.`), m!.data, { headers: h, msgID: m!.header.get("Nats-Msg-Id"), expect: { lastSequence: seq - 1 } });
    }
    expect((await jsm.streams.getMessage(partial, { seq: 2 }))!.header.get("Seglog-Part")).toBe("1/3");
    const r2 = await start(db, partial);
    await caughtUp(r2);
    await r2.close();
    expect((await jsm.streams.info(partial)).state.messages).toBe(4);
    const restored = await restoredView(partial, dir("split-restored"));
    expect(restored).toEqual(await view(db));
    const back = await openDb(dir("split-restored"), { readOnly: true });
    expect(Buffer.compare((await back.events.readStream("big"))[0]!.data as Uint8Array, big)).toBe(0);
  }, LONG);

  it("bad input is INVALID_ARGUMENT and restore never writes into an existing database", async () => {
    const db = await openDb(dir("bad"));
    for (const options of [{}, { servers: cluster.servers }, { servers: [], stream: "S" }, { servers: cluster.servers, stream: "a.b" }, { servers: cluster.servers, stream: "S", ack: "sometimes" }, { servers: cluster.servers, stream: "S", subjectPrefix: "a.>" }]) {
      await expect(Promise.resolve().then(() => replicate(db, options as never))).rejects.toMatchObject({ name: "SeglogError", code: "INVALID_ARGUMENT" });
    }
    await db.events.append("x", [{ type: "T" }]);
    await expect(restore(dir("bad"), { servers: cluster.servers, stream: "EV1" })).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
    // One forwarder per database: a second replicate() while one runs (or starts) is refused; after close it may start again.
    const stream = freshStream();
    const first = start(db, stream);
    await expect(replicate(db, { servers: cluster.servers, stream })).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
    const r = await first;
    await expect(replicate(db, { servers: cluster.servers, stream: freshStream() })).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
    await r.close();
    const again = await start(db, stream);
    await caughtUp(again);
    await again.close();
    expect(await db.events.readAll()).toHaveLength(1);
  }, LONG);

  it("forwards 100,000 events from 64 appenders exactly once, in position order, through SIGKILLs of the process and of the stream leader", async () => {
    const stream = freshStream();
    const path = dir("killed");
    const target = Number(process.env.SEGLOG_REPLICATION_EVENTS ?? 100_000);
    const acked = new Set<string>();
    let leaderKilled: number | undefined;
    for (let round = 0; round < 5; round++) {
      const ackFile = join(root, `acks-${streamCount}-${round}`);
      const child = spawn(process.execPath, [join(REPO_ROOT, "test/fixtures/replication-writer.mjs"), path, cluster.servers.join(","), stream, String(target), ackFile], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
      if (round < 4) {
        await new Promise((done) => setTimeout(done, 1500 + Math.random() * 2500));
        if (round === 1) {
          const leader = (await jsm.streams.info(stream)).cluster?.leader;
          leaderKilled = cluster.nodes.findIndex((n) => n.name === leader);
          if (leaderKilled >= 0) await cluster.kill(leaderKilled);
        }
        child.kill("SIGKILL");
        await exited;
        if (round === 2 && leaderKilled !== undefined && leaderKilled >= 0) await cluster.restart(leaderKilled);
      } else {
        const code = await exited;
        expect({ code, out: out.slice(-2000) }).toEqual({ code: 0, out: expect.stringContaining("caught-up") });
      }
      // Only whole lines: the kill may cut the last one (or come before the file was opened).
      const text = existsSync(ackFile) ? readFileSync(ackFile, "utf8") : "";
      for (const line of text.slice(0, text.lastIndexOf("\n") + 1).split("\n")) if (line) acked.add(line);
    }
    const restoredPath = dir("killed-restored");
    const result = await restore(restoredPath, { servers: cluster.servers, stream });
    const restored = await openDb(restoredPath);
    const events = await restored.events.readAll();
    // Exactly once: one message per record, every event once.
    expect(result.messages).toBe(result.records);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (let i = 1; i < events.length; i++) expect(events[i]!.position).toBeGreaterThan(events[i - 1]!.position);
    const ids = new Set(events.map((e) => e.id));
    const missing = [...acked].filter((id) => !ids.has(id));
    expect(missing).toEqual([]);
    expect(events.length).toBeGreaterThanOrEqual(target);
    const original = await openDb(path, { readOnly: true });
    expect((await original.events.readAll()).map(flat)).toEqual(events.map(flat));
  }, LONG);
});
