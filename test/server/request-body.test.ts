/**
 * readBody over a real loopback HTTP server: bodies announced by Content-Length
 * are copied into one buffer as they arrive, chunked bodies are joined at the
 * end; both must come out byte for byte, at every size around the socket's
 * chunk sizes (16 KiB and 64 KiB reads), around the size from which an announced
 * body is assembled as it arrives (ASSEMBLE_FROM_BYTES) and the limit, and the budget must be
 * given back whatever happens.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MemoryBudget, ServerBusy } from "../../engine/server/memory-budget.js";
import { ASSEMBLE_FROM_BYTES, ClientGone, PayloadTooLarge, readBody, TURN_BYTES } from "../../engine/server/request-body.js";

const LIMIT = 4 * 1024 * 1024;
let server: Server;
let port: number;
let budget: MemoryBudget;
const outcomes: { body?: Uint8Array; error?: unknown }[] = [];
let mostInOneTurn = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    // The most body bytes the request took in one event-loop turn.
    let inTurn = 0;
    req.on("data", (chunk: Buffer) => {
      if (inTurn === 0) setImmediate(() => (inTurn = 0));
      inTurn += chunk.length;
      mostInOneTurn = Math.max(mostInOneTurn, inTurn);
    });
    const reservation = budget.reservation();
    readBody(req, LIMIT, reservation, budget.limit).then(
      (body) => {
        outcomes.push({ body });
        reservation.release();
        res.end(String(body.length));
      },
      (error: unknown) => {
        outcomes.push({ error });
        reservation.release();
        res.writeHead(error instanceof PayloadTooLarge ? 413 : error instanceof ServerBusy ? 503 : 400, { connection: "close" }).end();
      },
    );
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((done) => server.close(done));
});

beforeEach(() => {
  budget = new MemoryBudget(8 * LIMIT);
  outcomes.length = 0;
});

/** Sends `body` in pieces of `piece` bytes, with Content-Length or chunked; resolves with the status. */
function send(body: Uint8Array, piece: number, chunked: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = chunked ? { "transfer-encoding": "chunked" } : { "content-length": body.length };
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/", headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode!));
    });
    req.on("error", reject);
    for (let at = 0; at < body.length; at += piece) req.write(body.subarray(at, Math.min(body.length, at + piece)));
    req.end();
  });
}

function patterned(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

describe("readBody", () => {
  it("returns every body byte for byte, announced or chunked, at sizes around the socket's chunks and the limit", async () => {
    const A = ASSEMBLE_FROM_BYTES;
    for (const size of [1, 2, 16383, 16384, 16385, 65535, 65536, 65537, 200_000, A - 1, A, A + 1, A + 65536, 3 * A + 7, LIMIT - 1, LIMIT]) {
      for (const chunked of [false, true]) {
        for (const piece of [size, 1000, 65536]) {
          const body = patterned(size);
          outcomes.length = 0;
          expect(await send(body, piece, chunked)).toBe(200);
          expect(outcomes).toHaveLength(1);
          const got = outcomes[0]!.body!;
          expect([size, chunked, piece, got.length]).toEqual([size, chunked, piece, size]);
          expect(Buffer.compare(got, body)).toBe(0);
          expect(budget.inUse).toBe(0);
        }
      }
    }
  });

  it("takes a large body sent at once over several turns, at most TURN_BYTES (and the read that crossed it) in each", async () => {
    for (const size of [TURN_BYTES - 1, TURN_BYTES, TURN_BYTES + 1, LIMIT]) {
      for (const chunked of [false, true]) {
        mostInOneTurn = 0;
        outcomes.length = 0;
        const body = patterned(size);
        expect(await send(body, size, chunked)).toBe(200);
        expect(Buffer.compare(outcomes[0]!.body!, body)).toBe(0);
        // One socket read (64 KiB) may land after the pause; none after that.
        expect([size, chunked, mostInOneTurn <= TURN_BYTES + 2 * 65536]).toEqual([size, chunked, true]);
      }
    }
  });

  it("refuses a body over the limit, announced (before reading it) or found while chunked, and gives the budget back", async () => {
    for (const chunked of [false, true]) {
      outcomes.length = 0;
      const status = await send(patterned(LIMIT + 1), 65536, chunked).catch(() => 413);
      expect(status).toBe(413);
      expect(outcomes[0]!.error).toBeInstanceOf(PayloadTooLarge);
      expect(budget.inUse).toBe(0);
    }
  });

  it("refuses a body the budget cannot hold with ServerBusy", async () => {
    budget = new MemoryBudget(1000);
    outcomes.length = 0;
    expect(await send(patterned(5000), 5000, false).catch(() => 503)).toBe(503);
    expect(outcomes[0]!.error).toBeInstanceOf(ServerBusy);
    expect(budget.inUse).toBe(0);
  });

  it("a client that leaves before its announced body is complete is ClientGone, and the budget is given back", async () => {
    outcomes.length = 0;
    await new Promise<void>((done) => {
      const req = request({ host: "127.0.0.1", port, method: "POST", path: "/", headers: { "content-length": 300_000 } });
      req.on("error", () => done());
      req.write(patterned(100_000), () => setTimeout(() => req.destroy(), 50));
      req.on("close", () => done());
    });
    const deadline = Date.now() + 5000;
    while (outcomes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(outcomes[0]!.error).toBeInstanceOf(ClientGone);
    expect(budget.inUse).toBe(0);
  });
});
