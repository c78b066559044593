/**
 * The server driven by the official client, @durable-streams/client: a real
 * client must be able to create, append (plain and through an idempotent
 * producer), read to catch up, follow live (long-poll and SSE) and close.
 * The server runs in-process on a free port over a fresh directory.
 */
import { DurableStream, IdempotentProducer } from "@durable-streams/client";
import { open, type Database } from "../../engine/index.js";
import { StreamServer } from "../../engine/server/stream-server.js";
import { makeTempDir, removeTempDir } from "../support/temp-dir.js";

let dir: string;
let db: Database;
let server: StreamServer;
let base: string;

beforeAll(async () => {
  dir = await makeTempDir();
  db = await open(dir);
  server = new StreamServer(db.streams, { port: 0, longPollMs: 1000 });
  base = `${await server.listen()}/v1/stream`;
});

afterAll(async () => {
  await server.close();
  await db.close();
  await removeTempDir(dir);
});

/** `promise`, or a rejection naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Collects text chunks from a live session until `until` holds, then cancels it. */
async function follow(handle: DurableStream, live: "long-poll" | "sse", offset: string, until: (all: string) => boolean, act: () => Promise<void>): Promise<string> {
  const session = await handle.stream({ live, offset });
  let all = "";
  const done = new Promise<void>((resolve) => {
    session.subscribeText((chunk) => {
      all += chunk.text;
      if (until(all)) resolve();
    });
  });
  await act();
  await within(done, 10_000, `no data in time, got ${JSON.stringify(all)}`);
  session.cancel();
  return all;
}

describe("seglog serve with the official Durable Streams client", () => {
  it("when a client creates a stream, appends and reads to catch up, it gets its bytes back and the tail offset", async () => {
    const stream = await DurableStream.create({ url: `${base}/client-basic`, contentType: "text/plain" });
    await stream.append("hello ");
    await stream.append("world");
    const res = await stream.stream({ live: false });
    expect(await res.text()).toBe("hello world");
    expect(res.upToDate).toBe(true);
    expect(res.offset).toBe(db.streams.currentOffset("client-basic"));
    expect((await stream.head()).exists).toBe(true);
  });

  it("when a JSON stream is read, the client sees each message (an appended array is one message)", async () => {
    const stream = await DurableStream.create({ url: `${base}/client-json`, contentType: "application/json" });
    await stream.append(JSON.stringify({ id: 1 }));
    await stream.append(JSON.stringify([{ id: 2 }, { id: 3 }]));
    const res = await stream.stream({ live: false });
    expect(await res.json()).toEqual([{ id: 1 }, [{ id: 2 }, { id: 3 }]]);
  });

  it("when a client follows live by long-poll and by SSE, appends made meanwhile arrive", async () => {
    const stream = await DurableStream.create({ url: `${base}/client-live`, contentType: "text/plain" });
    await stream.append("before;");
    const tail = db.streams.currentOffset("client-live");
    const viaLongPoll = await follow(stream, "long-poll", tail, (all) => all.includes("lp;"), () => stream.append("lp;"));
    expect(viaLongPoll).toBe("lp;");
    const viaSse = await follow(stream, "sse", tail, (all) => all.includes("sse;"), () => stream.append("sse;"));
    expect(viaSse).toBe("lp;sse;");
  });

  it("when an idempotent producer writes and closes the stream, every message is there once and readers see the end", async () => {
    const stream = await DurableStream.create({ url: `${base}/client-producer`, contentType: "application/json" });
    const producer = new IdempotentProducer(stream, "producer-1", { lingerMs: 1 });
    for (let i = 0; i < 50; i++) producer.append(JSON.stringify({ i }));
    await producer.flush();
    const result = await producer.close(JSON.stringify({ i: "last" }));
    expect(result.finalOffset).toBe(db.streams.currentOffset("client-producer"));
    const res = await stream.stream({ live: false });
    const items = await res.json<{ i: number | string }>();
    expect(items.map((x) => x.i)).toEqual([...Array.from({ length: 50 }, (_, i) => i), "last"]);
    expect(res.streamClosed).toBe(true);
    expect(db.streams.getMetadata("client-producer").closed).toBe(true);
  });

  it("when a client closes a stream, further appends are refused and a live reader ends", async () => {
    const stream = await DurableStream.create({ url: `${base}/client-close`, contentType: "text/plain" });
    await stream.append("data");
    const session = await stream.stream({ live: "sse", offset: db.streams.currentOffset("client-close") });
    const closed = session.closed;
    session.subscribeText(() => undefined);
    await stream.close();
    await within(closed, 10_000, "the live session did not end");
    expect(session.streamClosed).toBe(true);
    await expect(stream.append("more")).rejects.toThrow();
  });
});
