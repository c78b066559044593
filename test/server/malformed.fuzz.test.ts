/**
 * `seglog serve` against requests generated from a grammar of the protocol —
 * methods, paths, query parameters, headers and bodies, each valid, broken or
 * hostile — sent raw over TCP. Whatever arrives, the server answers with a
 * status below 500 (or closes a connection it could not parse), logs nothing
 * as a failure, stays up and keeps its memory bounded.
 *
 * Replay a run with SEGLOG_FUZZ_BASE_SEED=<seed> (printed on failure).
 */
import * as net from "node:net";
import * as path from "node:path";
import { readFileSync } from "node:fs";
import { baseSeed, Rng } from "../support/fuzz.js";
import { REPO_ROOT, spawnFixture, type Child } from "../support/child.js";
import { makeTempDir, removeTempDir } from "../support/temp-dir.js";

const CLI = path.join(REPO_ROOT, "dist", "engine", "cli", "main.js");
const REQUESTS = 800;

const METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "get", "G\u00e9T", "CONNECT"];
const IDS = ["s", "json", "closed", "a%2Fb", "%FF", "%", "..%2F..%2Fetc", "x".repeat(5000), "\u00fc", "%00", "sp ace"];
const OFFSETS = ["-1", "now", "0000000000000000_0000000000000000", "0000000000000001_0000000000000003", "9999999999999999_9999999999999999", "abc", "", "-2", "1e3", "0000000000000000_00000000000000000"];
const HEADERS: [string, () => string][] = [];

function request(r: Rng): string {
  const method = r.pick(METHODS);
  const id = r.pick(IDS);
  const prefix = r.pick(["/v1/stream/", "/v1/stream/", "/v1/stream/", "/v1/", "/", "//[", "http://[/v1/stream/", "/v1/stream//"]);
  const query: string[] = [];
  if (r.chance(0.5)) query.push(`offset=${r.pick(OFFSETS)}`);
  if (r.chance(0.2)) query.push(`offset=${r.pick(OFFSETS)}`);
  if (r.chance(0.3)) query.push(`live=${r.pick(["long-poll", "sse", "yes", ""])}`);
  if (r.chance(0.1)) query.push(`cursor=${r.pick(["1", "-1", "x", "99999999999999999999"])}`);
  const target = `${prefix}${id}${query.length > 0 ? `?${query.join("&")}` : ""}`;
  const headers: string[] = ["Host: 127.0.0.1"];
  for (const [name, value] of HEADERS) if (r.chance(0.15)) headers.push(`${name}: ${value()}`);
  const bodyKind = r.int(6);
  const body =
    bodyKind === 0 ? "" : bodyKind === 1 ? "plain text" : bodyKind === 2 ? '[1,{"a":[2,3]},"x"]' : bodyKind === 3 ? "[1,2" : bodyKind === 4 ? "\u00ef\u00bb\u00bf[1]" : "\u0000\u00ff".repeat(r.int(50));
  const bytes = Buffer.from(body, "latin1");
  const lengthKind = r.int(5);
  if (lengthKind === 0) headers.push(`Content-Length: ${bytes.length}`);
  else if (lengthKind === 1) headers.push(`Content-Length: ${bytes.length + r.int(3)}`);
  else if (lengthKind === 2) headers.push(`Content-Length: ${r.pick(["-1", "abc", "99999999999", "1.5"])}`);
  else if (lengthKind === 3) headers.push("Transfer-Encoding: chunked");
  headers.push("Connection: close");
  const payload = lengthKind === 3 ? `${bytes.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : body;
  return `${method} ${target} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n${payload}`;
}

function setupHeaders(r: Rng): void {
  if (HEADERS.length > 0) return;
  const value = (...good: string[]) => () => (r.chance(0.6) ? r.pick(good) : r.pick(["", " ", "x".repeat(9000), "\u00e9", "-1", "NaN", "1e309", "true, false"]));
  HEADERS.push(
    ["Content-Type", value("application/json", "text/plain", "application/octet-stream", "application/json; charset=utf-8", "multipart/form-data; boundary=x")],
    ["Stream-Seq", value("1", "2", "a", "0000")],
    ["Stream-TTL", value("60", "0", "01", "-5")],
    ["Stream-Expires-At", value(new Date(Date.now() + 60_000).toISOString(), "2000-01-01T00:00:00Z", "tomorrow")],
    ["Stream-Closed", value("true", "false", "TRUE")],
    ["Stream-Forked-From", value("/v1/stream/s", "s", "http://[", "/v1/stream/missing", "https://x/v1/stream/json")],
    ["Stream-Fork-Offset", value("-1", "0000000000000000_0000000000000000", "now")],
    ["Stream-Fork-Sub-Offset", value("0", "1", "-1")],
    ["Producer-Id", value("p", "q", "")],
    ["Producer-Epoch", value("0", "1", "-1", "01")],
    ["Producer-Seq", value("0", "1", "2", "99")],
    ["If-None-Match", value('"x"', "*")],
    ["Authorization", value("Bearer x", "Basic y")],
  );
}

function send(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let out = "";
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      s.destroy();
      resolve(out.split("\r\n")[0] ?? "");
    };
    s.setTimeout(3000, finish);
    s.on("data", (d) => {
      out += d.toString("latin1");
      // Long-polls and SSE answer with headers first; the status line is all this test needs.
      if (out.includes("\r\n\r\n")) finish();
    });
    s.on("close", finish);
    s.on("error", finish);
    s.end(Buffer.from(text, "latin1"));
  });
}

describe("seglog serve with requests from a grammar of the protocol", () => {
  let dir: string;
  let child: Child | undefined;
  beforeAll(async () => {
    dir = await makeTempDir("seglog-malformed-");
  });
  afterAll(async () => {
    await child?.kill();
    await removeTempDir(dir);
  });

  it(`when ${REQUESTS} valid, broken and hostile requests arrive, every answer is below 500, nothing is logged as a failure, the server stays up and its memory bounded`, async () => {
    const seed = baseSeed();
    const r = new Rng(seed);
    setupHeaders(r);
    child = spawnFixture(CLI, ["serve", path.join(dir, "db"), "--port", "0", "--long-poll-timeout", "50"]);
    const line = await child.waitForLine((l) => l.includes("/v1/stream/"), 20_000);
    const port = Number(/:(\d+)\/v1\/stream\//.exec(line)![1]);
    for (const [id, type] of [["s", "text/plain"], ["json", "application/json"], ["closed", "text/plain"]] as const) {
      await send(port, `PUT /v1/stream/${id} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    }
    const statuses = new Map<string, number>();
    for (let i = 0; i < REQUESTS; i += 8) {
      const batch = Array.from({ length: 8 }, () => request(r));
      const answers = await Promise.all(batch.map((text) => send(port, text)));
      answers.forEach((status, k) => {
        const code = /^HTTP\/1\.1 (\d{3})/.exec(status)?.[1] ?? "none";
        statuses.set(code, (statuses.get(code) ?? 0) + 1);
        if (code.startsWith("5")) throw new Error(`seed ${seed}: ${status} for ${JSON.stringify(batch[k]!.slice(0, 300))}\n${child!.stderr()}`);
      });
    }
    expect(child.stderr()).not.toContain("seglog serve:");
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]) / 1024;
    expect(rssMb).toBeLessThan(400);
    // Still serving, and most requests were understood (a grammar that only produced garbage would prove little).
    // Asked of a stream of its own: the grammar deletes and re-creates "s", and send() half-closes its
    // connection, on which node's server drops a request it has not answered yet (its write may have
    // happened), so whether "s" is there at the end depends on timing.
    expect(await send(port, "PUT /v1/stream/after-the-storm HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")).toBe("HTTP/1.1 201 Created");
    expect(await send(port, "HEAD /v1/stream/after-the-storm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).toBe("HTTP/1.1 200 OK");
    const understood = [...statuses].filter(([code]) => code.startsWith("2")).reduce((n, [, c]) => n + c, 0);
    expect(understood).toBeGreaterThan(REQUESTS / 20);
    process.stdout.write(`malformed requests (seed ${seed}): ${JSON.stringify(Object.fromEntries([...statuses].sort()))}\n`);
  }, 120_000);
});
