/**
 * Append conditions (Dynamic Consistency Boundaries): an append that fails when
 * an event matching a query exists after a given position.
 *
 * The check runs synchronously when the append is called, like the expected
 * version check, against the writer's view: committed events through the query
 * index, and events of appends framed but not yet committed (`InFlightAppends`),
 * which get positions before the checking append. So of two racing appends
 * whose events match each other's conditions, the one called second sees the
 * first and fails; the first fails only if its own condition matches. An append
 * in flight that later fails makes a condition fail that would have held: the
 * caller retries, never the reverse.
 */
import { invalidArgument, SeglogError } from "../../errors.js";
import type { StreamEntry } from "../../index/stream-table.js";
import type { NewEvent, RecordedEvent } from "../../types.js";
import type { StreamAppend } from "./append-write.js";
import { findDuplicate, type Duplicate } from "./idempotency.js";
import { checkQuery, matchesQuery, type CheckedQuery, type QueryReader } from "./event-query.js";
import { isPlainObject } from "./validation.js";

export interface CheckedCondition {
  query: CheckedQuery;
  /** Matches at positions > after count; -1: anywhere. */
  after: number;
}

export function checkConditions(value: unknown, name: string): CheckedCondition[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw invalidArgument(name, "must be a condition or a non-empty array of conditions");
  return list.map((c: unknown, i) => {
    const at = Array.isArray(value) ? `${name}[${i}]` : name;
    if (!isPlainObject(c)) throw invalidArgument(at, "must be an object { failIfEventsMatch, after? }");
    for (const key of Object.keys(c)) if (key !== "failIfEventsMatch" && key !== "after") throw invalidArgument(`${at}.${key}`, "is not a condition field");
    const after = c.after;
    if (after !== undefined && !(typeof after === "number" && Number.isSafeInteger(after) && after >= -1)) throw invalidArgument(`${at}.after`, "must be an integer >= -1");
    return { query: checkQuery(c.failIfEventsMatch, `${at}.failIfEventsMatch`), after: (after as number | undefined) ?? -1 };
  });
}

/** Appends framed but not committed: their events can already make a condition fail. */
export class InFlightAppends {
  private readonly writes = new Set<{ readonly plans: StreamAppend[] }>();

  add(write: { readonly plans: StreamAppend[] }): void {
    this.writes.add(write);
  }

  delete(write: { readonly plans: StreamAppend[] }): void {
    this.writes.delete(write);
  }

  /** Lowest position > after of an in-flight event matching `query`, or -1. */
  firstMatch(query: CheckedQuery, after: number): number {
    let first = -1;
    for (const write of this.writes) {
      for (const plan of write.plans) {
        const p = firstIn(plan, query, after);
        if (p >= 0 && (first < 0 || p < first)) first = p;
      }
    }
    return first;
  }
}

function firstIn(plan: StreamAppend, query: CheckedQuery, after: number): number {
  for (let i = 0; i < plan.types.length; i++) {
    const position = plan.firstPosition + i;
    if (position > after && matchesQuery(query, plan.types[i]!, plan.tags?.[i], plan.entry.id)) return position;
  }
  return -1;
}

interface Conflict {
  position: number;
  conditionIndex: number;
}

/** The first condition that fails, with the first position that fails it; undefined when all hold. */
function findConflict(conditions: CheckedCondition[], committed: QueryReader, inFlight: InFlightAppends): Conflict | undefined {
  for (let i = 0; i < conditions.length; i++) {
    const { query, after } = conditions[i]!;
    let position = committed.firstMatchAfter(query, after);
    const pending = inFlight.firstMatch(query, after);
    if (pending >= 0 && (position < 0 || pending < position)) position = pending;
    if (position >= 0) return { position, conditionIndex: i };
  }
  return undefined;
}

function conditionFailed(conflict: Conflict, conditions: number, lastCommitted: number): SeglogError {
  const which = conditions > 1 ? ` ${conflict.conditionIndex}` : "";
  return new SeglogError(
    "APPEND_CONDITION_FAILED",
    `append condition${which} failed: an event matching it exists at position ${conflict.position}; read again up to position ${lastCommitted} and decide again`,
    { position: conflict.position, after: lastCommitted, conditionIndex: conditions > 1 ? conflict.conditionIndex : undefined },
  );
}

/**
 * Throws APPEND_CONDITION_FAILED when a condition fails, unless the call is a
 * retry of one already stored (every event has an id and every stream holds
 * them): then it returns the original results. Undefined when all hold.
 */
export function checkAppendConditions(
  conditions: CheckedCondition[],
  appends: { entry: StreamEntry; events: NewEvent[] }[],
  committed: QueryReader,
  inFlight: InFlightAppends,
  readEvent: (location: number) => RecordedEvent,
  lastCommitted: number,
): Duplicate[] | undefined {
  const conflict = findConflict(conditions, committed, inFlight);
  if (conflict === undefined) return undefined;
  if (appends.every((a) => a.events.every((e) => e.id !== undefined))) {
    const stored = appends.map((a) => findDuplicate(a.entry, a.events, undefined, readEvent));
    if (stored.every((d) => d !== undefined && d !== "partial")) return stored as Duplicate[];
  }
  throw conditionFailed(conflict, conditions.length, lastCommitted);
}
