/**
 * GET of a message larger than the read budget: sent in pieces, a turn apart,
 * with Content-Length of the whole; the client gets exactly the message (binary)
 * or the one-message JSON array. A damaged record is never answered as data: the
 * answer is cut short (or is an error), and the server goes on serving.
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
});
