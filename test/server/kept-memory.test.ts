/**
 * Kept memory over HTTP: bodies are assembled in, and answers read into,
 * buffers the server reuses across requests. A buffer handed out again too
 * early would show as another request's bytes in a stored message or an
 * answer; so many requests run at once, not awaited, with sizes on both sides
 * of every threshold this path has (where a body is assembled, the bytes taken
 * in one turn, where an answer comes from kept memory, the read budget), with
 * failing requests, a retried producer append and a reader that leaves in the
 * middle of an answer among them; every stored message and every answer must
 * be exactly what was sent, and the budget must end holding only kept buffers.
 */
import { get } from "node:http";
import { open, type Database } from "../../engine/index.js";
import { ASSEMBLE_FROM_BYTES, TURN_BYTES } from "../../engine/server/request-body.js";
import { KEPT_FROM_BYTES } from "../../engine/server/request-memory.js";
import { StreamServer } from "../../engine/server/stream-server.js";
import { patternBytes } from "../support/size-classes.js";
import { makeTempDir, removeTempDir } from "../support/temp-dir.js";

const MiB = 1024 * 1024;
const BINARY = { "content-type": "application/octet-stream" };
let dir: string;
let db: Database;
let server: StreamServer;
let base: string;

beforeEach(async () => {
  dir = await makeTempDir();
  db = await open(dir);
  server = new StreamServer(db.streams, { port: 0 });
  base = `${await server.listen()}/v1/stream`;
});

afterEach(async () => {
  await server.close();
  await db.close();
  await removeTempDir(dir);
});

const SIZES = [
  KEPT_FROM_BYTES - 1,
  KEPT_FROM_BYTES,
  ASSEMBLE_FROM_BYTES - 1,
  ASSEMBLE_FROM_BYTES,
  ASSEMBLE_FROM_BYTES + 1,
  TURN_BYTES - 1,
  TURN_BYTES + 1,
  MiB - 1,
  MiB,
  MiB + 1,
  3 * MiB + 5,
  4 * MiB,
];

async function getBytes(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe("kept memory over HTTP", () => {
  it("concurrent large appends and reads, with failures, a retry and a reader that leaves, each get exactly their own bytes", async () => {
    for (const id of ["a", "b"]) expect((await fetch(`${base}/${id}`, { method: "PUT", headers: BINARY })).status).toBe(201);
    // Messages already there, read while the appends run (each larger than 64 KiB comes from kept memory; over 1 MiB in pieces).
    const existing = SIZES.map((size, i) => patternBytes(size, 1000 + i));
    const offsets: string[] = [];
    for (const bytes of existing) {
      offsets.push((await fetch(`${base}/a`, { method: "HEAD" })).headers.get("stream-next-offset")!);
      expect((await fetch(`${base}/a`, { method: "POST", headers: BINARY, body: bytes })).status).toBe(204);
    }

    for (let round = 0; round < 3; round++) {
      const sent = SIZES.map((size, i) => patternBytes(size, round * 100 + i + 1));
      const appends = sent.map((body) => fetch(`${base}/b`, { method: "POST", headers: BINARY, body }).then((r) => r.status));
      // Failing among them: a type the stream does not take, a stream that does not exist.
      const wrongType = fetch(`${base}/b`, { method: "POST", headers: { "content-type": "application/json" }, body: patternBytes(MiB, 7) }).then((r) => r.status);
      const missing = fetch(`${base}/nope`, { method: "POST", headers: BINARY, body: patternBytes(2 * MiB, 8) }).then((r) => r.status);
      // A producer's append and its retry in flight together: stored once.
      const producer = { ...BINARY, "producer-id": "p", "producer-epoch": "0", "producer-seq": String(round) };
      const retried = patternBytes(2 * MiB + 3, 50 + round);
      const producerAppends = [0, 1].map(() => fetch(`${base}/b`, { method: "POST", headers: producer, body: retried }).then((r) => r.status));
      // A reader that leaves after the first bytes of a message sent in pieces.
      const leaving = new AbortController();
      const left = fetch(`${base}/a?offset=${offsets[SIZES.length - 1]}`, { signal: leaving.signal }).then(async (res) => {
        const reader = res.body!.getReader();
        await reader.read();
        leaving.abort();
      }, () => undefined);
      const reads = existing.map((bytes, i) => getBytes(`${base}/a?offset=${offsets[i]}`).then((got) => expect(Buffer.compare(got.subarray(0, bytes.length), bytes)).toBe(0)));

      expect(await Promise.all(appends)).toEqual(sent.map(() => 204));
      expect(await wrongType).toBe(409);
      expect(await missing).toBe(404);
      expect((await Promise.all(producerAppends)).sort()).toEqual([200, 204]);
      await Promise.all(reads);
      await left.catch(() => undefined);

      const stored = await db.streams.readMessages("b", undefined, { maxMessages: 1_000_000 });
      const ofRound = stored.messages.slice(-(sent.length + 1)).map((m) => Buffer.from(m.data));
      const expected = [...sent, retried].map((b) => Buffer.from(b));
      const key = (b: Buffer): string => `${b.length}:${b.subarray(0, 16).toString("hex")}`;
      expect(ofRound.map(key).sort()).toEqual(expected.map(key).sort());
      for (const message of ofRound) expect(expected.some((e) => Buffer.compare(e, message) === 0)).toBe(true);
    }
    // Every answer since: still exactly what was stored.
    for (let i = 0; i < existing.length; i++) expect(Buffer.compare((await getBytes(`${base}/a?offset=${offsets[i]}`)).subarray(0, existing[i]!.length), existing[i]!)).toBe(0);
    // What the budget still counts is idle kept memory only (at most an eighth of it).
    expect(server.memory.inUse).toBeLessThanOrEqual(server.memory.limit / 8);
  }, 120_000);

  it("an answer queued behind a reader that stopped reading is not overwritten by bodies that arrive meanwhile", async () => {
    for (const id of ["a", "b"]) await fetch(`${base}/${id}`, { method: "PUT", headers: BINARY });
    const message = patternBytes(12 * MiB + 3, 77);
    expect((await fetch(`${base}/a`, { method: "POST", headers: BINARY, body: message })).status).toBe(204);
    for (let round = 0; round < 3; round++) {
      const received: Buffer[] = [];
      const done = new Promise<void>((resolve, reject) => {
        get(`${base}/a?offset=-1`, (res) => {
          res.on("data", (chunk: Buffer) => received.push(chunk));
          res.on("end", resolve);
          res.on("error", reject);
          // Stop reading after the first bytes: the server's pieces queue behind the socket.
          res.once("data", () => {
            res.pause();
            const bodies = Array.from({ length: 8 }, (_, i) => patternBytes(MiB - 7 * i, 500 + i));
            void Promise.all(bodies.map((body) => fetch(`${base}/b`, { method: "POST", headers: BINARY, body }))).then(() => res.resume(), reject);
          });
        }).on("error", reject);
      });
      await done;
      expect(Buffer.compare(Buffer.concat(received), message)).toBe(0);
    }
  }, 120_000);
});
