/**
 * Everything a database shows through the public API, as one comparable value:
 * every store's lists and every known key's reads, each recorded as an outcome
 * (the value, or the SeglogError code it threw). Two dumps with the same
 * `canon` text show the same data byte for byte.
 *
 * The fuzz suites use it three ways: to snapshot a template database after each
 * operation (what an open after tail damage must show exactly), to collect every
 * value that was ever written (what an open after any damage may show), and to
 * compare two opens of the same files (read-only against writer, before and after
 * a reopen). Any exception other than a SeglogError, or a call that does not
 * settle, is a FuzzViolation.
 */
import { createHash } from "node:crypto";
import { SeglogError, type open } from "../../engine/index.js";
import { canon, describeError, FuzzViolation, show, violation, withTimeout } from "./fuzz.js";

type Database = Awaited<ReturnType<typeof open>>;

export type Outcome = { ok: true; v: unknown } | { ok: false; code: string };

/** The keys a dump queries one by one (lists are always taken whole). */
export interface KnownKeys {
  streams: string[];
  objects: string[];
  cassettes: string[];
  recordings: string[];
  contexts: string[];
  byteStreams: string[];
}

export function emptyKeys(): KnownKeys {
  return { streams: [], objects: [], cassettes: [], recordings: [], contexts: [], byteStreams: [] };
}

export interface Dump {
  events: {
    all: Outcome;
    back: Outcome;
    list: Outcome;
    has: Outcome;
    streams: Record<string, { read: Outcome; version: Outcome; exists: Outcome }>;
  };
  objects: { list: Outcome; items: Record<string, { has: Outcome; get: Outcome; chunks: Outcome }> };
  cassettes: { list: Outcome; items: Record<string, { exists: Outcome; entries: Outcome }> };
  recordings: { list: Outcome; summaries: Outcome; items: Record<string, Outcome> };
  contexts: { list: Outcome; counts: Outcome; deltas: Outcome; items: Record<string, { context: Outcome; deltas: Outcome }> };
  byteStreams: { list: Outcome; items: Record<string, { meta: Outcome; messages: Outcome; bytes: Outcome }> };
  stats: Outcome;
}

export const CALL_TIMEOUT_MS = 20_000;

/** Runs one API call; a SeglogError becomes an outcome, anything else a violation. */
export async function attempt(what: string, call: () => unknown): Promise<Outcome> {
  try {
    const v = await withTimeout(Promise.resolve().then(call), CALL_TIMEOUT_MS, what);
    return { ok: true, v };
  } catch (err) {
    if (err instanceof FuzzViolation) throw err;
    if (err instanceof SeglogError) return { ok: false, code: err.code };
    return violation(`${what} threw something other than a SeglogError: ${describeError(err)}`);
  }
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Reads everything the database shows (in a fixed order, so dumps compare with canon). */
export async function dumpDatabase(db: Database, keys: KnownKeys): Promise<Dump> {
  const ev = db.events;
  const streams: Dump["events"]["streams"] = {};
  for (const s of keys.streams) {
    streams[s] = {
      // Forward only: backward stream reads walk the same per-version index (readAll backward is kept).
      read: await attempt(`events.readStream(${s})`, () => ev.readStream(s)),
      version: await attempt(`events.streamVersion(${s})`, () => ev.streamVersion(s)),
      exists: await attempt(`events.streamExists(${s})`, () => ev.streamExists(s)),
    };
  }
  const objects: Dump["objects"]["items"] = {};
  for (const h of keys.objects) {
    objects[h] = {
      has: await attempt(`objects.has(${h})`, () => db.objects.has(h)),
      get: await attempt(`objects.get(${h})`, () => db.objects.get(h)),
      chunks: await attempt(`objects.getChunks(${h})`, () => db.objects.getChunks(h)),
    };
  }
  const cassettes: Dump["cassettes"]["items"] = {};
  for (const p of keys.cassettes) {
    cassettes[p] = {
      exists: await attempt(`cassettes.exists(${p})`, () => db.cassettes.exists(p)),
      entries: await attempt(`cassettes.readEntries(${p})`, () => collect(db.cassettes.readEntries(p))),
    };
  }
  const recordings: Dump["recordings"]["items"] = {};
  for (const id of keys.recordings) recordings[id] = await attempt(`recordings.get(${id})`, () => db.recordings.get(id));
  const contexts: Dump["contexts"]["items"] = {};
  for (const id of keys.contexts) {
    contexts[id] = {
      context: await attempt(`contexts.getContext(${id})`, () => db.contexts.getContext(id)),
      deltas: await attempt(`contexts.getDeltas(${id})`, () => db.contexts.getDeltas(id, -1)),
    };
  }
  const byteStreams: Dump["byteStreams"]["items"] = {};
  for (const id of keys.byteStreams) {
    byteStreams[id] = {
      meta: await attempt(`streams.getMetadata(${id})`, () => db.streams.getMetadata(id)),
      messages: await attempt(`streams.readMessages(${id})`, () => db.streams.readMessages(id)),
      bytes: await attempt(`streams.read(${id})`, () => db.streams.read(id)),
    };
  }
  return {
    events: {
      all: await attempt("events.readAll()", () => ev.readAll()),
      back: await attempt("events.readAll(backward)", () => ev.readAll({ direction: "backward" })),
      list: await attempt("events.listStreams()", () => ev.listStreams()),
      has: await attempt("events.hasEvents()", () => ev.hasEvents()),
      streams,
    },
    objects: { list: await attempt("objects.list()", () => db.objects.list()), items: objects },
    cassettes: { list: await attempt("cassettes.list()", () => db.cassettes.list()), items: cassettes },
    recordings: {
      list: await attempt("recordings.list()", () => db.recordings.list()),
      summaries: await attempt("recordings.listSummaries()", () => db.recordings.listSummaries()),
      items: recordings,
    },
    contexts: {
      list: await attempt("contexts.listContexts()", () => db.contexts.listContexts()),
      counts: await attempt("contexts.listContextsWithDeltaCounts()", () => db.contexts.listContextsWithDeltaCounts()),
      deltas: await attempt("contexts.listDeltas()", () => db.contexts.listDeltas()),
      items: contexts,
    },
    byteStreams: { list: await attempt("streams.list()", () => db.streams.list()), items: byteStreams },
    stats: await attempt("stats()", async () => {
      const s = await db.stats();
      // Only what reads show: disk size, garbage and repair counts differ legitimately.
      return { events: s.events, streams: s.streams, lastPosition: s.lastPosition };
    }),
  };
}

type Recorded = { id: string; streamId: string; version: number; position: number };

/**
 * Every value a template ever showed, keyed so that a damaged database's reads
 * can be checked item by item: an event by its position, an object by its hash,
 * entries, recordings, contexts, deltas and messages by their key.
 */
export class WrittenValues {
  readonly events = new Map<number, string>();
  readonly objects = new Map<string, Set<string>>();
  readonly cassettes = new Map<string, Set<string>>();
  readonly recordings = new Set<string>();
  readonly summaries = new Set<string>();
  readonly contexts = new Set<string>();
  readonly deltas = new Set<string>();
  readonly messages = new Map<string, Set<string>>();
  /** Every message sequence a byte stream ever showed from its start, joined by ",". */
  readonly messageRuns = new Map<string, Set<string>>();
  readonly streamIds = new Set<string>();

  addDump(d: Dump): void {
    const events: unknown[] = [];
    for (const o of [d.events.all, d.events.back]) if (o.ok) events.push(...(o.v as unknown[]));
    for (const s of Object.values(d.events.streams)) if (s.read.ok) events.push(...(s.read.v as unknown[]));
    for (const e of events) this.addEvent(e as Recorded);
    if (d.events.list.ok) for (const s of d.events.list.v as string[]) this.streamIds.add(s);
    for (const [h, item] of Object.entries(d.objects.items)) {
      if (item.get.ok) add(this.objects, h, canon(item.get.v));
      if (item.chunks.ok) add(this.objects, h, canon(item.chunks.v));
    }
    for (const [p, item] of Object.entries(d.cassettes.items)) if (item.entries.ok) for (const e of item.entries.v as unknown[]) add(this.cassettes, p, canon(e));
    if (d.recordings.list.ok) for (const r of d.recordings.list.v as unknown[]) this.recordings.add(canon(r));
    for (const r of Object.values(d.recordings.items)) if (r.ok && r.v !== undefined) this.recordings.add(canon(r.v));
    if (d.recordings.summaries.ok) for (const s of d.recordings.summaries.v as unknown[]) this.summaries.add(canon(s));
    if (d.contexts.list.ok) for (const c of d.contexts.list.v as unknown[]) this.contexts.add(canon(c));
    if (d.contexts.counts.ok) for (const c of d.contexts.counts.v as Record<string, unknown>[]) this.contexts.add(canon(withoutCount(c)));
    for (const c of Object.values(d.contexts.items)) {
      if (c.context.ok) this.contexts.add(canon(c.context.v));
      if (c.deltas.ok) for (const x of c.deltas.v as unknown[]) this.deltas.add(canon(x));
    }
    if (d.contexts.deltas.ok) for (const x of d.contexts.deltas.v as unknown[]) this.deltas.add(canon(x));
    for (const [id, s] of Object.entries(d.byteStreams.items)) {
      if (!s.messages.ok) continue;
      const messages = (s.messages.v as { messages: { data: Uint8Array }[] }).messages.map((m) => hex(m.data));
      for (const m of messages) add(this.messages, id, m);
      add(this.messageRuns, id, `,${messages.join(",")},`);
    }
  }

  addEvent(e: Recorded): void {
    const c = canon(e);
    const before = this.events.get(e.position);
    if (before !== undefined && before !== c) throw new Error(`template showed two different events at position ${e.position}`);
    this.events.set(e.position, c);
  }
}

function add(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(value);
}

function withoutCount(c: Record<string, unknown>): Record<string, unknown> {
  const { deltaCount: _count, ...rest } = c;
  return rest;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

/** Error codes a read of damaged or missing data may give; anything else is a violation. */
const READ_CODES = new Set(["CORRUPTION", "NOT_FOUND", "STREAM_NOT_FOUND", "STREAM_DELETED"]);

/**
 * The weak oracle, for a database opened after any damage: every read either
 * failed with a read error code or showed only values that were written, in a
 * consistent order. Returns nothing; throws a FuzzViolation naming the first
 * value that is damaged, foreign or out of order.
 */
export function checkOnlyWrittenValues(d: Dump, written: WrittenValues, extraEvents: ReadonlyMap<number, string> = new Map()): void {
  const where = (what: string, o: Outcome): o is { ok: true; v: unknown } => {
    if (o.ok) return true;
    if (!READ_CODES.has(o.code)) violation(`${what} failed with ${o.code}, not a read error`);
    return false;
  };
  const checkEvents = (what: string, o: Outcome, order: 1 | -1, key: "position" | "version", streamId?: string): void => {
    if (!where(what, o)) return;
    let previous: number | undefined;
    for (const e of o.v as Recorded[]) {
      const expected = written.events.get(e.position) ?? extraEvents.get(e.position);
      if (expected !== canon(e)) violation(`${what} returned an event that was never written at position ${e.position}: ${show(e)}`);
      if (streamId !== undefined && e.streamId !== streamId) violation(`${what} returned an event of stream ${e.streamId}`);
      if (previous !== undefined && (e[key] - previous) * order <= 0) violation(`${what} returned ${key} ${e[key]} after ${previous}`);
      previous = e[key];
    }
  };
  checkEvents("events.readAll()", d.events.all, 1, "position");
  checkEvents("events.readAll(backward)", d.events.back, -1, "position");
  for (const [s, item] of Object.entries(d.events.streams)) {
    checkEvents(`events.readStream(${s})`, item.read, 1, "version", s);
    where(`events.streamVersion(${s})`, item.version);
    where(`events.streamExists(${s})`, item.exists);
  }
  if (where("events.listStreams()", d.events.list)) {
    const ids = d.events.list.v as string[];
    for (let i = 0; i < ids.length; i++) {
      if (i > 0 && !(ids[i - 1]! < ids[i]!)) violation(`events.listStreams() is not sorted: ${ids[i - 1]} before ${ids[i]}`);
    }
  }
  if (where("objects.list()", d.objects.list)) {
    for (const h of d.objects.list.v as string[]) if (!written.objects.has(h)) violation(`objects.list() names ${h}, never written`);
  }
  for (const [h, item] of Object.entries(d.objects.items)) {
    for (const [what, o] of [["get", item.get], ["getChunks", item.chunks]] as const) {
      if (!where(`objects.${what}(${h})`, o)) continue;
      if (!written.objects.get(h)?.has(canon(o.v))) violation(`objects.${what}(${h}) returned content that was never written`);
      if (what === "get" && sha256(o.v as Uint8Array) !== h) violation(`objects.get(${h}) returned bytes with another hash`);
    }
  }
  for (const [p, item] of Object.entries(d.cassettes.items)) {
    if (!where(`cassettes.readEntries(${p})`, item.entries)) continue;
    for (const e of item.entries.v as unknown[]) if (!written.cassettes.get(p)?.has(canon(e))) violation(`cassettes.readEntries(${p}) returned an entry never written there`);
  }
  if (where("recordings.list()", d.recordings.list)) {
    for (const r of d.recordings.list.v as unknown[]) if (!written.recordings.has(canon(r))) violation(`recordings.list() returned a recording never saved: ${show(r)}`);
  }
  if (where("recordings.listSummaries()", d.recordings.summaries)) {
    for (const s of d.recordings.summaries.v as unknown[]) if (!written.summaries.has(canon(s))) violation(`recordings.listSummaries() returned a summary never saved: ${show(s)}`);
  }
  for (const [id, o] of Object.entries(d.recordings.items)) {
    if (where(`recordings.get(${id})`, o) && o.v !== undefined && !written.recordings.has(canon(o.v))) violation(`recordings.get(${id}) returned a recording never saved`);
  }
  const contextOk = (what: string, o: Outcome, strip: boolean): void => {
    if (!where(what, o)) return;
    for (const c of o.v as Record<string, unknown>[]) if (!written.contexts.has(canon(strip ? withoutCount(c) : c))) violation(`${what} returned a context never set: ${show(c)}`);
  };
  contextOk("contexts.listContexts()", d.contexts.list, false);
  contextOk("contexts.listContextsWithDeltaCounts()", d.contexts.counts, true);
  const deltasOk = (what: string, o: Outcome): void => {
    if (!where(what, o)) return;
    for (const x of o.v as unknown[]) if (!written.deltas.has(canon(x))) violation(`${what} returned a delta never set: ${show(x)}`);
  };
  deltasOk("contexts.listDeltas()", d.contexts.deltas);
  for (const [id, item] of Object.entries(d.contexts.items)) {
    if (where(`contexts.getContext(${id})`, item.context) && !written.contexts.has(canon(item.context.v))) violation(`contexts.getContext(${id}) returned a context never set`);
    deltasOk(`contexts.getDeltas(${id})`, item.deltas);
  }
  where("streams.list()", d.byteStreams.list);
  for (const [id, item] of Object.entries(d.byteStreams.items)) {
    where(`streams.getMetadata(${id})`, item.meta);
    const bytes = where(`streams.read(${id})`, item.bytes) ? (item.bytes.v as { data: Uint8Array; offset: string }) : undefined;
    if (!where(`streams.readMessages(${id})`, item.messages)) continue;
    const read = item.messages.v as { messages: { data: Uint8Array; offset: string }[]; offset: string };
    let previous = "";
    for (const m of read.messages) {
      if (!written.messages.get(id)?.has(hex(m.data))) violation(`streams.readMessages(${id}) returned a message never appended: ${show(m.data)}`);
      if (!(m.offset > previous) || !/^[0-9_]+$/.test(m.offset)) violation(`streams.readMessages(${id}) gave offset ${m.offset} after ${previous}`);
      previous = m.offset;
    }
    // The messages read from the start are a run of messages that were appended one after another.
    const run = `,${read.messages.map((m) => hex(m.data)).join(",")},`;
    if (read.messages.length > 0 && ![...(written.messageRuns.get(id) ?? [])].some((r) => r.includes(run))) {
      violation(`streams.readMessages(${id}) returned ${read.messages.length} messages that were never consecutive (a lost message skipped silently?)`);
    }
    // A binary stream's bytes are its messages back to back.
    if (bytes !== undefined) {
      const joined = Buffer.concat(read.messages.map((m) => m.data));
      if (!joined.equals(Buffer.from(bytes.data))) violation(`streams.read(${id}) returned ${bytes.data.length} bytes that are not its ${read.messages.length} messages (${joined.length} bytes) back to back`);
      if (bytes.offset !== read.offset) violation(`streams.read(${id}) ends at offset ${bytes.offset}, readMessages at ${read.offset}`);
    }
  }
  if (!d.stats.ok && d.stats.code !== "CORRUPTION") violation(`stats() failed with ${d.stats.code}`);
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** The first path at which two dumps (or any two values) differ, with both sides shortened; undefined when equal. */
export function firstDifference(expected: unknown, actual: unknown, at = "dump"): string | undefined {
  const a = canon(expected);
  const b = canon(actual);
  if (a === b) return undefined;
  const plain = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !(v instanceof Uint8Array) && !(v instanceof Date);
  if (plain(expected) && plain(actual)) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const k of keys) {
      const d = firstDifference(expected[k], actual[k], Array.isArray(expected) ? `${at}[${k}]` : `${at}.${k}`);
      if (d !== undefined) return d;
    }
  }
  return `${at}: expected ${show(expected)}, got ${show(actual)}`;
}
