/**
 * db.events.query: events of every stream by type, tag and category. Every
 * answer is compared with the same query evaluated by brute force over
 * readAll — after appends, reopen with the checkpoint, reopen without it,
 * truncation, deletion, retention, compaction, and a damaged checkpoint list —
 * in both directions, from every kind of start and with limits.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { open, type Database, type EventQuery, type OpenOptions, type RecordedEvent } from "../../../engine/index.js";
import { useDatabases, WAIT_MS } from "../../contract/event-store.contract.js";
import { prng, testSeed } from "../../support/child.js";
import { drawSize, patternBytes } from "../../support/size-classes.js";

const h = useDatabases({ open });

const TYPES = ["Opened", "Added", "Removed", "Closed"];
const TAGS = ["course:1", "course:2", "student:1", "student:2", "student:3", "room:9"];
const STREAMS = ["course-1", "course-2", "student-1", "student-2", "plain", "x-y-z"];

/** The stream id before its first "-", or "" (matching no category) when there is none or it leads. */
const categoryOf = (id: string) => (id.indexOf("-") > 0 ? id.slice(0, id.indexOf("-")) : "");

function brute(all: RecordedEvent[], query: EventQuery): RecordedEvent[] {
  if (query === "all") return all;
  return all.filter((e) =>
    query.items.some(
      (item) =>
        (item.types === undefined || item.types.length === 0 || item.types.includes(e.type)) &&
        (item.tags === undefined || item.tags.every((t) => e.tags.includes(t))) &&
        (item.categories === undefined || item.categories.length === 0 || item.categories.includes(categoryOf(e.streamId))),
    ),
  );
}

function randomQuery(random: () => number): EventQuery {
  if (random() < 0.05) return "all";
  const pick = (from: string[], max: number) => from.filter(() => random() < max / from.length);
  const items = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
    const item: { types?: string[]; tags?: string[]; categories?: string[] } = {};
    if (random() < 0.6) item.types = pick(TYPES, 1.5);
    if (random() < 0.6) item.tags = pick(TAGS, 1.3);
    if (random() < 0.25) item.categories = pick(["course", "student", "x", "none"], 1.2);
    return item;
  });
  return { items };
}

async function appendRandom(db: Database, random: () => number, n: number, maxPayload: number, streams = STREAMS): Promise<void> {
  const calls: Promise<unknown>[] = [];
  for (let k = 0; k < n; k++) {
    const count = 1 + Math.floor(random() * 3);
    const events = Array.from({ length: count }, (_, i) => ({
      type: TYPES[Math.floor(random() * TYPES.length)]!,
      data: patternBytes(drawSize(random, { maxPayload }, 20_000), k * 7 + i),
      tags: TAGS.filter(() => random() < 0.3),
    }));
    calls.push(db.events.append(streams[Math.floor(random() * streams.length)]!, events));
    if (random() < 0.3) await Promise.all(calls.splice(0));
  }
  await Promise.all(calls);
}

/** Every query asked in both directions, from several starts and with limits, equals brute force. */
async function expectQueriesMatch(db: Database, random: () => number, rounds = 40): Promise<void> {
  const all = await db.events.readAll();
  const last = all.length === 0 ? 0 : all[all.length - 1]!.position;
  for (let r = 0; r < rounds; r++) {
    const query = randomQuery(random);
    const matching = brute(all, query);
    expect(ids(await db.events.query(query))).toEqual(ids(matching));
    expect(ids(await db.events.query(query, { direction: "backward" }))).toEqual(ids([...matching].reverse()));
    const from = Math.floor(random() * (last + 2));
    const limit = 1 + Math.floor(random() * 5);
    expect(ids(await db.events.query(query, { from, limit }))).toEqual(ids(matching.filter((e) => e.position >= from).slice(0, limit)));
    expect(ids(await db.events.query(query, { from, direction: "backward", limit }))).toEqual(ids(matching.filter((e) => e.position <= from).reverse().slice(0, limit)));
    const iterated: RecordedEvent[] = [];
    for await (const e of db.events.iterateQuery(query, { from })) iterated.push(e);
    expect(ids(iterated)).toEqual(ids(matching.filter((e) => e.position >= from)));
  }
}

const ids = (events: RecordedEvent[]) => events.map((e) => `${e.position}:${e.streamId}@${e.version}`);

describe.each<[string, OpenOptions]>([
  ["sync", { durability: "sync" }],
  ["buffered", { durability: "buffered" }],
  ["small segments", { durability: "sync", segmentBytes: 64 * 1024, maxRecordBytes: 24 * 1024 }],
])("query (%s)", (_name, options) => {
  const maxPayload = (options.maxRecordBytes ?? 64 * 1024) - 512;

  it("equals a full scan after appends, reopen with and without the checkpoint, truncation, deletion, retention and compaction", async () => {
    const seed = testSeed();
    const random = prng(seed);
    let db = await h.open(options);
    await appendRandom(db, random, 120, maxPayload);
    await expectQueriesMatch(db, random);

    db = await h.reopen(db, options);
    await expectQueriesMatch(db, random);
    await appendRandom(db, random, 40, maxPayload);
    await expectQueriesMatch(db, random, 10);

    await db.close();
    rmSync(join(h.dir, "checkpoint.ckpt"), { force: true });
    db = await h.open(options);
    await expectQueriesMatch(db, random);

    await db.events.truncateStream("course-1", 3);
    await db.events.deleteStream("student-2");
    await db.events.deleteStream("plain", { hard: true });
    await db.events.setStreamRetention("x-y-z", { maxCount: 2 });
    await expectQueriesMatch(db, random);

    await db.compact();
    await expectQueriesMatch(db, random);
    await appendRandom(db, random, 30, maxPayload, STREAMS.filter((s) => s !== "plain"));
    db = await h.reopen(db, options);
    await expectQueriesMatch(db, random);
  }, 60_000);
});

describe("query", () => {
  it("reads only the records that match: a tag of 3 events among 3,000 costs 3 record reads, whatever the log", async () => {
    const db = await h.open();
    for (let k = 0; k < 30; k++) {
      await db.events.appendMany(Array.from({ length: 100 }, (_, i) => ({ streamId: `s-${i}`, events: [{ type: "Noise", data: k }] })));
    }
    await db.events.append("s-1", [{ type: "Rare", data: 1, tags: ["rare"] }]);
    await db.events.append("s-2", [{ type: "Rare", data: 2, tags: ["rare"] }, { type: "Rare", data: 3, tags: ["rare", "more"] }]);
    const reads = db.events as unknown as { reader: { readEvent(location: number): RecordedEvent } };
    const original = reads.reader.readEvent.bind(reads.reader);
    let count = 0;
    reads.reader.readEvent = (location: number) => {
      count++;
      return original(location);
    };
    expect((await db.events.query({ items: [{ tags: ["rare"] }] })).map((e) => e.data)).toEqual([1, 2, 3]);
    expect(count).toBe(3);
    count = 0;
    expect((await db.events.query({ items: [{ tags: ["rare", "more"] }] })).map((e) => e.data)).toEqual([3]);
    expect(count).toBe(1);
    count = 0;
    expect(await db.events.query({ items: [{ types: ["Rare"], tags: ["nowhere"] }] })).toEqual([]);
    expect(count).toBe(0);
  });

  it("a damaged list in the checkpoint is rebuilt from the log: the same answers, for that key and the others", async () => {
    const random = prng(testSeed());
    let db = await h.open();
    await appendRandom(db, random, 80, 4000);
    const before = await Promise.all(TAGS.map((t) => db.events.query({ items: [{ tags: [t] }] })));
    await db.close();
    const path = join(h.dir, "checkpoint.ckpt");
    const file = readFileSync(path);
    // Flip one byte in every 8-byte word of the last quarter of the array area: lists are written last.
    for (let i = file.length - Math.floor(file.length / 8); i < file.length; i += 8) file[i]! ^= 0x10;
    writeFileSync(path, file);
    db = await h.open();
    const after = await Promise.all(TAGS.map((t) => db.events.query({ items: [{ tags: [t] }] })));
    expect(after.map(ids)).toEqual(before.map(ids));
    await expectQueriesMatch(db, random, 10);
  });

  it("a query subscription catches up, then delivers live only what matches, in order, without decoding the rest", async () => {
    const db = await h.open();
    await db.events.append("a-1", [{ type: "Hit", data: 0, tags: ["t"] }, { type: "Miss", data: 1 }]);
    const sub = db.events.subscribe({ query: { items: [{ types: ["Hit"] }, { tags: ["t"] }] } });
    const got: number[] = [];
    const done = (async () => {
      for await (const e of sub) {
        got.push(e.data as number);
        if (got.length === 4) break;
      }
    })();
    await db.events.append("a-2", [{ type: "Miss", data: 2 }, { type: "Hit", data: 3 }]);
    await db.events.append("a-3", [{ type: "Other", data: 4, tags: ["t"] }]);
    await db.events.append("a-3", [{ type: "Miss", data: 5 }, { type: "Hit", data: 6, tags: ["t"] }]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((_, fail) => (timer = setTimeout(() => fail(new Error("no delivery")), WAIT_MS)))]);
    clearTimeout(timer);
    expect(got).toEqual([0, 3, 4, 6]);
    const fromEnd = db.events.subscribe({ query: { items: [{ types: ["Hit"] }] }, from: "end" });
    const next = (async () => {
      for await (const e of fromEnd) return e.data;
      return undefined;
    })();
    await db.events.append("a-4", [{ type: "Hit", data: 7 }]);
    expect(await next).toBe(7);
  });

  it("categories: the stream id before its first '-'; none without one", async () => {
    const db = await h.open();
    await db.events.append("order-1", [{ type: "A", data: 1 }]);
    await db.events.append("order-2-x", [{ type: "A", data: 2 }]);
    await db.events.append("order", [{ type: "A", data: 3 }]);
    await db.events.append("-lead", [{ type: "A", data: 4 }]);
    await db.events.append("orders-1", [{ type: "A", data: 5 }]);
    expect((await db.events.query({ items: [{ categories: ["order"] }] })).map((e) => e.data)).toEqual([1, 2]);
    expect((await db.events.query({ items: [{ categories: ["orders", "order"], types: ["A"] }] })).map((e) => e.data)).toEqual([1, 2, 5]);
  });

  it("bad queries and options are INVALID_ARGUMENT naming the field, and write nothing", async () => {
    const db = await h.open();
    await db.events.append("s", [{ type: "A", data: 1 }]);
    const bad: [unknown, unknown, string][] = [
      [undefined, undefined, "query"],
      [{}, undefined, "query.items"],
      [{ items: [] }, undefined, "query.items"],
      [{ items: [null] }, undefined, "query.items[0]"],
      [{ items: [{ type: ["A"] }] }, undefined, "query.items[0].type"],
      [{ items: [{ tags: "t" }] }, undefined, "query.items[0].tags"],
      [{ items: [{ tags: [""] }] }, undefined, "query.items[0].tags"],
      [{ items: [{ types: [1] }] }, undefined, "query.items[0].types"],
      ["All", undefined, "query"],
      ["all", { limit: -1 }, "options.limit"],
      ["all", { count: 1 }, "options.count"],
      ["all", { from: 1.5 }, "options.from"],
      ["all", { direction: "up" }, "options.direction"],
    ];
    for (const [query, options, argument] of bad) {
      await expect(db.events.query(query as EventQuery, options as never)).rejects.toMatchObject({ name: "SeglogError", code: "INVALID_ARGUMENT", argument });
    }
    expect(() => db.events.subscribe({ query: { items: [] } })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => db.events.subscribe({ query: "all", streamId: "s" })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect((await db.events.readAll()).length).toBe(1);
  });

  it("an item without constraints, or 'all', is every event, as readAll", async () => {
    const db = await h.open();
    await db.events.append("s-1", [{ type: "A", data: 1 }, { type: "B", data: 2, tags: ["x"] }]);
    const all = ids(await db.events.readAll());
    expect(ids(await db.events.query("all"))).toEqual(all);
    expect(ids(await db.events.query({ items: [{ types: ["nothing"] }, {}] }))).toEqual(all);
    expect(ids(await db.events.query({ items: [{ tags: [] }] }))).toEqual(all);
  });
});
