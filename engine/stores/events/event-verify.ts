/**
 * The event store's part of verify(): every indexed event must read back as the
 * event the index says it is, and versions lost to damage are listed.
 */
import { Problems } from "../problems.js";
import { DAMAGED } from "../../log/location.js";
import type { Log } from "../../log/log.js";
import type { EventStore } from "./event-store.js";

export function verifyEventIndex(events: EventStore, log: Log): string[] {
  const problems = new Problems();
  for (const entry of events.table.entries()) {
    for (let v = entry.baseVersion; v <= entry.version; v++) {
      const what = `stream ${entry.id} version ${v}`;
      const location = entry.location(v);
      if (location === DAMAGED) {
        problems.add(`${what}: record lost to damage in ${log.dir}`);
        continue;
      }
      problems.check(what, () => {
        const e = events.reader.readEvent(location);
        if (e.streamId !== entry.id || e.version !== v) problems.add(`${what}: index points at another event`);
      });
    }
  }
  return problems.list;
}
