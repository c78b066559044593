/**
 * `seglog serve` against clients that misbehave: request targets the URL
 * parser refuses are a 400, clients that leave in the middle of a body are
 * not server failures, an SSE reader that stops reading does not make the
 * server read the whole stream into its socket, and an append's content type
 * is checked against the stream it actually goes to.
 */
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { open, type Database } from "../../engine/index.js";
import { StreamServer } from "../../engine/server/stream-server.js";
import type * as api from "../../engine/types.js";
import { rejectsWith } from "../contract/event-store.contract.js";
import { REPO_ROOT, spawnFixture, type Child } from "../support/child.js";
import { makeTempDir, removeTempDir } from "../support/temp-dir.js";

const CLI = path.join(REPO_ROOT, "dist", "engine", "cli", "main.js");

let dir: string;
const children: Child[] = [];
const databases: Database[] = [];
const servers: StreamServer[] = [];

beforeEach(async () => {
  dir = await makeTempDir("seglog-hostile-");
});

afterEach(async () => {
  for (const child of children.splice(0)) await child.kill();
  for (const server of servers.splice(0)) await server.close();
  for (const db of databases.splice(0)) await db.close();
  await removeTempDir(dir);
});

async function serveCli(): Promise<{ child: Child; port: number }> {
  const child = spawnFixture(CLI, ["serve", path.join(dir, "db"), "--port", "0"]);
  children.push(child);
  const line = await child.waitForLine((l) => l.includes("/v1/stream/"), 20_000);
  return { child, port: Number(/:(\d+)\/v1\/stream\//.exec(line)![1]) };
}

/** Sends raw bytes; resolves with the status line once the server closes the connection. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let out = "";
    s.on("data", (d) => (out += d));
    s.on("close", () => resolve(out.split("\r\n")[0] ?? ""));
    s.on("error", () => undefined);
    s.write(text);
  });
}

describe("seglog serve with hostile clients", () => {
  it("when a request target or Stream-Forked-From is not a parsable URL, the answer is 400 and nothing is logged as a failure", async () => {
    const { child, port } = await serveCli();
    const cases = [
      "GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET http://[/v1/stream/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "PUT /v1/stream/fork HTTP/1.1\r\nHost: x\r\nStream-Forked-From: http://[\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ];
    for (const text of cases) expect(await raw(port, text)).toBe("HTTP/1.1 400 Bad Request");
    expect(child.stderr()).not.toContain("seglog serve:");
  });

  it("when clients go away in the middle of their bodies, nothing is logged as a failure and the server still answers", async () => {
    const { child, port } = await serveCli();
    expect(await raw(port, "PUT /v1/stream/s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")).toBe("HTTP/1.1 201 Created");
    await Promise.all(
      Array.from({ length: 20 }, () =>
        new Promise<void>((resolve) => {
          const s = net.connect(port, "127.0.0.1");
          s.on("error", () => undefined);
          s.write("POST /v1/stream/s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\nonly a part of it");
          setTimeout(() => {
            s.destroy();
            resolve();
          }, 50);
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(await raw(port, "HEAD /v1/stream/s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).toBe("HTTP/1.1 200 OK");
    expect(child.stderr()).not.toContain("seglog serve:");
  });

  it("when an SSE reader stops reading, the server stops reading the stream for it once the socket is full", async () => {
    const db = await open(path.join(dir, "db"), { durability: "buffered" });
    databases.push(db);
    await db.streams.create("big");
    const message = new Uint8Array(1024 * 1024).fill(0x61);
    for (let i = 0; i < 40; i++) await db.streams.append("big", message);
    // The server reads through a counting view of the store.
    let reads = 0;
    const counted: api.ByteStreamStore = Object.create(db.streams, {
      read: { value: (...args: Parameters<api.ByteStreamStore["read"]>) => (reads++, db.streams.read(...args)) },
    });
    const server = new StreamServer(counted, { port: 0 });
    servers.push(server);
    const port = Number(new URL(await server.listen()).port);
    const reader = net.connect(port, "127.0.0.1");
    reader.on("error", () => undefined);
    reader.pause();
    reader.write("GET /v1/stream/big?offset=-1&live=sse HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((r) => setTimeout(r, 1500));
    // 40 reads of 1 MiB would be the whole stream; the loopback socket buffers hold a few.
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThan(20);
    const started = Date.now();
    expect((await fetch(`http://127.0.0.1:${port}/v1/stream/big`, { method: "HEAD" })).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    reader.destroy();
  });

  it("when an append is framed right after a delete and a re-create of another type, it is refused against the new stream, not checked against the old one", async () => {
    const db = await open(path.join(dir, "db"));
    databases.push(db);
    await db.streams.create("s", { contentType: "application/json" });
    const calls = [
      db.streams.delete("s"),
      db.streams.create("s", { contentType: "text/plain" }),
      db.streams.write("s", '{"json":true}', { contentType: "application/json" }),
    ];
    const [deleted, created] = await Promise.allSettled(calls);
    expect([deleted.status, created.status]).toEqual(["fulfilled", "fulfilled"]);
    const err = await rejectsWith(() => calls[2]!, "INVALID_ARGUMENT");
    expect(err.argument).toBe("options.contentType");
    expect((await db.streams.read("s")).data.length).toBe(0);
    // The same type is taken.
    await db.streams.write("s", "plain text", { contentType: "text/plain; charset=utf-8" });
    expect(new TextDecoder().decode((await db.streams.read("s")).data)).toBe("plain text");
  });

  it("when DELETE, PUT of another type and POST of the old type race over HTTP, the JSON never lands in the new text stream", async () => {
    // The route must leave the type check to the store's writer view: a check in the route against the committed view lets the POST through.
    const db = await open(path.join(dir, "db"));
    databases.push(db);
    const server = new StreamServer(db.streams, { port: 0 });
    servers.push(server);
    const base = `${await server.listen()}/v1/stream`;
    let refused = 0;
    for (let round = 0; round < 40; round++) {
      const url = `${base}/race-${round}`;
      await fetch(url, { method: "PUT", headers: { "content-type": "application/json" } });
      const [, created, posted] = await Promise.all([
        fetch(url, { method: "DELETE" }),
        fetch(url, { method: "PUT", headers: { "content-type": "text/plain" } }),
        fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"json":true}' }),
      ]);
      if (posted.status === 409) refused++;
      if (created.status === 201) expect([round, await (await fetch(`${url}?offset=-1`)).text()]).not.toEqual([round, expect.stringContaining("json")]);
    }
    // The race was run, not dodged: some POSTs met the new stream and were refused.
    expect(refused).toBeGreaterThan(0);
  });

  it("when a wait for data is woken by an append committed together with a delete and re-create of the id, it fails NOT_FOUND instead of leaving the caller an offset of the new stream", async () => {
    const db = await open(path.join(dir, "db"));
    databases.push(db);
    await db.streams.create("s", { contentType: "text/plain" });
    const tail = await db.streams.append("s", "x".repeat(10));
    const waiting = db.streams.waitForData("s", tail, 10_000);
    const writes = [db.streams.append("s", "more"), db.streams.delete("s"), db.streams.create("s", { contentType: "text/plain" })];
    await Promise.all(writes);
    await rejectsWith(() => waiting, "NOT_FOUND");
    // The new stream is empty: the old offset is not one of its offsets.
    await rejectsWith(() => db.streams.read("s", tail), "INVALID_ARGUMENT");
  });

  it("when a JSON body of millions of tiny elements is posted, it is refused (413) after one walk of its bytes, and another request is answered meanwhile", async () => {
    const db = await open(path.join(dir, "db"), { durability: "buffered" });
    databases.push(db);
    const server = new StreamServer(db.streams, { port: 0 });
    servers.push(server);
    const base = `${await server.listen()}/v1/stream`;
    await fetch(`${base}/j`, { method: "PUT", headers: { "content-type": "application/json" } });
    await fetch(`${base}/other`, { method: "PUT", headers: { "content-type": "text/plain" } });
    const body = `[${"1,".repeat(4 * 1024 * 1024 - 1)}1]`;
    const post = fetch(`${base}/j`, { method: "POST", headers: { "content-type": "application/json" }, body });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    expect((await fetch(`${base}/other`, { method: "HEAD" })).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(500);
    expect((await post).status).toBe(413);
    expect((await db.streams.readMessages("j")).messages).toEqual([]);
  });

  it("when unfinished bodies would hold more than the server's budget, the next one is refused with 503 and Retry-After, and its bytes come back when a body is done", async () => {
    const db = await open(path.join(dir, "db"), { durability: "buffered" });
    databases.push(db);
    const server = new StreamServer(db.streams, { port: 0, memoryBudgetBytes: 1024 * 1024 });
    servers.push(server);
    const port = Number(new URL(await server.listen()).port);
    await db.streams.create("s");
    const head = (length: number) => `POST /v1/stream/s HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;
    const answer = (s: net.Socket) =>
      new Promise<string>((resolve) => {
        let out = "";
        s.on("data", (d) => (out += d));
        s.on("close", () => resolve(out));
      });
    // The first upload announces 600 KB and sends a little of it: its bytes are reserved.
    const first = net.connect(port, "127.0.0.1");
    first.on("error", () => undefined);
    const firstAnswer = answer(first);
    first.write(head(600_000) + "a".repeat(1000));
    await new Promise((r) => setTimeout(r, 200));
    // A second one of the same size would pass the 1 MiB budget.
    const second = net.connect(port, "127.0.0.1");
    second.on("error", () => undefined);
    const secondAnswer = answer(second);
    second.write(head(600_000) + "b".repeat(1000));
    const refused = await secondAnswer;
    expect(refused.split("\r\n")[0]).toBe("HTTP/1.1 503 Service Unavailable");
    expect(refused.toLowerCase()).toContain("retry-after: 1");
    first.end("a".repeat(599_000));
    expect((await firstAnswer).split("\r\n")[0]).toBe("HTTP/1.1 204 No Content");
    expect(server.memory.inUse).toBe(0);
    const third = net.connect(port, "127.0.0.1");
    third.on("error", () => undefined);
    const thirdAnswer = answer(third);
    third.end(head(600_000) + "c".repeat(600_000));
    expect((await thirdAnswer).split("\r\n")[0]).toBe("HTTP/1.1 204 No Content");
    expect((await db.streams.read("s")).data.length).toBe(1_200_000);
  });

  it("when the server has an access token, a request without it or with another is 401 with nothing but the challenge, and the right one is served", async () => {
    const tokenFile = path.join(dir, "token");
    writeFileSync(tokenFile, "correct-horse-battery-staple\n");
    const child = spawnFixture(CLI, ["serve", path.join(dir, "db"), "--port", "0", "--auth-token-file", tokenFile]);
    children.push(child);
    const line = await child.waitForLine((l) => l.includes("/v1/stream/"), 20_000);
    const base = /at (http:\/\/\S+\/v1\/stream)\//.exec(line)![1]!;
    for (const authorization of [undefined, "Bearer wrong-horse-battery-staple", "Basic correct-horse-battery-staple", "Bearer correct-horse-battery-stapl"]) {
      const r = await fetch(`${base}/s`, { method: "PUT", headers: authorization === undefined ? {} : { authorization } });
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toBe('Bearer realm="seglog"');
      expect(await r.text()).toBe("");
    }
    expect((await fetch(`${base}/s`, { method: "OPTIONS" })).status).toBe(204);
    const ok = await fetch(`${base}/s`, { method: "PUT", headers: { authorization: "Bearer correct-horse-battery-staple", "content-type": "text/plain" } });
    expect(ok.status).toBe(201);
  });

  it("when serve is asked to listen beyond loopback without a token, it refuses with one line before touching the directory; so does a token under 16 characters", async () => {
    const db = path.join(dir, "db");
    const refused = spawnSync(process.execPath, [CLI, "serve", db, "--host", "0.0.0.0", "--port", "0"], { encoding: "utf8" });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toContain("--auth-token-file");
    expect(existsSync(db)).toBe(false);
    const short = path.join(dir, "short");
    writeFileSync(short, "too-short\n");
    const weak = spawnSync(process.execPath, [CLI, "serve", db, "--port", "0", "--auth-token-file", short], { encoding: "utf8" });
    expect(weak.status).not.toBe(0);
    expect(weak.stderr).toContain("at least 16 characters");
    expect(existsSync(db)).toBe(false);
  });

  it("when a client sends a Host header of its own, Location still names the server (its listening address, or the public URL it was given)", async () => {
    const db = await open(path.join(dir, "db"), { durability: "buffered" });
    databases.push(db);
    const plain = new StreamServer(db.streams, { port: 0 });
    servers.push(plain);
    const port = Number(new URL(await plain.listen()).port);
    const answer = await new Promise<string>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      let out = "";
      s.on("data", (d) => (out += d));
      s.on("close", () => resolve(out));
      s.write("PUT /v1/stream/b HTTP/1.1\r\nHost: evil.example\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    expect(answer.toLowerCase()).toContain(`location: http://127.0.0.1:${port}/v1/stream/b`);
    const proxied = new StreamServer(db.streams, { port: 0, publicUrl: "https://streams.example.com/" });
    servers.push(proxied);
    const base = await proxied.listen();
    const r = await fetch(`${base}/v1/stream/c`, { method: "PUT" });
    expect(r.headers.get("location")).toBe("https://streams.example.com/v1/stream/c");
  });

  it("when a stream would be created with Stream-Expires-At in the past, it is refused (400) and nothing is created", async () => {
    const db = await open(path.join(dir, "db"), { durability: "buffered" });
    databases.push(db);
    const server = new StreamServer(db.streams, { port: 0 });
    servers.push(server);
    const base = `${await server.listen()}/v1/stream`;
    const past = await fetch(`${base}/old`, { method: "PUT", headers: { "stream-expires-at": new Date(Date.now() - 1000).toISOString() } });
    expect(past.status).toBe(400);
    expect(db.streams.list()).toEqual([]);
    await rejectsWith(() => db.streams.create("old", { expiresAt: Date.now() - 1 }), "INVALID_ARGUMENT");
    const future = await fetch(`${base}/new`, { method: "PUT", headers: { "stream-expires-at": new Date(Date.now() + 60_000).toISOString() } });
    expect(future.status).toBe(201);
  });

  it("when many SSE readers stall, the output queued for them stays within the server's memory budget: readers it cannot hold are cut off", async () => {
    const db = await open(path.join(dir, "db"), { durability: "buffered" });
    databases.push(db);
    await db.streams.create("big");
    const message = new Uint8Array(1024 * 1024).fill(0x62);
    for (let i = 0; i < 20; i++) await db.streams.append("big", message);
    // A reader holds its read (1 MiB) and the output made of it (base64: 1.33 MiB) against the budget.
    const budget = 8 * 1024 * 1024;
    const server = new StreamServer(db.streams, { port: 0, memoryBudgetBytes: budget });
    servers.push(server);
    const port = Number(new URL(await server.listen()).port);
    let closed = 0;
    const readers = Array.from({ length: 12 }, () => {
      const reader = net.connect(port, "127.0.0.1");
      reader.on("error", () => undefined);
      reader.on("close", () => closed++);
      reader.pause();
      reader.write("GET /v1/stream/big?offset=-1&live=sse HTTP/1.1\r\nHost: x\r\n\r\n");
      return reader;
    });
    let most = 0;
    for (let t = 0; t < 30; t++) {
      await new Promise((r) => setTimeout(r, 50));
      most = Math.max(most, server.memory.inUse);
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(budget);
    // Reading again: the readers that were cut off end once their bytes are read; the others stay connected.
    for (const r of readers) {
      r.on("data", () => undefined);
      r.resume();
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect(closed).toBeGreaterThan(0);
    expect(closed).toBeLessThan(readers.length);
    for (const r of readers) r.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect(server.memory.inUse).toBe(0);
  });

  it("watching resident memory, a server whose process holds more than the budget allows refuses large bodies (503) but takes small appends", async () => {
    const db = await open(path.join(dir, "db"), { durability: "buffered" });
    databases.push(db);
    await db.streams.create("s");
    // This test process holds far more than 8 MiB: the watch finds it under pressure at once.
    const watching = new StreamServer(db.streams, { port: 0, memoryBudgetBytes: 8 * 1024 * 1024, watchResidentMemory: true });
    const plain = new StreamServer(db.streams, { port: 0, memoryBudgetBytes: 8 * 1024 * 1024 });
    servers.push(watching, plain);
    const [watched, unwatched] = [`${await watching.listen()}/v1/stream/s`, `${await plain.listen()}/v1/stream/s`];
    await new Promise((r) => setTimeout(r, 250));
    expect(watching.memory.underPressure).toBe(true);
    const big = new Uint8Array(1024 * 1024).fill(7);
    const refused = await fetch(watched, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: big });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect((await fetch(watched, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: "small" })).status).toBe(204);
    expect((await fetch(unwatched, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: big })).status).toBe(204);
    expect((await db.streams.read("s", undefined, { maxBytes: 16 * 1024 * 1024 })).data.length).toBe(5 + big.length);
  });

  it("a client that ends its side of the connection after its request still gets the answer, also of an append that waits for a worker fsync", async () => {
    const db = await open(path.join(dir, "db"), { fsyncOnWorker: true });
    databases.push(db);
    await db.streams.create("s", { contentType: "text/plain" });
    const server = new StreamServer(db.streams, { port: 0 });
    servers.push(server);
    const port = Number(new URL(await server.listen()).port);
    for (let i = 0; i < 5; i++) {
      const answer = await new Promise<string>((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        let out = "";
        socket.on("data", (d: Buffer) => (out += d.toString("latin1")));
        socket.on("close", () => resolve(out));
        socket.on("error", () => resolve(out));
        // The request, then the client's FIN right behind it.
        socket.end(`POST /v1/stream/s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nm${i}`);
      });
      expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 204 No Content");
    }
    expect(new TextDecoder().decode((await db.streams.read("s")).data)).toBe("m0m1m2m3m4");
  });

  it("an SSE read is held against the budget: one the budget cannot hold is a 503 before any event, and a read that fits is served", async () => {
    const db = await open(path.join(dir, "db"), { durability: "buffered" });
    databases.push(db);
    await db.streams.create("big");
    await db.streams.append("big", new Uint8Array(1024 * 1024).fill(0x63));
    await db.streams.create("small", { contentType: "text/plain" });
    await db.streams.append("small", "hello");
    // The store as the server sees it, its reads counted: a reader the budget cannot hold reads nothing.
    let reads = 0;
    const streams = new Proxy(db.streams, {
      get(target, name) {
        if (name === "read") reads++;
        const value = Reflect.get(target, name) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const server = new StreamServer(streams, { port: 0, memoryBudgetBytes: 512 * 1024 });
    servers.push(server);
    const base = `${await server.listen()}/v1/stream`;
    const refused = await fetch(`${base}/big?offset=-1&live=sse`);
    expect(refused.status).toBe(503);
    expect(reads).toBe(0);
    expect(refused.headers.get("retry-after")).toBe("1");
    await refused.text();
    expect(server.memory.inUse).toBe(0);
    const aborter = new AbortController();
    const served = await fetch(`${base}/small?offset=-1&live=sse`, { signal: aborter.signal });
    expect(served.status).toBe(200);
    const reader = served.body!.getReader();
    let text = "";
    while (!text.includes("hello")) text += new TextDecoder().decode((await reader.read()).value);
    aborter.abort();
    await new Promise((r) => setTimeout(r, 100));
    expect(server.memory.inUse).toBe(0);
  });

  it("when a read is pinned to the stream an info describes, a delete and re-create of the id makes it NOT_FOUND instead of reading the new stream", async () => {
    const db = await open(path.join(dir, "db"));
    databases.push(db);
    await db.streams.create("s", { contentType: "text/plain" });
    const tail = await db.streams.append("s", "old");
    const of = db.streams.getMetadata("s");
    expect(new TextDecoder().decode((await db.streams.read("s", "-1", { of })).data)).toBe("old");
    await db.streams.delete("s");
    await db.streams.create("s", { contentType: "text/plain" });
    await db.streams.append("s", "new");
    await db.streams.append("s", "new bytes, more of them");
    // The old tail is an offset of the new stream too: unpinned, it reads the new stream's bytes.
    expect(new TextDecoder().decode((await db.streams.read("s", tail)).data)).toBe("new bytes, more of them");
    await rejectsWith(() => db.streams.read("s", tail, { of }), "NOT_FOUND");
    await rejectsWith(() => db.streams.readMessages("s", "-1", { of }), "NOT_FOUND");
    await rejectsWith(() => db.streams.read("s", "-1", { of: { ...of } }), "INVALID_ARGUMENT");
    expect(new TextDecoder().decode((await db.streams.read("s", "-1", { of: db.streams.getMetadata("s") })).data)).toBe("newnew bytes, more of them");
  });
});

