/**
 * A JSON stream's `read` builds its JSON array straight from the chunks. It must
 * answer exactly what the rule says, checked against a reference made from
 * `readMessages`: from any message boundary, the messages in order, the first
 * one whatever its size, then each next one while "[", every message and its ","
 * or "]" stay within maxBytes; the offset after the last one taken, and hasMore.
 * Streams of batches of every shape (one message, many tiny ones, messages around
 * the budget), a fork whose last inherited batch is cut short, budgets from 1 byte
 * to 1 MiB, and a reopen.
 */
import { open, type Database } from "../../../engine/index.js";
import { random32 } from "../../support/load.js";
import { useTempDir } from "../../support/temp-dir.js";

const tmp = useTempDir();
const decoder = new TextDecoder();

/** What `read(id, offset, { maxBytes })` must answer, from readMessages. */
async function reference(db: Database, id: string, offset: string | undefined, maxBytes: number): Promise<{ text: string; offset: string; hasMore: boolean }> {
  const all = await db.streams.readMessages(id, offset);
  const taken: string[] = [];
  let used = 1;
  // (The first message is always taken: these streams are never empty.)
  let end = offset ?? "";
  for (const m of all.messages) {
    if (taken.length > 0 && used + m.data.length + 1 > maxBytes) break;
    taken.push(decoder.decode(m.data));
    used += m.data.length + 1;
    end = m.offset;
  }
  return { text: `[${taken.join(",")}]`, offset: end, hasMore: taken.length < all.messages.length };
}

function message(random: () => number): unknown {
  const kind = Math.floor(random() * 5);
  if (kind === 0) return Math.floor(random() * 1000);
  if (kind === 1) return "";
  if (kind === 2) return { k: "v".repeat(Math.floor(random() * 40)) };
  if (kind === 3) return "x".repeat(Math.floor(random() * 3000));
  return [1, "two", null];
}

async function check(db: Database, id: string, random: () => number, label: string): Promise<void> {
  const boundaries: (string | undefined)[] = [undefined, ...(await db.streams.readMessages(id)).messages.map((m) => m.offset)];
  for (let probe = 0; probe < 150; probe++) {
    const offset = boundaries[Math.floor(random() * boundaries.length)];
    const maxBytes = [1, 2, 3, 10, 64, 100, 1000, 3001, 3003, 20_000, 1024 * 1024][Math.floor(random() * 11)]!;
    const got = await db.streams.read(id, offset, { maxBytes });
    const want = await reference(db, id, offset, maxBytes);
    expect([label, offset, maxBytes, decoder.decode(got.data), got.offset, got.hasMore]).toEqual([label, offset, maxBytes, want.text, want.offset, want.hasMore]);
    // What a JSON read answers is JSON.
    expect(Array.isArray(JSON.parse(decoder.decode(got.data)))).toBe(true);
  }
}

describe("JSON stream reads", () => {
  it("answer the budget rule exactly, from every boundary, across batches, a cut-short fork and a reopen", async () => {
    const random = random32(1207);
    let db = await open(tmp.path);
    await db.streams.create("j", { contentType: "application/json" });
    let forkAt: string | undefined;
    for (let batch = 0; batch < 40; batch++) {
      const n = [1, 1, 2, 7, 50, 300][Math.floor(random() * 6)]!;
      const values = Array.from({ length: n }, () => message(random));
      const offset = await db.streams.append("j", JSON.stringify(n === 1 && random() < 0.5 ? values[0] : values));
      if (batch === 25) forkAt = offset;
    }
    // A fork inside a batch: its last inherited batch is cut short by the index.
    const inside = (await db.streams.readMessages("j", forkAt, { maxMessages: 1 })).messages[0]!.offset;
    await db.streams.ensure("f", { fork: { from: "j", offset: inside } });
    await db.streams.append("f", JSON.stringify(["after the fork", 1, 2]));
    await check(db, "j", random, "stream");
    await check(db, "f", random, "fork");
    await db.close();
    db = await open(tmp.path);
    await check(db, "j", random, "stream after reopen");
    await check(db, "f", random, "fork after reopen");
    await db.close();
  });
});
