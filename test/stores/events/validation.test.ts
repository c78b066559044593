/**
 * Bad input (API.md "Errors" and "General"): every argument of every EventStore
 * method, given a wrong type or value, fails with INVALID_ARGUMENT whose message
 * names the argument. Promise methods reject (never throw synchronously),
 * synchronous ones throw. A rejected call changes nothing: the views are the same
 * right after it and after a reopen.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../../../engine/index.js";
import type { Database, NewEvent, SeglogError } from "../../../engine/index.js";
import {
  iterationFailsWith,
  numbered,
  rejectsWith,
  snapshot,
  throwsWith,
  useDatabases,
} from "../../contract/event-store.contract.js";

const h = useDatabases({ open });

/** Passes a value of the wrong type through the type checker on purpose. */
function bad(value: unknown): never {
  return value as never;
}

const good: NewEvent = { type: "ok", data: { fine: true } };
const cyclic: Record<string, unknown> = { name: "loop" };
cyclic.self = cyclic;

type Kind = "promise" | "sync" | "iterable";
interface Case {
  method: string;
  given: string;
  /** The message must contain one of these (the argument's name). */
  names: string[];
  kind: Kind;
  call(db: Database): unknown;
}

const cases: Case[] = [];
function add(method: string, kind: Kind, names: string[], given: string, call: (db: Database) => unknown): void {
  cases.push({ method, given, names, kind, call });
}

// append(streamId, events, options)
for (const [given, value] of [['streamId ""', ""], ["streamId 42", 42], ["streamId null", null], ["streamId undefined", undefined]] as const) {
  add("append", "promise", ["streamId"], given, (db) => db.events.append(bad(value), [good]));
}
for (const [given, value] of [['events "x"', "x"], ["events null", null], ["events {}", {}], ["events []", []], ["events [null]", [null]], ["events [42]", [42]]] as const) {
  add("append", "promise", ["events"], given, (db) => db.events.append("new", bad(value)));
}
const badEvents: [string, string, unknown][] = [
  ["type", "an event without a type", { data: 1 }],
  ["type", 'type ""', { type: "", data: 1 }],
  ["type", "type 5", { type: 5, data: 1 }],
  ["metadata", 'metadata "m"', { type: "t", data: 1, metadata: "m" }],
  ["metadata", "metadata 5", { type: "t", data: 1, metadata: 5 }],
  ["tags", 'tags "red"', { type: "t", data: 1, tags: "red" }],
  ["tags", "tags [1]", { type: "t", data: 1, tags: [1] }],
  ["id", 'id ""', { type: "t", data: 1, id: "" }],
  ["id", "id 5", { type: "t", data: 1, id: 5 }],
  ["data", "data that is a function", { type: "t", data: () => 1 }],
  ["data", "data holding a function", { type: "t", data: { nested: { f: () => 1 } } }],
  ["data", "data that is a symbol", { type: "t", data: Symbol("s") }],
  ["data", "cyclic data", { type: "t", data: cyclic }],
];
for (const [name, given, event] of badEvents) {
  add("append", "promise", [name], `${given} after a good event`, (db) => db.events.append("new", [good, bad(event)]));
}
const badExpected: [string, unknown][] = [
  ["expectedVersion -2", -2], ["expectedVersion 1.5", 1.5], ['expectedVersion "latest"', "latest"],
  ["expectedVersion NaN", NaN], ["expectedVersion Infinity", Infinity], ['expectedVersion "0"', "0"], ["expectedVersion true", true],
];
for (const [given, value] of badExpected) {
  add("append", "promise", ["expectedVersion"], given, (db) => db.events.append("s", [good], { expectedVersion: bad(value) }));
}
add("append", "promise", ["options"], 'options "x"', (db) => db.events.append("s", [good], bad("x")));

// appendMany(items)
for (const [given, value] of [['items "x"', "x"], ["items null", null], ["items undefined", undefined], ["items []", []], ["items [null]", [null]]] as const) {
  add("appendMany", "promise", ["items"], given, (db) => db.events.appendMany(bad(value)));
}
add("appendMany", "promise", ["streamId"], 'an item with streamId ""', (db) =>
  db.events.appendMany([{ streamId: "a", events: [good] }, { streamId: "", events: [good] }]));
add("appendMany", "promise", ["events"], "an item with events []", (db) =>
  db.events.appendMany([{ streamId: "a", events: [good] }, { streamId: "b", events: [] }]));
add("appendMany", "promise", ["events"], 'an item with events "x"', (db) =>
  db.events.appendMany([{ streamId: "a", events: [good] }, { streamId: "b", events: bad("x") }]));
add("appendMany", "promise", ["type"], 'an item with an event of type ""', (db) =>
  db.events.appendMany([{ streamId: "a", events: [good] }, { streamId: "b", events: [bad({ type: "", data: 1 })] }]));
add("appendMany", "promise", ["data"], "an item with unencodable data", (db) =>
  db.events.appendMany([{ streamId: "a", events: [good] }, { streamId: "b", events: [{ type: "t", data: () => 1 }] }]));
add("appendMany", "promise", ["expectedVersion"], 'an item with expectedVersion "x"', (db) =>
  db.events.appendMany([{ streamId: "a", events: [good] }, { streamId: "b", events: [good], expectedVersion: bad("x") }]));
add("appendMany", "promise", ["items", "streamId"], "one stream named twice", (db) =>
  db.events.appendMany([{ streamId: "a", events: [good] }, { streamId: "s", events: [good] }, { streamId: "a", events: [good] }]));

// readStream(streamId, options), readAll(options), iterateStream, iterateAll
const badReadOptions: [string, string, unknown][] = [
  ["from", "from -1", { from: -1 }], ["from", "from 1.5", { from: 1.5 }], ["from", 'from "0"', { from: "0" }],
  ["count", "count -1", { count: -1 }], ["count", "count 1.5", { count: 1.5 }], ["count", 'count "2"', { count: "2" }],
  ["count", "count NaN", { count: NaN }],
  ["direction", 'direction "up"', { direction: "up" }], ["direction", "direction 5", { direction: 5 }],
  ["options", 'options "x"', "x"],
];
for (const [name, given, options] of badReadOptions) {
  add("readStream", "promise", [name], given, (db) => db.events.readStream("s", bad(options)));
  add("readAll", "promise", [name], given, (db) => db.events.readAll(bad(options)));
  add("iterateStream", "iterable", [name], given, (db) => db.events.iterateStream("s", bad(options)));
  add("iterateAll", "iterable", [name], given, (db) => db.events.iterateAll(bad(options)));
}
for (const [given, value] of [['streamId ""', ""], ["streamId 5", 5]] as const) {
  add("readStream", "promise", ["streamId"], given, (db) => db.events.readStream(bad(value)));
  add("iterateStream", "iterable", ["streamId"], given, (db) => db.events.iterateStream(bad(value)));
  add("streamVersion", "sync", ["streamId"], given, (db) => db.events.streamVersion(bad(value)));
  add("streamExists", "sync", ["streamId"], given, (db) => db.events.streamExists(bad(value)));
  add("deleteStream", "promise", ["streamId"], given, (db) => db.events.deleteStream(bad(value)));
  add("truncateStream", "promise", ["streamId"], given, (db) => db.events.truncateStream(bad(value), 1));
  add("setStreamRetention", "promise", ["streamId"], given, (db) => db.events.setStreamRetention(bad(value), { maxCount: 1 }));
  add("subscribe", "sync", ["streamId"], given, (db) => db.events.subscribe({ streamId: bad(value) }));
}
add("streamVersion", "sync", ["streamId"], "streamId undefined", (db) => db.events.streamVersion(bad(undefined)));
add("streamExists", "sync", ["streamId"], "streamId null", (db) => db.events.streamExists(bad(null)));

// listStreams(options)
const badListOptions: [string, string, unknown][] = [
  ["prefix", "prefix 5", { prefix: 5 }], ["after", "after 5", { after: 5 }],
  ["limit", "limit -1", { limit: -1 }], ["limit", "limit 1.5", { limit: 1.5 }], ["limit", 'limit "3"', { limit: "3" }],
  ["options", 'options "x"', "x"],
];
for (const [name, given, options] of badListOptions) {
  add("listStreams", "sync", [name], given, (db) => db.events.listStreams(bad(options)));
}

// deleteStream(streamId, options)
add("deleteStream", "promise", ["hard"], 'hard "yes"', (db) => db.events.deleteStream("s", { hard: bad("yes") }));
add("deleteStream", "promise", ["expectedVersion"], "expectedVersion -2", (db) => db.events.deleteStream("s", { expectedVersion: -2 }));
add("deleteStream", "promise", ["expectedVersion"], 'expectedVersion "x"', (db) => db.events.deleteStream("s", { expectedVersion: bad("x") }));
add("deleteStream", "promise", ["options"], "options 5", (db) => db.events.deleteStream("s", bad(5)));

// truncateStream(streamId, beforeVersion)
for (const [given, value] of [["beforeVersion -1", -1], ["beforeVersion 1.5", 1.5], ['beforeVersion "3"', "3"], ["beforeVersion undefined", undefined], ["beforeVersion NaN", NaN]] as const) {
  add("truncateStream", "promise", ["beforeVersion"], given, (db) => db.events.truncateStream("s", bad(value)));
}

// setStreamRetention(streamId, retention)
for (const [given, value] of [["retention null", null], ['retention "x"', "x"], ["retention undefined", undefined], ["retention 5", 5]] as const) {
  add("setStreamRetention", "promise", ["retention"], given, (db) => db.events.setStreamRetention("s", bad(value)));
}
const badRetention: [string, string, unknown][] = [
  ["maxCount", "maxCount -1", { maxCount: -1 }], ["maxCount", "maxCount 1.5", { maxCount: 1.5 }], ["maxCount", 'maxCount "3"', { maxCount: "3" }],
  ["maxAgeMs", "maxAgeMs -1", { maxAgeMs: -1 }], ["maxAgeMs", 'maxAgeMs "x"', { maxAgeMs: "x" }], ["maxAgeMs", "maxAgeMs NaN", { maxAgeMs: NaN }],
];
for (const [name, given, retention] of badRetention) {
  add("setStreamRetention", "promise", [name], given, (db) => db.events.setStreamRetention("s", bad(retention)));
}

// subscribe(options)
for (const [given, value] of [['from "start"', "start"], ["from 1.5", 1.5], ['from "5"', "5"]] as const) {
  add("subscribe", "sync", ["from"], given, (db) => db.events.subscribe({ from: bad(value) }));
}
add("subscribe", "sync", ["options"], 'options "x"', (db) => db.events.subscribe(bad("x")));

async function expectInvalid(db: Database, c: Case): Promise<SeglogError> {
  switch (c.kind) {
    case "promise":
      return rejectsWith(() => c.call(db) as Promise<unknown>, "INVALID_ARGUMENT");
    case "sync":
      return throwsWith(() => c.call(db), "INVALID_ARGUMENT");
    case "iterable":
      return iterationFailsWith(() => c.call(db) as AsyncIterable<unknown>, "INVALID_ARGUMENT");
  }
}

describe("invalid arguments", () => {
  const watched = ["s", "t", "new", "a", "b"];

  it.each(cases.map((c) => [c.method, c.given, c.names.join(" or "), c] as const))(
    "when %s gets %s, it fails with INVALID_ARGUMENT naming %s and changes nothing, also after reopen",
    async (_method, _given, _names, c) => {
      const db = await h.open({ durability: "buffered" });
      await db.events.append("s", numbered(3));
      await db.events.append("t", numbered(1));
      const before = await snapshot(db, watched);
      const err = await expectInvalid(db, c);
      expect(c.names.some((name) => err.message.includes(name))).toBe(true);
      expect(await snapshot(db, watched)).toEqual(before);
      const again = await h.reopen(db);
      expect(await snapshot(again, watched)).toEqual(before);
    },
  );

  it("when a database option or the directory argument is invalid, open rejects with INVALID_ARGUMENT naming it", async () => {
    const optionCases: [string, unknown][] = [
      ["durability", { durability: "fast" }],
      ["segmentBytes", { segmentBytes: -1 }],
      ["maxRecordBytes", { maxRecordBytes: "big" }],
      ["flushIntervalMs", { flushIntervalMs: 0.5 }],
      ["readOnly", { readOnly: "yes" }],
      ["clock", { clock: 5 }],
      ["fsyncOnWorker", { fsyncOnWorker: "yes" }],
    ];
    for (const [name, options] of optionCases) {
      const err = await rejectsWith(() => h.open(bad(options)), "INVALID_ARGUMENT");
      expect(err.message).toContain(name);
    }
    await rejectsWith(() => h.open(undefined, bad(5)), "INVALID_ARGUMENT");
  });

  it("when only segmentBytes is given, maxRecordBytes follows it and segments roll; only an explicit pair that does not fit is INVALID_ARGUMENT", async () => {
    const db = await h.open({ segmentBytes: 64 * 1024, durability: "buffered" });
    // The largest record such a segment holds: 64 KiB less the segment header (32) and the frame header (12).
    await db.objects.put(new Uint8Array(64 * 1024 - 44 - 32).fill(1));
    await rejectsWith(() => db.objects.put(new Uint8Array(64 * 1024 - 44 - 31)), "TOO_LARGE");
    for (let i = 0; i < 40; i++) await db.events.append(`s${i % 4}`, [{ type: "T", data: new Uint8Array(4000).fill(i) }]);
    const stats = await db.stats();
    expect(stats.segments).toBeGreaterThan(2);
    expect(stats.diskBytes).toBeLessThanOrEqual(stats.segments * 64 * 1024);
    const err = await rejectsWith(() => h.open({ segmentBytes: 64 * 1024, maxRecordBytes: 1024 * 1024 }), "INVALID_ARGUMENT");
    expect(err.message).toContain("segmentBytes");
    // maxRecordBytes alone: the default segment grows to hold one such record.
    const elsewhere = mkdtempSync(join(tmpdir(), "seglog-big-records-"));
    try {
      const big = await h.open({ maxRecordBytes: 100 * 1024 * 1024 }, elsewhere);
      await big.close();
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
