/**
 * ListOptions for listContexts, listContextsWithDeltaCounts and listDeltas:
 * validation, and the filter and page they describe. Filters run on the
 * in-memory index; only the page that is returned is read from the log.
 *
 * `version` matches exactly; `insertedAfter` and `insertedBefore` are strict;
 * `offset` skips that many matches, then at most `limit` are returned.
 */
import { checkKey, checkOptions, checkTime, checkVersion, checkInteger } from "../arguments.js";
import type { Stored } from "./context-index.js";

export interface Query {
  contextId: string | undefined;
  version: number | undefined;
  insertedAfter: number | undefined;
  insertedBefore: number | undefined;
  offset: number;
  limit: number;
}

export function checkListOptions(value: unknown): Query {
  const o = checkOptions(value);
  const optional = <T>(name: string, check: (v: unknown, n: string) => T): T | undefined =>
    o[name] === undefined ? undefined : check(o[name], `options.${name}`);
  return {
    contextId: optional("contextId", checkKey),
    version: optional("version", checkVersion),
    insertedAfter: optional("insertedAfter", checkTime),
    insertedBefore: optional("insertedBefore", checkTime),
    offset: optional("offset", (v, n) => checkInteger(v, n, 0)) ?? 0,
    limit: optional("limit", (v, n) => checkInteger(v, n, 0)) ?? Infinity,
  };
}

export function matches(q: Query, s: Stored): boolean {
  if (q.version !== undefined && s.version !== q.version) return false;
  if (q.insertedAfter !== undefined && !(s.insertedAt > q.insertedAfter)) return false;
  if (q.insertedBefore !== undefined && !(s.insertedAt < q.insertedBefore)) return false;
  return true;
}

/** The page of `candidates` (in order) that match `q`; stops as soon as the page is full. */
export function page<T>(candidates: Iterable<T>, q: Query, stored: (c: T) => Stored): T[] {
  const out: T[] = [];
  if (q.limit === 0) return out;
  let skipped = 0;
  for (const c of candidates) {
    if (!matches(q, stored(c))) continue;
    if (skipped < q.offset) {
      skipped++;
      continue;
    }
    out.push(c);
    if (out.length >= q.limit) break;
  }
  return out;
}
