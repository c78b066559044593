/**
 * Idempotent re-append: a call whose events all carry ids that are already
 * stored in the stream, consecutively and in the call's order, returns the
 * original result. "Stored" is the writer's view: committed events, found by
 * their in-memory id fingerprints and confirmed against the records (so a
 * fingerprint collision never turns a new event into a duplicate), and appends
 * still in flight, whose ids are kept until they commit. A retry of an append
 * in flight therefore resolves with that append, in call order, and fails if
 * it fails.
 */
import type { StreamEntry } from "../../index/stream-table.js";
import type { AppendResult, NewEvent, RecordedEvent } from "../../types.js";
import { idHash } from "./event-codec.js";

export interface Duplicate {
  result: AppendResult;
  /** Set when the original is still in flight: the duplicate resolves when it commits. */
  committed: Promise<unknown> | undefined;
}

/**
 * `after`: the expected version when it is a number (the ids must start right
 * after it); undefined to look anywhere in the stream. Returns the original
 * append, "partial" when the stored ids match only a prefix, or undefined.
 */
export function findDuplicate(
  entry: StreamEntry,
  events: NewEvent[],
  after: number | undefined,
  readEvent: (location: number) => RecordedEvent,
): Duplicate | "partial" | undefined {
  const ids = new StoredIds(entry, readEvent);
  const first = events[0]!.id!;
  const lowest = Math.max(entry.baseVersion, after === undefined ? 0 : after + 1);
  const highest = after === undefined ? entry.writerVersion : Math.min(entry.writerVersion, after + 1);
  let partial = false;
  for (let v = highest; v >= lowest; v--) {
    if (!ids.is(v, first)) continue;
    let n = 1;
    while (n < events.length && v + n <= entry.writerVersion && ids.is(v + n, events[n]!.id!)) n++;
    if (n === events.length) {
      const last = v + n - 1;
      const pending = entry.inFlightAt(last);
      return {
        result: { streamId: entry.id, firstVersion: v, lastVersion: last, firstPosition: ids.position(v), lastPosition: ids.position(last) },
        committed: pending?.committed,
      };
    }
    partial = true;
  }
  return partial ? "partial" : undefined;
}

/** The writer's view of a stream's event ids and positions, version by version. */
class StoredIds {
  constructor(
    private readonly entry: StreamEntry,
    private readonly readEvent: (location: number) => RecordedEvent,
  ) {}

  is(version: number, id: string): boolean {
    const entry = this.entry;
    if (version > entry.version) {
      const pending = entry.inFlightAt(version);
      return pending !== undefined && pending.ids[version - pending.firstVersion] === id;
    }
    if (version < entry.baseVersion || entry.idHash(version) !== idHash(id)) return false;
    const location = entry.location(version);
    return location >= 0 && this.readEvent(location).id === id;
  }

  position(version: number): number {
    const entry = this.entry;
    if (version > entry.version) {
      const pending = entry.inFlightAt(version)!;
      return pending.firstPosition + (version - pending.firstVersion);
    }
    return this.readEvent(entry.location(version)).position;
  }
}
