/**
 * Dynamic Consistency Boundaries: conditional appends and tag reads through the
 * `EventStore` interface of @dcb-es/event-store, on seglog (`seglog/dcb`,
 * durability "sync") and on @dcb-es/event-store-postgres over a local PostgreSQL
 * this process starts (fsync and synchronous_commit on), in the same run.
 *
 * Workloads:
 *   - conditional appends, 1 and 64 concurrent writers: each appends one event
 *     tagged with a username never used before, on the condition that no event
 *     with that tag exists (no `after`: the dcb.events unique-username rule), so
 *     every append checks the index and none conflicts;
 *   - tag reads: 100,000 events over 1,000 course tags, every tag's events read
 *     in order through `read(Query.fromItems([{ types, tags }]))`, events/s;
 *   - seglog's own API on the same shape: the events of a tag read with
 *     `db.events.query` beside the same events read as a stream (`readStream`),
 *     the issue's bar being a tag read no slower than a stream read.
 * UmaDB's published figures are printed beside ours as a reference only (other
 * hardware, gRPC). When PostgreSQL is not installed the Postgres rows say so.
 *
 * Run: `npm run bench:dcb` (`-- --seconds 2` for a quick run). Writes
 * bench/results/dcb.json and the "## Dynamic consistency boundaries" section of
 * docs/benchmarks.md.
 */
import { Query, Tags, type DcbEvent, type EventStore } from "@dcb-es/event-store";
import { PostgresEventStore } from "@dcb-es/event-store-postgres";
import pg from "pg";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { open, type Database } from "../engine/index.js";
import { QueryIndex } from "../engine/index/query-index.js";
import { getSeglogDcbEventStore } from "../engine/integrations/dcb/index.js";
import { writeSection } from "./doc-section.js";
import { PostgresServer, postgresBinaries } from "./postgres-server.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "8" }, events: { type: "string", default: "100000" } } });
const SECONDS = Number(values.seconds);
const READ_EVENTS = Number(values.events);
const TAGS = 1000;
const READ_PASSES = 3;
const HEADING = "## Dynamic consistency boundaries";

interface AppendResult {
  store: string;
  writers: number;
  appends: number;
  appendsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}
interface ReadResult {
  store: string;
  how: string;
  events: number;
  eventsPerSec: number;
}

const appendResults: AppendResult[] = [];
const readResults: ReadResult[] = [];
const SEGLOG = "seglog (seglog/dcb, sync)";
const POSTGRES = "PostgreSQL (@dcb-es/event-store-postgres 7.0.1)";

const binaries = postgresBinaries();
let postgres: PostgresServer | undefined;
let postgresNote: string;
if (binaries === undefined) {
  postgresNote = "PostgreSQL is not installed here (Debian: apt-get install postgresql): its rows are left out.";
  console.log(postgresNote);
} else {
  postgres = await PostgresServer.start(binaries);
  postgresNote = `${binaries.version}, started by the bench on a temporary directory and 127.0.0.1; settings: ${Object.entries(postgres.settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")} (wal_sync_method: the default, fdatasync on Linux).`;
  console.log(postgresNote);
}

try {
  for (const writers of [1, 64]) {
    await withSeglog(async (store) => void appendResults.push(await conditionalAppends(SEGLOG, store, writers)));
    if (postgres !== undefined) await withPostgres(postgres, async (store) => void appendResults.push(await conditionalAppends(POSTGRES, store, writers)));
  }
  await withSeglog(async (store) => void readResults.push(await tagReads(SEGLOG, store)));
  if (postgres !== undefined) await withPostgres(postgres, async (store) => void readResults.push(await tagReads(POSTGRES, store)));
  readResults.push(...(await nativeReads()));
} finally {
  await postgres?.stop();
}
const memory = indexMemory();
console.log(memory.note);
for (const r of appendResults) console.log(`${r.store.padEnd(50)} ${String(r.writers).padStart(2)} writers ${Math.round(r.appendsPerSec).toString().padStart(7)} appends/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms`);
for (const r of readResults) console.log(`${r.store.padEnd(50)} ${r.how.padEnd(40)} ${Math.round(r.eventsPerSec).toString().padStart(9)} events/s`);

mkdirSync("bench/results", { recursive: true });
writeFileSync(
  "bench/results/dcb.json",
  `${JSON.stringify({ bench: "dcb", node: process.version, cpus: cpus().length, seconds: SECONDS, readEvents: READ_EVENTS, tags: TAGS, postgres: postgresNote, memory, appendResults, readResults }, null, 2)}\n`,
);
writeSection("docs/benchmarks.md", render(), HEADING);
console.log("wrote bench/results/dcb.json and the Dynamic consistency boundaries section of docs/benchmarks.md");

async function withSeglog(work: (store: EventStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "seglog-bench-dcb-"));
  const store = getSeglogDcbEventStore({ dir, durability: "sync" });
  try {
    await work(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh database in the server for each workload, so no run reads another's rows. */
async function withPostgres(server: PostgresServer, work: (store: EventStore) => Promise<void>): Promise<void> {
  const name = `bench_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: server.url });
  await connectWhenReady(admin);
  await admin.query(`CREATE DATABASE ${name}`);
  const pool = new pg.Pool({ connectionString: server.url.replace(/\/postgres$/, `/${name}`), max: 64 });
  try {
    const store = new PostgresEventStore({ pool });
    await store.ensureInstalled();
    await work(store);
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE ${name}`);
    await admin.end();
  }
}

/** A freshly started server accepts connections a moment before it answers queries. */
async function connectWhenReady(client: pg.Client): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.connect();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((done) => setTimeout(done, 200));
    }
  }
}

async function conditionalAppends(name: string, store: EventStore, writers: number): Promise<AppendResult> {
  const latencies: number[] = [];
  let next = 0;
  let t0 = 0;
  // A warm-up of a fifth of the time, then the measured run.
  for (const [seconds, keep] of [[SECONDS / 5, false], [SECONDS, true]] as const) {
    latencies.length = 0;
    const end = performance.now() + seconds * 1000;
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (performance.now() < end) {
          const username = `user${next++}`;
          const tags = Tags.from([`username=${username}`]);
          const event: DcbEvent = { type: "UsernameClaimed", tags, data: { username }, metadata: {} };
          const start = performance.now();
          await store.append({ events: event, condition: { failIfEventsMatch: Query.fromItems([{ types: ["UsernameClaimed"], tags }]) } });
          latencies.push(performance.now() - start);
        }
      }),
    );
    if (keep) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 100) / 100;
  const r = { store: name, writers, appends: latencies.length, appendsPerSec: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
  console.log(`${name}: ${writers} writers, ${Math.round(r.appendsPerSec)} conditional appends/s`);
  return r;
}

function courseEvent(i: number): DcbEvent {
  const course = i % TAGS;
  return { type: "StudentSubscribed", tags: Tags.from([`course=${course}`, `student=${i}`]), data: { course, student: i, note: "x".repeat(60) }, metadata: {} };
}

/** Fills READ_EVENTS events in appends of 1,000, then reads every course's events, READ_PASSES times; the median pass. */
async function tagReads(name: string, store: EventStore): Promise<ReadResult> {
  for (let i = 0; i < READ_EVENTS; i += 1000) {
    await store.append({ events: Array.from({ length: Math.min(1000, READ_EVENTS - i) }, (_, k) => courseEvent(i + k)) });
  }
  const passes: number[] = [];
  let events = 0;
  for (let pass = 0; pass < READ_PASSES; pass++) {
    events = 0;
    const t0 = performance.now();
    for (let course = 0; course < TAGS; course++) {
      const query = Query.fromItems([{ types: ["StudentSubscribed"], tags: Tags.from([`course=${course}`]) }]);
      for await (const _ of store.read(query)) events++;
    }
    passes.push(events / ((performance.now() - t0) / 1000));
  }
  if (events !== READ_EVENTS) throw new Error(`${name}: read ${events} events of ${READ_EVENTS}`);
  const r = { store: name, how: "read(query by course tag)", events, eventsPerSec: median(passes) };
  console.log(`${name}: tag reads ${Math.round(r.eventsPerSec)} events/s`);
  return r;
}

/** seglog's API: the same events as 1,000 streams, read by tag and read as streams. */
async function nativeReads(): Promise<ReadResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "seglog-bench-dcb-native-"));
  const db: Database = await open(dir, { durability: "buffered" });
  try {
    for (let i = 0; i < READ_EVENTS; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, READ_EVENTS - i) }, (_, k) => i + k);
      await Promise.all(
        Array.from({ length: TAGS }, (_, course) => batch.filter((n) => n % TAGS === course)).map((ns, course) =>
          ns.length === 0 ? undefined : db.events.append(`course-${course}`, ns.map((n) => ({ type: "StudentSubscribed", tags: [`course=${course}`, `student=${n}`], data: { course, student: n, note: "x".repeat(60) } }))),
        ),
      );
    }
    const reads = {
      stream: (course: number) => db.events.readStream(`course-${course}`),
      tag: (course: number) => db.events.query({ items: [{ tags: [`course=${course}`] }] }),
      typeAndTag: (course: number) => db.events.query({ items: [{ types: ["StudentSubscribed"], tags: [`course=${course}`] }] }),
    };
    const rates: Record<keyof typeof reads, number[]> = { stream: [], tag: [], typeAndTag: [] };
    for (let pass = 0; pass < READ_PASSES; pass++) {
      // Each pass in another order: what runs first meets a colder block cache.
      const order = (["stream", "tag", "typeAndTag"] as const).map((_, i, all) => all[(i + pass) % all.length]!);
      for (const how of order) {
        let events = 0;
        const t0 = performance.now();
        for (let course = 0; course < TAGS; course++) events += (await reads[how](course)).length;
        if (events !== READ_EVENTS) throw new Error(`seglog ${how} reads: ${events} events of ${READ_EVENTS}`);
        rates[how].push(events / ((performance.now() - t0) / 1000));
      }
    }
    return [
      { store: "seglog (its own API)", how: "db.events.readStream(course stream)", events: READ_EVENTS, eventsPerSec: median(rates.stream) },
      { store: "seglog (its own API)", how: "db.events.query({ tags: [course] })", events: READ_EVENTS, eventsPerSec: median(rates.tag) },
      { store: "seglog (its own API)", how: "db.events.query({ types, tags: [course] })", events: READ_EVENTS, eventsPerSec: median(rates.typeAndTag) },
    ];
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The query index's memory, measured on QueryIndex alone with forced GCs (run with
 * --expose-gc, as `npm run bench:dcb` does): a million events with a type, a
 * category and one of 1,000 shared tags; then 100,000 tags of one event each.
 */
function indexMemory(): { mbPerMillionEvents: number | undefined; bytesPerDistinctKey: number | undefined; note: string } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return { mbPerMillionEvents: undefined, bytesPerDistinctKey: undefined, note: "index memory not measured (run with node --expose-gc)" };
  // The lists are Float64Arrays: their bytes are array buffers, outside heapUsed.
  const heap = (): number => {
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  // Each index is kept in `held` until its own measurement is taken, then let go.
  const held: QueryIndex[] = [new QueryIndex()];
  const tags = Array.from({ length: 1000 }, (_, i) => [`course=${i}`]);
  let before = heap();
  for (let i = 0; i < 1_000_000; i++) held[0]!.add("StudentSubscribed", tags[i % 1000], "course", i * 64);
  const perMillion = (heap() - before) / 1e6;
  held[0] = new QueryIndex();
  before = heap();
  for (let i = 0; i < 100_000; i++) held[0].add("T", [`student=${i}`], undefined, i * 64);
  // The type list of 100,000 entries is part of the figure: 8 bytes of its 150-odd per key.
  const perKey = (heap() - before) / 100_000;
  held.length = 0;
  const mb = Math.round(perMillion * 10) / 10;
  const bytes = Math.round(perKey);
  return {
    mbPerMillionEvents: mb,
    bytesPerDistinctKey: bytes,
    note: `query index memory: ${mb} MB per million events (a type, a category and one shared tag each), ${bytes} B per distinct tag (a tag of one event, its string included)`,
  };
}

function commit(): string {
  const r = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "unknown";
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function render(): string {
  const int = (n: number): string => Math.round(n).toLocaleString("en-US");
  const appendRatio = (writers: number): string => {
    const ours = appendResults.find((r) => r.writers === writers && r.store === SEGLOG);
    const theirs = appendResults.find((r) => r.writers === writers && r.store === POSTGRES);
    return ours && theirs ? `${(ours.appendsPerSec / theirs.appendsPerSec).toFixed(1)}×` : "– (no PostgreSQL)";
  };
  const read = (store: string, how?: string): ReadResult | undefined => readResults.find((r) => r.store === store && (how === undefined || r.how.includes(how)));
  const vsStream = (how: string): string => {
    const tag = read("seglog (its own API)", how);
    const stream = read("seglog (its own API)", "readStream");
    return tag && stream ? `${(tag.eventsPerSec / stream.eventsPerSec).toFixed(2)}×` : "–";
  };
  const readRatio = (): string => {
    const ours = read(SEGLOG);
    const theirs = read(POSTGRES);
    return ours && theirs ? `${(ours.eventsPerSec / theirs.eventsPerSec).toFixed(1)}×` : "– (no PostgreSQL)";
  };
  return [
    HEADING,
    "",
    "`bench/dcb.ts` (`npm run bench:dcb`): the `EventStore` interface of @dcb-es/event-store 7.0.1 on seglog (`seglog/dcb`,",
    "durability \"sync\": group commit, one fdatasync per batch) and on @dcb-es/event-store-postgres 7.0.1 (its defaults: advisory",
    `locks, a pool of 64 connections), both in this one process, one after the other; ${SECONDS} s per append run after a warm-up.`,
    `PostgreSQL: ${postgresNote}`,
    `Node ${process.version}, ${cpus().length} CPUs (the database server shares them), commit ${commit()}, ${new Date().toISOString().slice(0, 10)}.`,
    "",
    "Conditional appends: one event per append, tagged with a username never used before, on the condition that no",
    "`UsernameClaimed` event with that tag exists (no `after`: dcb.events' unique-username rule). None conflicts; each is",
    "checked against the tag index (and, in seglog, against the appends in flight).",
    "",
    "| store | writers | appends/s | p50 ms | p99 ms |",
    "|---|---:|---:|---:|---:|",
    ...appendResults.map((r) => `| ${r.store} | ${r.writers} | ${int(r.appendsPerSec)} | ${r.p50Ms} | ${r.p99Ms} |`),
    "",
    `seglog ÷ PostgreSQL, conditional appends/s: 1 writer ${appendRatio(1)}, 64 writers ${appendRatio(64)} (target ≥ 10×).`,
    "",
    `Tag reads: ${int(READ_EVENTS)} events over ${int(TAGS)} course tags (each event also has a tag of its own), appended 1,000 per call;`,
    `then every course's events read in order, ${READ_PASSES} passes, the median. The last three rows hold the same events`,
    "in seglog as 1,000 streams (one per course), read with seglog's own API as streams, by tag, and by type and tag (each",
    "pass in another order of the three).",
    "",
    "| store | read | events/s |",
    "|---|---|---:|",
    ...readResults.map((r) => `| ${r.store} | ${r.how} | ${int(r.eventsPerSec)} |`),
    "",
    `seglog ÷ PostgreSQL, tag reads through the adapter: ${readRatio()}. seglog's reads of the same events, ÷ its stream reads (target ≥ 1×): by tag ${vsStream("{ tags")}, by type and tag ${vsStream("{ types")}.`,
    "",
    `Memory of the query index (QueryIndex alone, forced GC): ${memory.mbPerMillionEvents ?? "–"} MB per million events that each have a type, a`,
    `category and one of 1,000 shared tags; ${memory.bytesPerDistinctKey ?? "–"} bytes per distinct tag of a single event, its string included.`,
    "",
    "For reference, not as a ratio (other hardware, a server over gRPC): UmaDB publishes 7,521 conditional appends/s with one",
    "client and 114,104 with 1,024 (fsync on), and tag reads of 69k–497k events/s, on an Apple M4.",
  ].join("\n");
}
