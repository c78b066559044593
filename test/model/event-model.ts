/**
 * The simple in-memory model of db.events that the model-based test holds the
 * engine to: stream versions, delete states, truncation, count retention and
 * the data of every event. It predicts each call's outcome (a new model or an
 * error code) straight from the rules of docs/api.md.
 */
export interface ModelStream {
  version: number;
  minVersion: number;
  state: "live" | "soft" | "hard";
  maxCount: number;
  data: Map<number, unknown>;
  /** The caller's event ids by version (absent where the engine made one up). */
  ids: Map<number, string>;
}

/** One event of a modelled append: its data, and what makes a call fail before anything is written. */
export interface ModelEvent {
  data: unknown;
  id?: string;
  /** Encodes to more than maxRecordBytes. */
  tooLarge?: boolean;
  /** An empty type: INVALID_ARGUMENT. */
  badType?: boolean;
}

import type { Outcome as GenericOutcome } from "./model-runner.js";

export type Outcome = GenericOutcome<EventModel>;

export type Expected = number | "any" | "no_stream" | "stream_exists";

export class EventModel {
  constructor(readonly streams: Map<string, ModelStream> = new Map()) {}

  clone(): EventModel {
    const copy = new Map<string, ModelStream>();
    for (const [id, s] of this.streams) copy.set(id, { ...s, data: new Map(s.data), ids: new Map(s.ids) });
    return new EventModel(copy);
  }

  stream(id: string): ModelStream {
    return this.streams.get(id) ?? { version: -1, minVersion: 0, state: "live", maxCount: -1, data: new Map(), ids: new Map() };
  }

  exists(id: string): boolean {
    const s = this.stream(id);
    return s.version >= 0 && s.state === "live";
  }

  /** Versions readStream returns, ascending. */
  visible(id: string): number[] {
    const s = this.stream(id);
    if (s.state !== "live") return [];
    let lo = s.minVersion;
    if (s.maxCount >= 0) lo = Math.max(lo, s.version - s.maxCount + 1);
    const out: number[] = [];
    for (let v = lo; v <= s.version; v++) out.push(v);
    return out;
  }

  /** Plain data: events without ids that always fit. */
  append(items: { streamId: string; data: unknown[]; expected: Expected }[]): Outcome {
    return this.appendEvents(items.map((i) => ({ streamId: i.streamId, events: i.data.map((data) => ({ data })), expected: i.expected })));
  }

  /**
   * The rules in the order the engine applies them: argument checks, then every
   * item's deletion state, expected version and idempotency, then the size of
   * every record (only then is anything framed).
   */
  appendEvents(items: { streamId: string; events: ModelEvent[]; expected: Expected }[]): Outcome {
    if (items.some((i) => i.events.length === 0 || i.events.some((e) => e.badType))) return { ok: false, code: "INVALID_ARGUMENT" };
    const duplicates = new Set<number>();
    for (const [k, item] of items.entries()) {
      const s = this.stream(item.streamId);
      if (s.state === "hard") return { ok: false, code: "STREAM_DELETED" };
      const live = s.state === "live" && s.version >= 0;
      const e = item.expected;
      const holds = e === "any" ? true : e === "no_stream" || e === -1 ? !live : e === "stream_exists" ? live : s.version === e;
      if (item.events.every((ev) => ev.id !== undefined) && (!holds || e === "any")) {
        const found = findStored(s, item.events.map((ev) => ev.id!), typeof e === "number" ? e : undefined);
        if (found === "partial") return { ok: false, code: "WRONG_EXPECTED_VERSION" };
        if (found === "whole") {
          duplicates.add(k);
          continue;
        }
      }
      if (!holds) return { ok: false, code: "WRONG_EXPECTED_VERSION" };
    }
    if (items.some((i, k) => !duplicates.has(k) && i.events.some((e) => e.tooLarge))) return { ok: false, code: "TOO_LARGE" };
    const next = this.clone();
    for (const [k, item] of items.entries()) {
      if (duplicates.has(k)) continue;
      const s = next.stream(item.streamId);
      for (const ev of item.events) {
        s.data.set(++s.version, ev.data);
        if (ev.id !== undefined) s.ids.set(s.version, ev.id);
      }
      s.state = "live";
      next.streams.set(item.streamId, s);
    }
    return { ok: true, next };
  }

  delete(id: string, hard: boolean): Outcome {
    const s = this.stream(id);
    if (s.version < 0) return { ok: false, code: "STREAM_NOT_FOUND" };
    if (s.state === "hard") return { ok: false, code: "STREAM_DELETED" };
    const next = this.clone();
    const n = next.stream(id);
    n.state = hard ? "hard" : "soft";
    n.minVersion = n.version + 1;
    return { ok: true, next };
  }

  truncate(id: string, before: number): Outcome {
    const check = this.checkExisting(id);
    if (check !== undefined) return check;
    const next = this.clone();
    const n = next.stream(id);
    n.minVersion = Math.max(n.minVersion, Math.min(before, n.version + 1));
    return { ok: true, next };
  }

  retain(id: string, maxCount: number): Outcome {
    const check = this.checkExisting(id);
    if (check !== undefined) return check;
    const next = this.clone();
    next.stream(id).maxCount = maxCount;
    return { ok: true, next };
  }

  /**
   * Compaction makes retention final: events retention hides are gone for good,
   * so raising maxCount afterwards cannot show them again.
   */
  compacted(): Outcome {
    const next = this.clone();
    for (const s of next.streams.values()) {
      if (s.state === "live" && s.maxCount >= 0) s.minVersion = Math.max(s.minVersion, s.version - s.maxCount + 1);
    }
    return { ok: true, next };
  }

  private checkExisting(id: string): Outcome | undefined {
    const s = this.stream(id);
    if (s.state === "hard") return { ok: false, code: "STREAM_DELETED" };
    if (s.version < 0 || s.state !== "live") return { ok: false, code: "STREAM_NOT_FOUND" };
    return undefined;
  }
}

/** Whether `ids` are stored consecutively in the stream (right after `after`, or anywhere): the API's idempotency rule. */
function findStored(s: ModelStream, ids: string[], after: number | undefined): "whole" | "partial" | undefined {
  const lowest = after === undefined ? 0 : after + 1;
  const highest = after === undefined ? s.version : Math.min(s.version, after + 1);
  let partial = false;
  for (let v = highest; v >= lowest; v--) {
    if (s.ids.get(v) !== ids[0]) continue;
    let n = 1;
    while (n < ids.length && s.ids.get(v + n) === ids[n]) n++;
    if (n === ids.length) return "whole";
    partial = true;
  }
  return partial ? "partial" : undefined;
}
