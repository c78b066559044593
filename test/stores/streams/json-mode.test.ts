/**
 * JSON mode (content type application/json): message boundaries are kept, an
 * array body is flattened one level, and each message is stored as the exact
 * text that was sent.
 */
import { open } from "../../../engine/index.js";
import type { OpenOptions } from "../../../engine/index.js";
import { jsonMessages, prepareJsonMessages } from "../../../engine/stores/streams/json-mode.js";
import { readAll, str, text } from "../../contract/byte-stream-store.contract.js";
import { rejectsWith, useDatabases } from "../../contract/event-store.contract.js";

const h = useDatabases({ open: (dir: string, options?: OpenOptions) => open(dir, options) });
const split = (body: string): string[] => {
  const { payload, lengths } = jsonMessages(text(body), "data");
  let at = 0;
  return lengths.map((length) => str(payload.subarray(at, (at += length))));
};

describe("JSON mode", () => {
  it("when a body is split, a top-level array is flattened one level and every element keeps its own text", () => {
    expect(split('{"a": 1}')).toEqual(['{"a": 1}']);
    expect(split(' [ {"a":1} , [1, 2],"s,]"  ,3 ] ')).toEqual(['{"a":1}', "[1, 2]", '"s,]"', "3"]);
    expect(split("[[[1,2,3]]]")).toEqual(["[[1,2,3]]"]);
    expect(split('["\\"]", {"k": "}"}]')).toEqual(['"\\"]"', '{"k": "}"}']);
    expect(split("[]")).toEqual([]);
    expect(split("12345678901234567890")).toEqual(["12345678901234567890"]);
  });

  it("when elements of many sizes are split, stored and read back, each comes back exactly, with nothing between them", async () => {
    // An element of n bytes: a string of n - 2 characters, or a number of n digits.
    const element = (n: number, k: number): string => (k % 2 === 0 ? `"${"abcdefgh".repeat(40).slice(0, n - 2)}"` : "7".repeat(n));
    const lengths = [1, 2, 3, 126, 127, 128, 129, 130, 255, 256, 257, 4000];
    const elements = lengths.map((n, k) => (n < 2 ? "7" : element(n, k)));
    expect(elements.map((e) => e.length)).toEqual(lengths);
    const body = ` [ ${elements.join(" ,\n")} ] `;
    expect(split(body)).toEqual(elements);
    const db = await h.open();
    await db.streams.create("b", { contentType: "application/json" });
    await db.streams.append("b", body);
    await db.streams.append("b", elements[5]!);
    expect(new TextDecoder().decode((await db.streams.read("b")).data)).toBe(`[${[...elements, elements[5]].join(",")}]`);
    expect((await db.streams.readMessages("b")).messages.map((m) => str(m.data))).toEqual([...elements, elements[5]]);
  });

  it("when a body is prepared ahead in slices, the write takes the same messages, or the same error, as without; once, and only under its own name", async () => {
    const outcome = (run: () => { payload: Uint8Array; lengths: number[] }): unknown => {
      try {
        const { payload, lengths } = run();
        return { payload: Buffer.from(payload).toString("latin1"), lengths };
      } catch (err) {
        return { code: (err as { code?: string }).code, message: (err as Error).message };
      }
    };
    const big = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ i, s: "v".repeat(i % 50) })));
    const bodies = [
      big,
      `\ufeff${big}`,
      big.slice(0, -1),
      `${big.slice(0, 400_000)}x${big.slice(400_001)}`,
      JSON.stringify("one ".repeat(200_000)),
      `[${"1,".repeat(150_000)}1]`,
      "[]",
      "\u00ff",
    ];
    for (const body of bodies) {
      const bytes = Buffer.from(body);
      const direct = outcome(() => jsonMessages(bytes, "data"));
      const again = Buffer.from(body);
      await prepareJsonMessages(again, "data");
      expect([body.length, outcome(() => jsonMessages(again, "data"))]).toEqual([body.length, direct]);
      // Taken once: a second write of the same bytes does the work itself, with the same outcome.
      expect(outcome(() => jsonMessages(again, "data"))).toEqual(direct);
      // Prepared under another name: not used (the error would name the wrong argument).
      const other = Buffer.from(body);
      await prepareJsonMessages(other, "options.data");
      expect(outcome(() => jsonMessages(other, "data"))).toEqual(direct);
    }
    const latin1 = Buffer.from([0x5b, 0xff, 0x5d]);
    await prepareJsonMessages(latin1, "data");
    expect(outcome(() => jsonMessages(latin1, "data"))).toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("when appends carry single values and arrays, reads return one JSON array of every message", async () => {
    const db = await h.open();
    await db.streams.create("j", { contentType: "application/json; charset=utf-8" });
    await db.streams.append("j", '{"type":"single"}');
    await db.streams.append("j", '[{"id":1},{"id":2}]');
    await db.streams.append("j", "[[1,2]]");
    await db.streams.append("j", "42");
    expect(JSON.parse(await readAll(db, "j"))).toEqual([{ type: "single" }, { id: 1 }, { id: 2 }, [1, 2], 42]);
    const messages = await db.streams.readMessages("j");
    expect(messages.messages.map((m) => str(m.data))).toEqual(['{"type":"single"}', '{"id":1}', '{"id":2}', "[1,2]", "42"]);
    const fromSecond = await db.streams.read("j", messages.messages[1]!.offset);
    expect(JSON.parse(str(fromSecond.data))).toEqual([{ id: 2 }, [1, 2], 42]);
    expect(str((await db.streams.read("j", messages.offset)).data)).toBe("[]");
  });

  it("when a body is not JSON or an empty array, the append is INVALID_ARGUMENT; an empty array at create is an empty stream", async () => {
    const db = await h.open();
    const created = await db.streams.ensure("j", { contentType: "application/json", data: "[]" });
    expect(created.info.offset).toBe("0000000000000000_0000000000000000");
    await rejectsWith(() => db.streams.append("j", "{ invalid json }"), "INVALID_ARGUMENT");
    await rejectsWith(() => db.streams.append("j", "[]"), "INVALID_ARGUMENT");
    await rejectsWith(() => db.streams.append("j", new Uint8Array([0xff, 0xfe])), "INVALID_ARGUMENT");
    expect(await readAll(db, "j")).toBe("[]");
  });

  it("when maxBytes cuts a batch, reads stop at a message boundary inside it", async () => {
    const db = await h.open();
    await db.streams.create("j", { contentType: "application/json" });
    await db.streams.append("j", '["aaaa","bbbb","cccc"]');
    // The answer's own bytes count: ["aaaa","bbbb"] is 15 bytes.
    const first = await db.streams.read("j", "-1", { maxBytes: 15 });
    expect(JSON.parse(str(first.data))).toEqual(["aaaa", "bbbb"]);
    expect(first.hasMore).toBe(true);
    expect(JSON.parse(str((await db.streams.read("j", "-1", { maxBytes: 14 })).data))).toEqual(["aaaa"]);
    expect(JSON.parse(str((await db.streams.read("j", first.offset)).data))).toEqual(["cccc"]);
  });

  it("when a read of many tiny messages has a byte budget, the JSON array it answers with (brackets and commas counted) stays within it, and reads on from its offset lose nothing", async () => {
    const db = await h.open({ durability: "buffered" });
    await db.streams.create("tiny", { contentType: "application/json" });
    await db.streams.append("tiny", `[${Array.from({ length: 5000 }, (_, i) => i % 10).join(",")}]`);
    const seen: number[] = [];
    let offset = "-1";
    for (let reads = 0; ; reads++) {
      const r = await db.streams.read("tiny", offset, { maxBytes: 1000 });
      expect(r.data.length).toBeLessThanOrEqual(1000);
      seen.push(...(JSON.parse(str(r.data)) as number[]));
      offset = r.offset;
      if (!r.hasMore) break;
      expect(reads).toBeLessThan(100);
    }
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i % 10));
  });

  it("when one JSON append holds more than 100,000 messages it is TOO_LARGE and writes nothing; 100,000 are taken", async () => {
    const db = await h.open({ durability: "buffered" });
    await db.streams.create("many", { contentType: "application/json" });
    const before = await db.stats();
    await rejectsWith(() => db.streams.append("many", `[${"0,".repeat(100_000)}1]`), "TOO_LARGE");
    expect(await db.stats()).toEqual(before);
    await db.streams.append("many", `[${"0,".repeat(99_999)}1]`);
    const read = await db.streams.readMessages("many", "-1", { maxMessages: 200_000 });
    expect(read.messages).toHaveLength(100_000);
    expect(str(read.messages[99_999]!.data)).toBe("1");
  });
});

