/**
 * U+FEFF (the byte order mark) is an ordinary character wherever a caller puts
 * it: at the start of a stream id it survives replay and compaction, at the
 * start of event data of any length it reads back, and a JSON byte-stream
 * append that starts with a UTF-8 BOM is the JSON after it (RFC 8259 lets a
 * parser ignore one), never a message that makes later reads invalid JSON.
 */
import { open } from "../../engine/index.js";
import { rejectsWith, useDatabases } from "../contract/event-store.contract.js";
import { reopenWithoutCheckpoint } from "../contract/reopen.js";

const BOM = "\uFEFF";
const h = useDatabases({ open });

describe("the byte order mark", () => {
  it("when a stream id starts with U+FEFF, its events survive compaction, a reopen and a replay without the checkpoint, apart from the id without it", async () => {
    let db = await h.open({ segmentBytes: 4096 });
    for (let v = 0; v < 5; v++) {
      await db.events.append(`${BOM}x`, [{ type: "T", data: `bom ${v}` }]);
      await db.events.append("x", [{ type: "T", data: `plain ${v}` }]);
    }
    await db.events.truncateStream("x", 3);
    for (let i = 0; i < 30; i++) await db.events.append("filler", [{ type: "T", data: "f".repeat(200) }]);
    await db.compact();
    const check = async () => {
      expect((await db.events.readStream(`${BOM}x`)).map((e) => e.data)).toEqual([0, 1, 2, 3, 4].map((v) => `bom ${v}`));
      expect((await db.events.readStream("x")).map((e) => e.data)).toEqual(["plain 3", "plain 4"]);
      expect(db.events.listStreams()).toEqual(["filler", "x", `${BOM}x`].sort());
      expect((await db.verify()).ok).toBe(true);
    };
    await check();
    db = await h.reopen(db, { segmentBytes: 4096 });
    await check();
    db = await reopenWithoutCheckpoint(h, db, { segmentBytes: 4096 });
    await check();
  });

  it("when event data, metadata and ids start with U+FEFF, they read back unchanged at every length", async () => {
    const db = await h.open();
    const lengths = [0, 1, 31, 32, 63, 64, 65, 255, 256, 70_000];
    for (const n of lengths) {
      const s = BOM + "y".repeat(n);
      await db.events.append(`s${n}`, [{ id: `${BOM}id-${n}`, type: `${BOM}T`, data: { s, list: [s] }, metadata: { s }, tags: [s] }]);
    }
    for (const n of lengths) {
      const s = BOM + "y".repeat(n);
      const [e] = await db.events.readStream(`s${n}`);
      expect([e!.id, e!.type, e!.data, e!.metadata, e!.tags]).toEqual([`${BOM}id-${n}`, `${BOM}T`, { s, list: [s] }, { s }, [s]]);
    }
  });

  it("when a JSON byte-stream append starts with a UTF-8 BOM, the BOM is dropped and the array after it is flattened; a BOM anywhere else is invalid JSON", async () => {
    const db = await h.open();
    await db.streams.create("j", { contentType: "application/json" });
    const withBom = (text: string) => new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]);
    await db.streams.append("j", withBom("[1,2]"));
    await db.streams.append("j", withBom('{"a":3}'));
    const read = await db.streams.readMessages("j");
    expect(read.messages.map((m) => new TextDecoder().decode(m.data))).toEqual(["1", "2", '{"a":3}']);
    expect(JSON.parse(new TextDecoder().decode((await db.streams.read("j")).data))).toEqual([1, 2, { a: 3 }]);
    const before = await db.stats();
    await rejectsWith(() => db.streams.append("j", new TextEncoder().encode(`[${BOM}1]`)), "INVALID_ARGUMENT");
    await rejectsWith(() => db.streams.append("j", new Uint8Array([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, 0x31])), "INVALID_ARGUMENT");
    expect(await db.stats()).toEqual(before);
  });
});
