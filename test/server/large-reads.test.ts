/**
 * Large requests over HTTP. GET of a message larger than the read budget: sent
 * in pieces, a turn apart, with Content-Length of the whole; the client gets
 * exactly the message (binary) or the one-message JSON array. A damaged record
 * is never answered as data: the answer is cut short (or is an error), and the
 * server goes on serving. A large JSON POST (walked and split ahead, in slices)
 * stores exactly its elements, and a bad one gets the answer a small one gets.
 */
import { open, type Database } from "../../engine/index.js";
import { StreamServer } from "../../engine/server/stream-server.js";
import { findRecord, flipByte } from "../support/damage.js";
import { patternBytes } from "../support/size-classes.js";
import { makeTempDir, removeTempDir } from "../support/temp-dir.js";

const MiB = 1024 * 1024;
let dir: string;
let db: Database | undefined;
let server: StreamServer | undefined;

beforeEach(async () => {
  dir = await makeTempDir();
});

afterEach(async () => {
  await server?.close();
  await db?.close();
  server = undefined;
  db = undefined;
  await removeTempDir(dir);
});

async function start(options: Parameters<typeof open>[1] = {}): Promise<string> {
  db = await open(dir, options);
  server = new StreamServer(db.streams, { port: 0 });
  return `${await server.listen()}/v1/stream`;
}

describe("large reads over HTTP", () => {
  it("a binary message over the budget and a JSON message over it come whole, byte for byte, with the next offset", async () => {
    const base = await start();
    await fetch(`${base}/b`, { method: "PUT", headers: { "content-type": "application/octet-stream" } });
    const big = patternBytes(3 * MiB + 7, 11);
    expect((await fetch(`${base}/b`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: big })).status).toBe(204);
    const mid = (await fetch(`${base}/b`, { method: "HEAD" })).headers.get("stream-next-offset")!;
    await fetch(`${base}/b`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: "tail" });
    const got = await fetch(`${base}/b?offset=-1`);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-length")).toBe(String(big.length));
    expect(got.headers.get("stream-next-offset")).toBe(mid);
    expect(got.headers.get("stream-up-to-date")).toBeNull();
    expect(Buffer.compare(Buffer.from(await got.arrayBuffer()), big)).toBe(0);
    const rest = await fetch(`${base}/b?offset=${mid}`);
    expect(await rest.text()).toBe("tail");

    await fetch(`${base}/j`, { method: "PUT", headers: { "content-type": "application/json" } });
    const message = JSON.stringify({ text: "z".repeat(2 * MiB) });
    await fetch(`${base}/j`, { method: "POST", headers: { "content-type": "application/json" }, body: `[1, ${message}, 2]` });
    const first = await fetch(`${base}/j?offset=-1`);
    const afterFirst = first.headers.get("stream-next-offset")!;
    expect(await first.text()).toBe("[1]");
    const large = await fetch(`${base}/j?offset=${afterFirst}`);
    expect(large.headers.get("content-length")).toBe(String(message.length + 2));
    expect(await large.text()).toBe(`[${message}]`);
    const last = await fetch(`${base}/j?offset=${large.headers.get("stream-next-offset")}`);
    expect(await last.text()).toBe("[2]");
    expect(last.headers.get("stream-up-to-date")).toBe("true");
  });

  it("a damaged large record is cut short or refused, never answered whole, and the server goes on", async () => {
    const options = { segmentBytes: 4 * MiB };
    let base = await start(options);
    await fetch(`${base}/b`, { method: "PUT", headers: { "content-type": "application/octet-stream" } });
    const marker = "damaged-record-marker";
    const big = new Uint8Array(3 * MiB);
    big.set(new TextEncoder().encode(marker), 0);
    expect((await fetch(`${base}/b`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: big })).status).toBe(204);
    // Later records seal the damaged one's segment: open leaves it to the read to find.
    for (let k = 0; k < 2; k++) {
      expect((await fetch(`${base}/b`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: new Uint8Array(3 * MiB) })).status).toBe(204);
    }
    await server!.close();
    await db!.close();
    const record = await findRecord(dir, marker);
    flipByte(record.file, record.bodyStart + 2 * MiB + 5);
    base = await start(options);
    const res = await fetch(`${base}/b?offset=-1`);
    if (res.status === 200) {
      await expect(res.arrayBuffer()).rejects.toThrow();
    } else {
      expect(res.status).toBeGreaterThanOrEqual(500);
    }
    expect((await fetch(`${base}/b`, { method: "HEAD" })).status).toBe(200);
  });

  it("a large JSON append is stored element by element; invalid, too many elements or the wrong stream type answer as for a small one", async () => {
    const base = await start();
    await fetch(`${base}/j`, { method: "PUT", headers: { "content-type": "application/json" } });
    await fetch(`${base}/t`, { method: "PUT", headers: { "content-type": "text/plain" } });
    const elements = Array.from({ length: 30_000 }, (_, i) => ({ i, text: "e".repeat(i % 40) }));
    const post = (id: string, body: string) => fetch(`${base}/${id}`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect((await post("j", ` \n${JSON.stringify(elements, null, 1)}\n `)).status).toBe(204);
    const stored: unknown[] = [];
    for (let offset = "-1"; ; ) {
      const r = await fetch(`${base}/j?offset=${offset}`);
      stored.push(...((await r.json()) as unknown[]));
      offset = r.headers.get("stream-next-offset")!;
      if (r.headers.get("stream-up-to-date") === "true") break;
    }
    expect(stored).toEqual(elements);
    const tail = (await fetch(`${base}/j`, { method: "HEAD" })).headers.get("stream-next-offset");
    for (const [small, large] of [
      // 50,000 elements of 9 bytes: over the 256 KiB from which bodies are prepared ahead, under the 100,000 elements allowed.
      ["[1,", `[${"12345678,".repeat(50_000)}`],
      ['[1,"\\x"]', `[${"12345678,".repeat(50_000)}"\\x"]`],
    ]) {
      const a = await post("j", small!);
      const b = await post("j", large!);
      expect([a.status, b.status]).toEqual([400, 400]);
      expect((await b.text()).replace(/byte \d+/, "byte N")).toBe((await a.text()).replace(/byte \d+/, "byte N"));
    }
    expect((await post("j", `[${"1,".repeat(100_000)}1]`)).status).toBe(413);
    expect((await post("t", JSON.stringify(elements))).status).toBe(409);
    // Nothing of the refused appends was stored.
    expect((await fetch(`${base}/j`, { method: "HEAD" })).headers.get("stream-next-offset")).toBe(tail);
  });
});
