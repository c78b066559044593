/**
 * Idempotent re-append: a call whose events all carry ids that are already
 * stored in the stream, consecutively and in the call's order, returns the
 * original result. Candidates are found by the in-memory id fingerprints and
 * confirmed against the stored records, so a fingerprint collision never turns
 * a new event into a duplicate.
 */
import type { StreamEntry } from "../../index/stream-table.js";
import type { AppendResult, NewEvent, RecordedEvent } from "../../types.js";
import { idHash } from "./event-codec.js";

/**
 * `after`: the expected version when it is a number (the ids must start right
 * after it); undefined to look anywhere in the stream. Returns the original
 * result, "partial" when the stored ids match only a prefix, or undefined.
 */
export function findDuplicate(
  entry: StreamEntry,
  events: NewEvent[],
  after: number | undefined,
  readEvent: (location: number) => RecordedEvent,
): AppendResult | "partial" | undefined {
  const first = events[0]!.id!;
  const firstHash = idHash(first);
  const lowest = Math.max(entry.baseVersion, after === undefined ? 0 : after + 1);
  const highest = after === undefined ? entry.version : Math.min(entry.version, after + 1);
  let partial = false;
  for (let v = highest; v >= lowest; v--) {
    if (entry.idHash(v) !== firstHash) continue;
    const matched = matchFrom(entry, events, v, readEvent);
    if (matched === events.length) {
      const firstEvent = readEvent(entry.location(v));
      const lastEvent = readEvent(entry.location(v + events.length - 1));
      return {
        streamId: entry.id,
        firstVersion: v,
        lastVersion: v + events.length - 1,
        firstPosition: firstEvent.position,
        lastPosition: lastEvent.position,
      };
    }
    if (matched > 0) partial = true;
  }
  return partial ? "partial" : undefined;
}

/** How many of the call's ids are stored consecutively from `version` on. */
function matchFrom(entry: StreamEntry, events: NewEvent[], version: number, readEvent: (location: number) => RecordedEvent): number {
  let n = 0;
  for (; n < events.length; n++) {
    const v = version + n;
    if (v > entry.version) break;
    const id = events[n]!.id!;
    if (entry.idHash(v) !== idHash(id)) break;
    const location = entry.location(v);
    if (location < 0 || readEvent(location).id !== id) break;
  }
  return n;
}
