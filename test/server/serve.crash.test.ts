/**
 * Crash tier for `seglog serve`: the BUILT CLI runs as a child process while
 * HTTP clients append (plain appends and idempotent producers), and is
 * SIGKILLed at a random moment (seeded; replay with SEGLOG_SEED=<seed>). After
 * each restart on the same directory every acknowledged append must be there,
 * once, in each writer's order, and producer dedup must still hold: a retry of
 * the last acknowledged seq is a duplicate, a retry of the one in flight at the
 * kill lands exactly once, and the producer goes on from there.
 */
import * as path from "node:path";
import { makeTempDir, removeTempDir } from "../support/temp-dir.js";
import { prng, REPO_ROOT, sleep, spawnFixture, testSeed, type Child } from "../support/child.js";

const CLI = path.join(REPO_ROOT, "dist", "engine", "cli", "main.js");
const ROUNDS = 4;
const PLAIN_WRITERS = 3;
const PRODUCERS = 3;

interface Server {
  child: Child;
  base: string;
}

async function startServer(dir: string): Promise<Server> {
  const child = spawnFixture(CLI, ["serve", dir, "--port", "0"]);
  const line = await child.waitForLine((l) => l.includes("/v1/stream/"), 20_000);
  const base = /at (http:\/\/\S+\/v1\/stream)\//.exec(line)![1]!;
  return { child, base };
}

const payload = (writer: string, n: number): string => `<${writer}:${n}>`;

/** Every `<writer:n>` in the stream, in stream order. */
function parse(text: string): { writer: string; n: number }[] {
  return [...text.matchAll(/<([a-z0-9]+):(\d+)>/g)].map((m) => ({ writer: m[1]!, n: Number(m[2]) }));
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "text/plain", ...headers }, body });
}

function producerHeaders(id: string, epoch: number, seq: number): Record<string, string> {
  return { "producer-id": id, "producer-epoch": String(epoch), "producer-seq": String(seq) };
}

describe("seglog serve under SIGKILL", () => {
  let dir: string;
  let server: Server | undefined;

  beforeEach(async () => {
    dir = await makeTempDir("seglog-serve-crash-");
  });

  afterEach(async () => {
    await server?.child.kill();
    await removeTempDir(dir);
  });

  it("when the server is killed mid-append, every acknowledged append survives the restart once, and producer dedup still holds", async () => {
    const seed = testSeed();
    const random = prng(seed);
    const db = path.join(dir, "db");
    server = await startServer(db);
    let stream = `${server.base}/crash`;
    expect((await fetch(stream, { method: "PUT", headers: { "content-type": "text/plain" } })).status).toBe(201);
    /** Per writer: the highest n acknowledged, and the n in flight when the kill came. */
    const acked = new Map<string, number>();
    const inFlight = new Map<string, number>();
    const epochs = new Map<string, number>();
    let next = new Map<string, number>();

    for (let round = 0; round < ROUNDS; round++) {
      let stop = false;
      let killing = false;
      const plain = Array.from({ length: PLAIN_WRITERS }, async (_, w) => {
        const writer = `w${w}`;
        for (let n = next.get(writer) ?? 0; !stop; n++) {
          inFlight.set(writer, n);
          const res = await post(stream, payload(writer, n)).catch((err: unknown) => {
            // Only the kill may cut a request off; any other failure is a finding.
            if (!killing) throw err;
            return undefined;
          });
          if (res === undefined) return;
          expect(res.status).toBe(204);
          acked.set(writer, n);
          next.set(writer, n + 1);
        }
      });
      const producers = Array.from({ length: PRODUCERS }, async (_, p) => {
        const writer = `p${p}`;
        const epoch = epochs.get(writer) ?? 0;
        for (let n = next.get(writer) ?? 0; !stop; n++) {
          inFlight.set(writer, n);
          const res = await post(stream, payload(writer, n), producerHeaders(writer, epoch, n)).catch((err: unknown) => {
            // Only the kill may cut a request off; any other failure is a finding.
            if (!killing) throw err;
            return undefined;
          });
          if (res === undefined) return;
          expect(res.status).toBe(200);
          acked.set(writer, n);
          next.set(writer, n + 1);
        }
      });
      await sleep(150 + Math.floor(random() * 350));
      killing = true;
      await server.child.kill();
      stop = true;
      await Promise.all([...plain, ...producers]);

      server = await startServer(db);
      stream = `${server.base}/crash`;
      const text = await (await fetch(stream)).text();
      const seen = parse(text);
      const context = `seed ${seed}, round ${round}`;
      // Each writer's appends are there in its order, at most once, up to at least the last acknowledged one.
      for (const writer of new Set([...acked.keys(), ...inFlight.keys()])) {
        const ns = seen.filter((s) => s.writer === writer).map((s) => s.n);
        expect({ context, writer, ns }).toEqual({ context, writer, ns: ns.map((_, i) => i) });
        expect(ns.length).toBeGreaterThanOrEqual((acked.get(writer) ?? -1) + 1);
      }
      // Producers: the last acknowledged seq is a duplicate; the one in flight lands exactly once.
      for (let p = 0; p < PRODUCERS; p++) {
        const writer = `p${p}`;
        const epoch = epochs.get(writer) ?? 0;
        const last = acked.get(writer);
        if (last !== undefined) {
          const retry = await post(stream, payload(writer, last), producerHeaders(writer, epoch, last));
          expect({ context, writer, status: retry.status }).toEqual({ context, writer, status: 204 });
        }
        const pending = inFlight.get(writer)!;
        if (pending !== last) {
          const retry = await post(stream, payload(writer, pending), producerHeaders(writer, epoch, pending));
          expect([200, 204]).toContain(retry.status);
          acked.set(writer, pending);
        }
      }
      const after = parse(await (await fetch(stream)).text());
      for (let p = 0; p < PRODUCERS; p++) {
        const writer = `p${p}`;
        const ns = after.filter((s) => s.writer === writer).map((s) => s.n);
        expect({ context, writer, ns }).toEqual({ context, writer, ns: ns.map((_, i) => i) });
        expect(ns.length).toBe(acked.get(writer)! + 1);
      }
      // Plain writers go on after whatever landed; producers after their last seq.
      next = new Map([...inFlight.keys()].map((writer) => [writer, after.filter((s) => s.writer === writer).length]));
      for (let p = 0; p < PRODUCERS; p++) next.set(`p${p}`, acked.get(`p${p}`)! + 1);
    }
    expect(acked.size).toBe(PLAIN_WRITERS + PRODUCERS);
  }, 120_000);
});
