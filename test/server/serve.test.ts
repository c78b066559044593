/**
 * `seglog serve` as an operator sees it: graceful shutdown on SIGTERM closes
 * the database cleanly (and answers a waiting long-poll first), request bodies
 * over the limit get 413 without hurting the server, and start-up failures end
 * as one line and a non-zero exit.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { open, type Database } from "../../engine/index.js";
import { StreamServer } from "../../engine/server/stream-server.js";
import { REPO_ROOT, spawnFixture, type Child } from "../support/child.js";
import { makeTempDir, removeTempDir } from "../support/temp-dir.js";

const CLI = path.join(REPO_ROOT, "dist", "engine", "cli", "main.js");

let dir: string;
const children: Child[] = [];

beforeEach(async () => {
  dir = await makeTempDir("seglog-serve-");
});

afterEach(async () => {
  for (const child of children.splice(0)) await child.kill();
  await removeTempDir(dir);
});

async function serve(db: string, ...args: string[]): Promise<{ child: Child; base: string }> {
  const child = spawnFixture(CLI, ["serve", db, "--port", "0", ...args]);
  children.push(child);
  const line = await child.waitForLine((l) => l.includes("/v1/stream/"), 20_000);
  return { child, base: /at (http:\/\/\S+\/v1\/stream)\//.exec(line)![1]! };
}

describe("seglog serve", () => {
  it("when SIGTERM arrives, a waiting long-poll is answered, the database is closed cleanly and the process exits 0", async () => {
    const db = path.join(dir, "db");
    const { child, base } = await serve(db, "--long-poll-timeout", "30000");
    await fetch(`${base}/s`, { method: "PUT", headers: { "content-type": "text/plain" }, body: "kept" });
    const tail = (await fetch(`${base}/s`, { method: "HEAD" })).headers.get("stream-next-offset")!;
    const waiting = fetch(`${base}/s?offset=${tail}&live=long-poll`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    child.proc.kill("SIGTERM");
    const answer = await waiting;
    expect(answer.status).toBe(204);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.lines.some((l) => l.includes("SIGTERM"))).toBe(true);
    const reopened = await open(db);
    try {
      expect((await reopened.stats()).repairedBytes).toBe(0);
      expect(new TextDecoder().decode((await reopened.streams.read("s")).data)).toBe("kept");
    } finally {
      await reopened.close();
    }
  });

  it("when the directory's parent is missing or another writer holds it, serve fails with one line and a non-zero exit", async () => {
    const missing = spawnSync(process.execPath, [CLI, "serve", path.join(dir, "no", "such", "db"), "--port", "0"], { encoding: "utf8" });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toContain("NOT_FOUND");
    const db = path.join(dir, "db");
    await serve(db);
    const locked = spawnSync(process.execPath, [CLI, "serve", db, "--port", "0"], { encoding: "utf8" });
    expect(locked.status).not.toBe(0);
    expect(locked.stderr).toContain("LOCKED");
    const badPort = spawnSync(process.execPath, [CLI, "serve", db, "--port", "http"], { encoding: "utf8" });
    expect(badPort.status).not.toBe(0);
    expect(badPort.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("request bodies over the limit", () => {
  let db: Database;
  let server: StreamServer;
  let base: string;

  beforeEach(async () => {
    db = await open(path.join(dir, "db"), { maxRecordBytes: 8192, segmentBytes: 64 * 1024 });
    server = new StreamServer(db.streams, { port: 0, maxBodyBytes: 16 * 1024 });
    base = `${await server.listen()}/v1/stream`;
  });

  afterEach(async () => {
    await server.close();
    await db.close();
  });

  it("when a body is larger than the server takes, or than one record holds, the answer is 413 and the server goes on", async () => {
    expect((await fetch(`${base}/s`, { method: "PUT", headers: { "content-type": "application/octet-stream" } })).status).toBe(201);
    const tooBigForServer = await fetch(`${base}/s`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: new Uint8Array(64 * 1024) });
    expect(tooBigForServer.status).toBe(413);
    const tooBigForRecord = await fetch(`${base}/s`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: new Uint8Array(12 * 1024) });
    expect(tooBigForRecord.status).toBe(413);
    const tooBigToCreate = await fetch(`${base}/t`, { method: "PUT", headers: { "content-type": "application/octet-stream" }, body: new Uint8Array(64 * 1024) });
    expect(tooBigToCreate.status).toBe(413);
    expect((await fetch(`${base}/t`, { method: "HEAD" })).status).toBe(404);
    const fits = await fetch(`${base}/s`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: new Uint8Array(4096) });
    expect(fits.status).toBe(204);
    expect((await (await fetch(`${base}/s`)).arrayBuffer()).byteLength).toBe(4096);
  });
});
