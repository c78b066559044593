/**
 * The simple in-memory model of db.events that the model-based test holds the
 * engine to: stream versions, delete states, truncation, count retention and
 * the data of every event. It predicts each call's outcome (a new model or an
 * error code) straight from the rules of shared/API.md.
 */
export interface ModelStream {
  version: number;
  minVersion: number;
  state: "live" | "soft" | "hard";
  maxCount: number;
  data: Map<number, unknown>;
}

import type { Outcome as GenericOutcome } from "./model-runner.js";

export type Outcome = GenericOutcome<EventModel>;

export type Expected = number | "any" | "no_stream" | "stream_exists";

export class EventModel {
  constructor(readonly streams: Map<string, ModelStream> = new Map()) {}

  clone(): EventModel {
    const copy = new Map<string, ModelStream>();
    for (const [id, s] of this.streams) copy.set(id, { ...s, data: new Map(s.data) });
    return new EventModel(copy);
  }

  stream(id: string): ModelStream {
    return this.streams.get(id) ?? { version: -1, minVersion: 0, state: "live", maxCount: -1, data: new Map() };
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

  append(items: { streamId: string; data: unknown[]; expected: Expected }[]): Outcome {
    for (const item of items) {
      const s = this.stream(item.streamId);
      if (s.state === "hard") return { ok: false, code: "STREAM_DELETED" };
      const live = s.state === "live" && s.version >= 0;
      const e = item.expected;
      const holds = e === "any" ? true : e === "no_stream" || e === -1 ? !live : e === "stream_exists" ? live : s.version === e;
      if (!holds) return { ok: false, code: "WRONG_EXPECTED_VERSION" };
    }
    const next = this.clone();
    for (const item of items) {
      const s = next.stream(item.streamId);
      for (const d of item.data) s.data.set(++s.version, d);
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
