/**
 * Emmett command handling — read the stream, decide, append with the expected
 * version — through Emmett's own CommandHandler, on seglog (`seglog/emmett`,
 * durability "sync") and on SQLite with emmett-sqlite's schema, in the same run.
 *
 * Why not emmett-sqlite itself: its only releases built for Emmett 0.42 need
 * core 0.42.4, which the registry does not have (core's latest is 0.42.0, the
 * version pinned here), and 0.38.x needs core 0.38.x. So the SQLite side is
 * emmett-sqlite's schema and statements (a streams table holding each
 * stream's position, a messages table with JSON data and metadata, the
 * position check and the inserts in one transaction) on better-sqlite3, with
 * journal_mode WAL and synchronous FULL: every commit is fsynced, as every
 * seglog append is under "sync".
 *
 * Workloads: 1 writer, then 64 concurrent writers, each command adding an item
 * to one of 1,000 carts picked at random; a version conflict is retried by the
 * command handler (retries: 20, 1 ms apart) for both stores.
 * Run: `npm run build && npm run bench:emmett` (`-- --seconds 2` for a quick run).
 * Writes bench/results/emmett.json and the "## Emmett command handling" section of docs/benchmarks.md.
 */
import {
  CommandHandler,
  ExpectedVersionConflictError,
  NO_CONCURRENCY_CHECK,
  STREAM_DOES_NOT_EXIST,
  STREAM_EXISTS,
  type Event,
  type EventStore,
  type ExpectedStreamVersion,
  type ReadEvent,
  type ReadEventMetadataWithGlobalPosition,
} from "@event-driven-io/emmett";
import Sqlite from "better-sqlite3";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { open } from "../engine/index.js";
import { getSeglogEventStore } from "../engine/integrations/emmett/index.js";
import { writeSection } from "./doc-section.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "8" } } });
const SECONDS = Number(values.seconds);
const CARTS = 1000;
const HEADING = "## Emmett command handling";

type ItemAdded = Event<"ItemAdded", { sku: string; quantity: number }>;
type Cart = { items: number };
const evolve = (cart: Cart, e: ItemAdded): Cart => ({ items: cart.items + e.data.quantity });
const initialState = (): Cart => ({ items: 0 });
const handle = CommandHandler<Cart, ItemAdded>({ evolve, initialState, retry: { onVersionConflict: { retries: 20, minTimeout: 1, maxTimeout: 1, factor: 1 } } });

interface Result {
  store: string;
  writers: number;
  commands: number;
  commandsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

const results: Result[] = [];
for (const writers of [1, 64]) {
  for (const subject of ["seglog", "sqlite"] as const) {
    const dir = mkdtempSync(join(tmpdir(), "seglog-bench-emmett-"));
    try {
      const { store, close } = subject === "seglog" ? await seglogStore(dir) : sqliteStore(dir);
      const r = await run(subject === "seglog" ? "seglog (seglog/emmett, sync)" : "SQLite, emmett-sqlite schema (WAL, synchronous FULL)", store, writers);
      await close();
      results.push(r);
      console.log(`${r.store.padEnd(56)} ${String(writers).padStart(2)} writers ${r.commandsPerSec.toFixed(0).padStart(7)} commands/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/emmett.json", `${JSON.stringify({ bench: "emmett", node: process.version, cpus: cpus().length, seconds: SECONDS, results }, null, 2)}\n`);
writeSection("docs/benchmarks.md", render(), HEADING);
console.log("wrote bench/results/emmett.json and the Emmett command handling section of docs/benchmarks.md");

async function run(name: string, store: EventStore<ReadEventMetadataWithGlobalPosition>, writers: number): Promise<Result> {
  const latencies: number[] = [];
  let t0 = 0;
  // A warm-up of a fifth of the time, then the measured run.
  for (const [seconds, keep] of [[SECONDS / 5, false], [SECONDS, true]] as const) {
    latencies.length = 0;
    const end = performance.now() + seconds * 1000;
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (performance.now() < end) {
          const cart = `cart-${Math.floor(Math.random() * CARTS)}`;
          const start = performance.now();
          await handle(store, cart, () => ({ type: "ItemAdded", data: { sku: randomUUID(), quantity: 1 } }));
          latencies.push(performance.now() - start);
        }
      }),
    );
    if (keep) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 100) / 100;
  return { store: name, writers, commands: latencies.length, commandsPerSec: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

async function seglogStore(dir: string): Promise<{ store: EventStore<ReadEventMetadataWithGlobalPosition>; close(): Promise<void> }> {
  const db = await open(dir, { durability: "sync" });
  const store = getSeglogEventStore(db);
  return { store, close: () => db.close() };
}

/** Emmett's EventStore over emmett-sqlite's schema, on better-sqlite3. */
function sqliteStore(dir: string): { store: EventStore<ReadEventMetadataWithGlobalPosition>; close(): Promise<void> } {
  const db = new Sqlite(join(dir, "emmett.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(`
    CREATE TABLE IF NOT EXISTS emt_streams (
      stream_id TEXT NOT NULL, stream_position BIGINT NOT NULL DEFAULT 0, partition TEXT NOT NULL DEFAULT 'global',
      stream_type TEXT NOT NULL, stream_metadata JSONB NOT NULL, is_archived BOOLEAN NOT NULL DEFAULT FALSE,
      PRIMARY KEY (stream_id, partition, is_archived), UNIQUE (stream_id, partition, is_archived));
    CREATE TABLE IF NOT EXISTS emt_messages (
      stream_id TEXT NOT NULL, stream_position BIGINT NOT NULL, partition TEXT NOT NULL DEFAULT 'global',
      message_kind CHAR(1) NOT NULL DEFAULT 'E', message_data JSONB NOT NULL, message_metadata JSONB NOT NULL,
      message_schema_version TEXT NOT NULL, message_type TEXT NOT NULL, message_id TEXT NOT NULL,
      is_archived BOOLEAN NOT NULL DEFAULT FALSE, global_position INTEGER PRIMARY KEY, created DATETIME DEFAULT CURRENT_TIMESTAMP,
      UNIQUE (stream_id, stream_position, partition, is_archived));`);
  const position = db.prepare("SELECT stream_position FROM emt_streams WHERE stream_id = ? AND partition = 'global' AND is_archived = FALSE").pluck();
  const insertStream = db.prepare("INSERT INTO emt_streams (stream_id, stream_position, partition, stream_type, stream_metadata, is_archived) VALUES (?, ?, 'global', ?, '[]', FALSE)");
  const bumpStream = db.prepare("UPDATE emt_streams SET stream_position = stream_position + ? WHERE stream_id = ? AND partition = 'global' AND is_archived = FALSE RETURNING stream_position").pluck();
  const insertMessage = db.prepare(
    "INSERT INTO emt_messages (stream_id, stream_position, partition, message_kind, message_data, message_metadata, message_schema_version, message_type, message_id, is_archived) VALUES (?, ?, 'global', 'E', ?, ?, ?, ?, ?, FALSE) RETURNING global_position",
  ).pluck();
  const select = db.prepare(
    "SELECT stream_position, global_position, message_data, message_metadata, message_type, message_id FROM emt_messages WHERE stream_id = ? AND partition = 'global' AND is_archived = FALSE ORDER BY stream_position",
  );
  const append = db.transaction((streamName: string, events: Event[], expected: ExpectedStreamVersion | undefined) => {
    const current = BigInt((position.get(streamName) as number | undefined) ?? 0);
    const ok =
      expected === undefined || expected === NO_CONCURRENCY_CHECK ? true : expected === STREAM_EXISTS ? current > 0n : expected === STREAM_DOES_NOT_EXIST ? current === 0n : current === expected;
    if (!ok) throw new ExpectedVersionConflictError(current, expected!);
    const next = current === 0n ? (insertStream.run(streamName, events.length, streamName.split("-")[0]), BigInt(events.length)) : BigInt(bumpStream.get(events.length, streamName) as number);
    let global = 0n;
    events.forEach((e, i) => {
      const streamPosition = current + BigInt(i) + 1n;
      const metadata = { streamName, messageId: randomUUID(), streamPosition: streamPosition.toString() };
      global = BigInt(insertMessage.get(streamName, Number(streamPosition), JSON.stringify(e.data), JSON.stringify(metadata), String(current), e.type, metadata.messageId) as number);
    });
    return { next, global, created: current === 0n };
  });
  const readStream = (streamName: string) => {
    const rows = select.all(streamName) as { stream_position: number; global_position: number; message_data: string; message_metadata: string; message_type: string; message_id: string }[];
    const events = rows.map(
      (row) =>
        ({
          type: row.message_type,
          data: JSON.parse(row.message_data) as Record<string, unknown>,
          kind: "Event",
          metadata: { ...(JSON.parse(row.message_metadata) as object), messageId: row.message_id, streamName, streamPosition: BigInt(row.stream_position), globalPosition: BigInt(row.global_position) },
        }) as unknown as ReadEvent<Event, ReadEventMetadataWithGlobalPosition>,
    );
    return { currentStreamVersion: events.length === 0 ? 0n : events[events.length - 1]!.metadata.streamPosition, events, streamExists: events.length > 0 };
  };
  const store: EventStore<ReadEventMetadataWithGlobalPosition> = {
    readStream: async (streamName) => readStream(streamName) as never,
    aggregateStream: async (streamName, options) => {
      const { events, currentStreamVersion, streamExists } = readStream(streamName);
      let state = options.initialState();
      for (const e of events) state = (options.evolve as (s: typeof state, e: unknown) => typeof state)(state, e);
      const expected = options.read?.expectedStreamVersion;
      if (expected !== undefined && expected !== NO_CONCURRENCY_CHECK && typeof expected === "bigint" && expected !== currentStreamVersion) throw new ExpectedVersionConflictError(currentStreamVersion, expected);
      return { currentStreamVersion, state, streamExists };
    },
    appendToStream: async (streamName, events, options) => {
      const r = append(streamName, events as Event[], options?.expectedStreamVersion);
      return { nextExpectedStreamVersion: r.next, createdNewStream: r.created, lastEventGlobalPosition: r.global };
    },
    streamExists: async (streamName) => position.get(streamName) !== undefined,
  };
  return { store, close: async () => void db.close() };
}

function render(): string {
  const ratio = (writers: number): string => {
    const [ours, theirs] = [results.find((r) => r.writers === writers && r.store.startsWith("seglog")), results.find((r) => r.writers === writers && r.store.startsWith("SQLite"))];
    return ours && theirs ? `${(ours.commandsPerSec / theirs.commandsPerSec).toFixed(1)}×` : "–";
  };
  return [
    HEADING,
    "",
    "`bench/emmett.ts` (`npm run bench:emmett`): Emmett's `CommandHandler` (read the cart's stream, decide, append with the",
    "expected version; a conflict retried up to 20 times, 1 ms apart) adding one item per command to one of 1,000 carts",
    `at random, ${SECONDS} s per run after a warm-up, both stores in this one process, one after the other.`,
    "seglog: `getSeglogEventStore(db)`, durability \"sync\" (group commit, one fdatasync per batch). SQLite: emmett-sqlite's",
    "schema and statements on better-sqlite3 12 (emmett-sqlite itself does not install with Emmett 0.42.0: its 0.42.4 needs",
    "a core 0.42.4 the registry does not have), WAL, synchronous FULL (every commit fsynced); its API is synchronous, so",
    "concurrent writers take turns.",
    `Node ${process.version}, ${cpus().length} CPUs.`,
    "",
    "| store | writers | commands/s | p50 ms | p99 ms |",
    "|---|---:|---:|---:|---:|",
    ...results.map((r) => `| ${r.store} | ${r.writers} | ${Math.round(r.commandsPerSec).toLocaleString("en-US")} | ${r.p50Ms} | ${r.p99Ms} |`),
    "",
    `seglog ÷ SQLite, commands/s: 1 writer ${ratio(1)}, 64 writers ${ratio(64)}.`,
  ].join("\n");
}
