/**
 * The load-and-verify workload: bursts of hundreds of calls on all six stores
 * issued in one tick (none awaits another), of every size class, with calls
 * that must fail in the middle of good ones and retries of appends still in
 * flight. Every call's outcome is decided up front, in call order, the way the
 * API defines it; afterwards every acknowledged write is read back byte for
 * byte and nothing of a failed call is visible.
 *
 * Used by test/load/ (fixed seeds) and by `npm run soak` (fresh ones).
 */
import { createHash } from "node:crypto";
import type { Database } from "../../engine/index.js";
import { drawSize, patternBytes, type SizeLimits } from "./size-classes.js";

const KiB = 1024;

export interface LoadLedger {
  /** Events each stream must hold, in version order. */
  events: Map<string, { id: string; data: Uint8Array | string }[]>;
  objects: Map<string, Uint8Array>;
  entries: Map<string, Uint8Array[]>;
  recordings: Map<string, Uint8Array[]>;
  contexts: Map<string, { version: number; blob: Uint8Array }>;
  deltas: Map<string, Map<number, Uint8Array>>;
  messages: Map<string, Uint8Array[]>;
  /** Streams that only failing calls touched: they must not exist. */
  untouched: Set<string>;
}

export function newLedger(): LoadLedger {
  return { events: new Map(), objects: new Map(), entries: new Map(), recordings: new Map(), contexts: new Map(), deltas: new Map(), messages: new Map(), untouched: new Set() };
}

export interface BurstOptions {
  calls: number;
  limits: SizeLimits;
  /** Payloads stay under this but for the limit itself (see drawSize) and `large`. */
  spread: number;
  /** How many calls of the burst carry one of `largeSizes` instead. */
  large: number;
  largeSizes: number[];
  /** Share of draws at the payload limit exactly (or one below). */
  limitShare: number;
}

/** Random with a seed: the same seed draws the same burst. */
export function random32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Issues one burst and resolves with the problems found in the outcomes (an
 * empty list when every call settled as predicted). `tag` keeps names unique
 * across bursts.
 */
export async function burst(db: Database, ledger: LoadLedger, r: () => number, tag: string, o: BurstOptions): Promise<string[]> {
  const problems: string[] = [];
  const jobs: Promise<void>[] = [];
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const largeAt = new Set(Array.from({ length: o.large }, () => Math.floor(r() * o.calls)));
  let current = 0;
  const size = () => (largeAt.has(current) && o.largeSizes.length > 0 ? o.largeSizes[Math.floor(r() * o.largeSizes.length)]! : drawSize(r, o.limits, o.spread, o.limitShare));
  const bytes = (n: number) => patternBytes(n, Math.floor(r() * 2 ** 32));
  const ok = <T>(what: string, p: Promise<T>, then: (value: T) => void) =>
    jobs.push(p.then(then, (e: unknown) => void problems.push(`${what} rejected: ${(e as { code?: string }).code ?? ""} ${(e as Error).message}`)));
  const fails = (what: string, p: Promise<unknown>, code: string) =>
    jobs.push(
      p.then(
        () => void problems.push(`${what} succeeded; it must fail with ${code}`),
        (e: unknown) => {
          if ((e as { code?: string }).code !== code) problems.push(`${what} failed with ${(e as { code?: string }).code ?? (e as Error).name} ${(e as Error).message}; expected ${code}`);
        },
      ),
    );
  const tooLarge = () => bytes(o.limits.maxPayload + 8 * KiB);
  // The shared streams take appends from many calls at once, with "any".
  const shared = [`${tag}-shared-0`, `${tag}-shared-1`];
  const sharedNext = new Map<string, { id: string; data: Uint8Array }[]>(shared.map((s) => [s, []]));

  for (let i = 0; i < o.calls; i++) {
    current = i;
    const name = `${tag}-${i}`;
    const kind = r();
    if (kind < 0.3) {
      const evs = Array.from({ length: r() < 0.8 ? 1 : int(2, 5) }, (_, k) => ({ id: `${name}-e${k}`, type: "T", data: r() < 0.7 ? bytes(size()) : "s".repeat(Math.min(size(), 70_000)) }));
      ok(`append ${name}`, db.events.append(name, evs, { expectedVersion: "no_stream" }), (res) => {
        if (res.firstVersion !== 0 || res.lastVersion !== evs.length - 1) problems.push(`append ${name}: versions ${res.firstVersion}..${res.lastVersion}`);
      });
      ledger.events.set(name, evs);
    } else if (kind < 0.38) {
      const s = shared[int(0, 1)]!;
      const ev = { id: `${name}-shared`, type: "T", data: bytes(size()) };
      sharedNext.get(s)!.push(ev);
      ok(`append to ${s}`, db.events.append(s, [ev]), () => undefined);
    } else if (kind < 0.44) {
      // A retry of an append still in flight: stored once, the same result twice.
      const evs = Array.from({ length: int(1, 3) }, (_, k) => ({ id: `${name}-r${k}`, type: "T", data: bytes(size()) }));
      const expected = () => (r() < 0.5 ? ("any" as const) : ("no_stream" as const));
      const first = db.events.append(name, evs, { expectedVersion: expected() });
      const again = db.events.append(name, evs, { expectedVersion: expected() });
      ok(`append ${name} and its retry`, Promise.all([first, again]), ([a, b]) => {
        if (a.firstVersion !== 0 || b.firstVersion !== 0 || a.lastVersion !== b.lastVersion || a.firstPosition !== b.firstPosition) problems.push(`retry of ${name}: ${JSON.stringify([a, b])}`);
      });
      ledger.events.set(name, evs);
    } else if (kind < 0.48) {
      const a = `${name}-a`;
      const b = `${name}-b`;
      const ea = [{ id: `${a}-0`, type: "T", data: bytes(size()) }];
      const eb = [{ id: `${b}-0`, type: "T", data: bytes(size()) }, { id: `${b}-1`, type: "T", data: bytes(int(0, 64)) }];
      ok(`appendMany ${name}`, db.events.appendMany([{ streamId: a, events: ea, expectedVersion: "no_stream" }, { streamId: b, events: eb }]), () => undefined);
      ledger.events.set(a, ea);
      ledger.events.set(b, eb);
    } else if (kind < 0.56) {
      // Failing calls among the good ones: each changes nothing.
      const which = int(0, 4);
      if (which === 0) fails(`append to new ${name} expecting version 3`, db.events.append(name, [{ type: "T", data: bytes(8) }], { expectedVersion: 3 }), "WRONG_EXPECTED_VERSION");
      else if (which === 1) fails(`append over maxRecordBytes to ${name}`, db.events.append(name, [{ type: "T", data: tooLarge() }]), "TOO_LARGE");
      else if (which === 2) fails(`append with an empty type to ${name}`, db.events.append(name, [{ type: "", data: 1 }]), "INVALID_ARGUMENT");
      else if (which === 3) {
        // Beside an append in flight to the same stream: the failure must not make the writer forget it.
        const evs = [{ id: `${name}-keep`, type: "T", data: bytes(size()) }];
        ok(`append ${name}`, db.events.append(name, evs, { expectedVersion: "no_stream" }), () => undefined);
        ledger.events.set(name, evs);
        fails(`appendMany with a record over the limit beside ${name}`, db.events.appendMany([{ streamId: name, events: [{ type: "T", data: bytes(16) }] }, { streamId: `${name}-x`, events: [{ type: "T", data: tooLarge() }] }]), "TOO_LARGE");
        fails(`a second no_stream append to ${name}`, db.events.append(name, [{ type: "T", data: bytes(8) }], { expectedVersion: "no_stream" }), "WRONG_EXPECTED_VERSION");
        ledger.untouched.add(`${name}-x`);
        continue;
      } else fails(`objects.put over the limit`, db.objects.put(tooLarge()), "TOO_LARGE");
      ledger.untouched.add(name);
    } else if (kind < 0.68) {
      const content = bytes(size());
      const hash = createHash("sha256").update(content).digest("hex");
      ok(`objects.put ${hash.slice(0, 8)}`, db.objects.put(content), (h) => {
        if (h !== hash) problems.push(`objects.put returned ${h}, expected ${hash}`);
      });
      // The same content again in the same tick: one copy, the same hash.
      if (r() < 0.2) ok(`objects.put again ${hash.slice(0, 8)}`, db.objects.put(content), () => undefined);
      ledger.objects.set(hash, content);
    } else if (kind < 0.76) {
      const path = `${tag}/cassette-${int(0, 5)}`;
      const body = bytes(size());
      const list = ledger.entries.get(path) ?? [];
      list.push(body);
      ledger.entries.set(path, list);
      ok(`cassettes.writeEntry ${path}`, db.cassettes.writeEntry(path, { n: list.length, body }), () => undefined);
    } else if (kind < 0.82) {
      const events = Array.from({ length: int(0, 3) }, () => bytes(Math.floor(size() / 2)));
      ok(`recordings.save ${name}`, db.recordings.save({ id: name, title: name, events }), () => undefined);
      ledger.recordings.set(name, events);
    } else if (kind < 0.9) {
      const id = `${tag}-ctx-${int(0, 3)}`;
      const blob = bytes(size());
      if (r() < 0.5) {
        const version = (ledger.contexts.get(id)?.version ?? 0) + 1;
        ledger.contexts.set(id, { version, blob });
        ok(`contexts.setContext ${id}`, db.contexts.setContext(id, { blob }, version), () => undefined);
      } else {
        const deltas = ledger.deltas.get(id) ?? new Map<number, Uint8Array>();
        const version = deltas.size + 1;
        deltas.set(version, blob);
        ledger.deltas.set(id, deltas);
        ok(`contexts.setDelta ${id}@${version}`, db.contexts.setDelta(id, { blob }, version), () => undefined);
      }
    } else {
      const id = `${tag}-bytes-${int(0, 4)}`;
      const data = bytes(Math.max(1, size()));
      if (!ledger.messages.has(id)) {
        ledger.messages.set(id, []);
        ok(`streams.create ${id}`, db.streams.create(id), () => undefined);
      }
      ledger.messages.get(id)!.push(data);
      ok(`streams.append ${id}`, db.streams.append(id, data), () => undefined);
    }
  }
  await Promise.all(jobs);
  // Shared streams: every event once, in call order (calls decide in call order).
  for (const [s, evs] of sharedNext) if (evs.length > 0) ledger.events.set(s, evs);
  return problems;
}

const same = (a: unknown, b: Uint8Array | string): boolean =>
  typeof b === "string" ? a === b : a instanceof Uint8Array && a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;

/** Every acknowledged write, read back; returns the problems found. */
export async function checkLedger(db: Database, ledger: LoadLedger): Promise<string[]> {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [id, evs] of ledger.events) {
    const got = await db.events.readStream(id).catch((e: unknown) => e as Error);
    if (got instanceof Error) {
      problems.push(`readStream(${id}) threw ${(got as { code?: string }).code ?? ""} ${got.message}`);
      continue;
    }
    if (got.length !== evs.length) problems.push(`stream ${id} holds ${got.length} events, ${evs.length} acknowledged`);
    evs.forEach((want, k) => {
      if (got[k]?.id !== want.id || got[k]?.version !== k || !same(got[k]!.data, want.data)) problems.push(`stream ${id} event ${k} does not read back as written`);
    });
  }
  for (const id of ledger.untouched) if (db.events.streamVersion(id) !== -1) problems.push(`stream ${id}, touched only by failing calls, has version ${db.events.streamVersion(id)}`);
  try {
    for await (const e of db.events.iterateAll()) {
      if (seen.has(e.id)) problems.push(`iterateAll sees event ${e.id} twice`);
      seen.add(e.id);
    }
  } catch (e) {
    problems.push(`iterateAll threw ${(e as { code?: string }).code ?? ""} ${(e as Error).message}`);
  }
  const acked = [...ledger.events.values()].reduce((n, evs) => n + evs.length, 0);
  if (seen.size !== acked) problems.push(`iterateAll sees ${seen.size} events, ${acked} acknowledged`);
  for (const [hash, content] of ledger.objects) {
    const got = await db.objects.get(hash).catch((e: unknown) => e as Error);
    if (got instanceof Error || !same(got, content)) problems.push(`object ${hash.slice(0, 12)} does not read back`);
  }
  for (const [path, bodies] of ledger.entries) {
    const got: Record<string, unknown>[] = [];
    for await (const entry of db.cassettes.readEntries(path)) got.push(entry);
    if (got.length !== bodies.length || bodies.some((b, k) => got[k]?.n !== k + 1 || !same(got[k]!.body, b))) problems.push(`cassette ${path} does not read back in write order`);
  }
  for (const [id, events] of ledger.recordings) {
    const got = await db.recordings.get(id);
    if (got?.title !== id || got.events?.length !== events.length || events.some((e, k) => !same(got.events![k], e))) problems.push(`recording ${id} does not read back`);
  }
  for (const [id, c] of ledger.contexts) {
    const got = await db.contexts.getContext(id).catch((e: unknown) => e as Error);
    if (got instanceof Error || got.version !== c.version || !same(got.context.blob, c.blob)) problems.push(`context ${id} does not read back`);
  }
  for (const [id, deltas] of ledger.deltas) {
    const got = await db.contexts.getDeltas(id, -1);
    const want = [...deltas].sort(([a], [b]) => a - b);
    if (got.length !== want.length || want.some(([v, blob], k) => got[k]?.version !== v || !same(got[k]!.delta.blob, blob))) problems.push(`deltas of ${id} do not read back`);
  }
  for (const [id, messages] of ledger.messages) {
    const parts: Uint8Array[] = [];
    let at = "-1";
    for (;;) {
      const page = await db.streams.read(id, at);
      parts.push(page.data);
      at = page.offset;
      if (!page.hasMore) break;
    }
    if (Buffer.compare(Buffer.concat(parts), Buffer.concat(messages)) !== 0) problems.push(`byte stream ${id} does not read back`);
  }
  const report = await db.verify();
  if (!report.ok) problems.push(`verify: ${report.problems.slice(0, 3).join(" | ")}`);
  return problems;
}
