/**
 * The event store's part of verify(): every indexed event must read back as the
 * event the index says it is, and versions lost to damage are listed.
 */
import { SeglogError } from "../../errors.js";
import { DAMAGED } from "../../log/location.js";
import type { Log } from "../../log/log.js";
import type { EventStore } from "./event-store.js";

export function verifyEventIndex(events: EventStore, log: Log): string[] {
  const problems: string[] = [];
  for (const entry of events.table.entries()) {
    for (let v = entry.baseVersion; v <= entry.version; v++) {
      const location = entry.location(v);
      if (location === DAMAGED) {
        problems.push(`stream ${entry.id} version ${v}: record lost to damage in ${log.dir}`);
        continue;
      }
      try {
        const e = events.reader.readEvent(location);
        if (e.streamId !== entry.id || e.version !== v) problems.push(`stream ${entry.id} version ${v}: index points at another event`);
      } catch (err) {
        if (!(err instanceof SeglogError)) throw err;
        problems.push(`stream ${entry.id} version ${v}: ${err.message}`);
      }
    }
  }
  return problems;
}
