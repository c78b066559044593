/**
 * ReadTurns: reads for clients take at most bytesPerTurn a turn (one read
 * always goes, however large); the rest wait for later turns, in arrival
 * order, a request's answer before an event stream's next read; a read that
 * never reports what it read holds nobody up past its turn.
 * Over HTTP: a crowd of SSE readers and GETs arriving together on a large
 * stream is read a turn's worth at a time (a loop iteration has two phases
 * that read: its I/O phase and its check phase).
 */
import net from "node:net";
import { setImmediate as nextTurn } from "node:timers/promises";
import { open } from "../../engine/index.js";
import type * as api from "../../engine/types.js";
import { ReadTurns } from "../../engine/server/read-turns.js";
import { StreamServer } from "../../engine/server/stream-server.js";
import { useTempDir } from "../support/temp-dir.js";

const MiB = 1024 * 1024;

/** Runs `reads` (sizes) through `turns` at once; returns, per read, the turn it ran in (counted by setImmediate). */
async function turnsOf(turns: ReadTurns, sizes: number[], reports = sizes.map(() => true)): Promise<number[]> {
  let turn = 0;
  let counting = true;
  const count = (): void => {
    if (!counting) return;
    turn++;
    setImmediate(count);
  };
  setImmediate(count);
  const ranIn: number[] = [];
  await Promise.all(
    sizes.map(async (bytes, i) => {
      const wait = turns.admit();
      if (wait !== undefined) await wait;
      ranIn[i] = turn;
      if (reports[i]) turns.spent(bytes);
    }),
  );
  counting = false;
  return ranIn;
}

describe("ReadTurns", () => {
  it("lets reads go while the turn has bytes, the rest in later turns in arrival order", async () => {
    const ranIn = await turnsOf(new ReadTurns(2 * MiB), [MiB, MiB, MiB, 100, MiB, 3 * MiB, 10, 10]);
    // Two reads fill a turn; a read larger than a turn goes alone.
    expect(ranIn[0]).toBe(ranIn[1]);
    expect(ranIn[2]).toBeGreaterThan(ranIn[1]!);
    expect(ranIn[3]).toBe(ranIn[2]);
    expect(ranIn[4]).toBe(ranIn[3]);
    expect(ranIn[5]).toBeGreaterThan(ranIn[4]!);
    expect(ranIn[6]).toBeGreaterThan(ranIn[5]!);
    expect(ranIn[7]).toBe(ranIn[6]);
    for (let i = 1; i < ranIn.length; i++) expect(ranIn[i]).toBeGreaterThanOrEqual(ranIn[i - 1]!);
  });

  it("a read that never reports what it read holds the others up one turn at most", async () => {
    const ranIn = await turnsOf(new ReadTurns(2 * MiB), [MiB, MiB, MiB, MiB], [true, true, false, true]);
    expect(ranIn[3]).toBe(ranIn[2]! + 1);
  });

  it("an answer waiting goes before event-stream reads that waited longer", async () => {
    const turns = new ReadTurns(MiB);
    // The turn is spent; then three stream reads and one answer queue up, the answer last.
    expect(turns.admit()).toBeUndefined();
    turns.spent(MiB);
    const order: string[] = [];
    const queued = [
      turns.admit("stream")!.then(() => (order.push("stream 1"), turns.spent(MiB))),
      turns.admit("stream")!.then(() => (order.push("stream 2"), turns.spent(MiB))),
      turns.admit("stream")!.then(() => (order.push("stream 3"), turns.spent(MiB))),
      turns.admit("answer")!.then(() => (order.push("answer"), turns.spent(MiB))),
    ];
    await Promise.all(queued);
    expect(order).toEqual(["answer", "stream 1", "stream 2", "stream 3"]);
  });

  it("many small reads share a turn", async () => {
    const ranIn = await turnsOf(new ReadTurns(2 * MiB), Array.from({ length: 100 }, () => 1000));
    expect(new Set(ranIn).size).toBe(1);
  });
});

describe("ReadTurns over HTTP", () => {
  const tmp = useTempDir();

  it("a crowd of SSE readers and GETs arriving together on a large stream is read at most a turn's bytes (and one read) a turn", async () => {
    const db = await open(tmp.path, { durability: "buffered" });
    await db.streams.create("big");
    for (let i = 0; i < 8; i++) await db.streams.append("big", new Uint8Array(MiB).fill(i));
    // The store as the server sees it, with the bytes read counted per event-loop turn.
    let inTurn = 0;
    let most = 0;
    const count = (bytes: number): void => {
      if (inTurn === 0) setImmediate(() => (inTurn = 0));
      inTurn += bytes;
      most = Math.max(most, inTurn);
    };
    const streams = new Proxy(db.streams, {
      get(target, name, receiver) {
        if (name === "read") return async (...args: Parameters<api.ByteStreamStore["read"]>) => {
          const r = await target.read(...args);
          count(r.data.length);
          return r;
        };
        if (name === "readInPieces") return async (...args: Parameters<api.ByteStreamStore["readInPieces"]>) => {
          const r = await target.readInPieces(...args);
          count(Math.min(r.length, MiB));
          return r;
        };
        const value = Reflect.get(target, name, receiver) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const server = new StreamServer(streams, { port: 0 });
    const port = Number(new URL(await server.listen()).port);
    const sockets = Array.from({ length: 24 }, (_, i) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.on("error", () => undefined);
      socket.on("data", () => undefined);
      socket.write(`GET /v1/stream/big?offset=-1${i % 2 === 0 ? "&live=sse" : ""} HTTP/1.1\r\nHost: x\r\n\r\n`);
      return socket;
    });
    for (let t = 0; t < 40; t++) await nextTurn();
    await new Promise((done) => setTimeout(done, 500));
    // Never more than a turn's bytes in each of its two phases, and the read that crossed them, in one loop iteration.
    expect(most).toBeGreaterThanOrEqual(MiB);
    expect(most).toBeLessThanOrEqual(2 * server.readTurns.bytesPerTurn + MiB);
    for (const s of sockets) s.destroy();
    await server.close();
    await db.close();
  });
});
