/**
 * A plain-object model of db.streams for the model-based test: stream ids with
 * their text, closed flag, deletes, and forks (a fork keeps its source
 * soft-deleted while it lives). Every operation returns the model after it, or
 * the error code the engine must give, and never changes the model it was
 * called on, so the test can keep several candidate models after a crash.
 */
export interface ModelStream {
  text: string;
  closed: boolean;
  deleted: boolean;
  source: ModelStream | undefined;
  /** Bytes of the source the fork started with. */
  forkBytes: number;
  forks: Set<ModelStream>;
}

export type Outcome = { ok: true; next: StreamModel } | { ok: false; code: string };

export class StreamModel {
  constructor(readonly streams = new Map<string, ModelStream>()) {}

  /** What a read of `id` sees: the stream, or the error code. */
  status(id: string): ModelStream | "NOT_FOUND" | "STREAM_DELETED" {
    const s = this.streams.get(id);
    if (s === undefined) return "NOT_FOUND";
    if (s.deleted) return retained(s) ? "STREAM_DELETED" : "NOT_FOUND";
    return s;
  }

  create(id: string): Outcome {
    const s = this.status(id);
    if (s === "STREAM_DELETED") return { ok: false, code: s };
    if (s !== "NOT_FOUND") return { ok: true, next: this };
    return this.change((m) => m.put(id, { text: "", closed: false, deleted: false, source: undefined, forkBytes: 0, forks: new Set() }));
  }

  fork(id: string, from: string): Outcome {
    const target = this.status(id);
    if (target === "STREAM_DELETED") return { ok: false, code: target };
    if (target !== "NOT_FOUND") {
      const source = this.streams.get(from);
      const same = target.source !== undefined && target.source === source && target.forkBytes === source.text.length;
      return same ? { ok: true, next: this } : { ok: false, code: "ALREADY_EXISTS" };
    }
    const source = this.status(from);
    if (typeof source === "string") return { ok: false, code: source };
    return this.change((m) => {
      const src = m.streams.get(from)!;
      const fork: ModelStream = { text: src.text, closed: false, deleted: false, source: src, forkBytes: src.text.length, forks: new Set() };
      src.forks.add(fork);
      m.put(id, fork);
    });
  }

  append(id: string, data: string): Outcome {
    const s = this.status(id);
    if (typeof s === "string") return { ok: false, code: s };
    if (s.closed) return { ok: false, code: "STREAM_CLOSED" };
    return this.change((m) => (m.streams.get(id)!.text += data));
  }

  close(id: string): Outcome {
    const s = this.status(id);
    if (typeof s === "string") return { ok: false, code: s };
    return this.change((m) => (m.streams.get(id)!.closed = true));
  }

  delete(id: string): Outcome {
    const s = this.status(id);
    if (typeof s === "string") return { ok: false, code: s };
    return this.change((m) => {
      m.streams.get(id)!.deleted = true;
      m.collect();
    });
  }

  /** A copy with `fn` applied; forks and sources stay linked within the copy. */
  private change(fn: (m: StreamModel) => void): Outcome {
    const copies = new Map<ModelStream, ModelStream>();
    const copy = (s: ModelStream): ModelStream => {
      let c = copies.get(s);
      if (c !== undefined) return c;
      c = { ...s, forks: new Set(), source: undefined };
      copies.set(s, c);
      if (s.source !== undefined) c.source = copy(s.source);
      for (const f of s.forks) c.forks.add(copy(f));
      return c;
    };
    const next = new StreamModel(new Map([...this.streams].map(([id, s]) => [id, copy(s)])));
    fn(next);
    return { ok: true, next };
  }

  private put(id: string, s: ModelStream): void {
    const old = this.streams.get(id);
    if (old !== undefined) old.source?.forks.delete(old);
    this.streams.set(id, s);
    this.collect();
  }

  /** Drops deleted streams nothing keeps, and what that frees in turn. */
  private collect(): void {
    for (let changed = true; changed; ) {
      changed = false;
      for (const [id, s] of this.streams) {
        if (s.deleted && !retained(s)) {
          this.streams.delete(id);
          s.source?.forks.delete(s);
          changed = true;
        }
      }
    }
  }
}

function retained(s: ModelStream): boolean {
  for (const f of s.forks) if (!f.deleted || retained(f)) return true;
  return false;
}
