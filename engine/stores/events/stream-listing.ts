/** listStreams: existing stream ids in sorted order, by prefix, after a cursor id, up to a limit. */
import { invalidArgument } from "../../errors.js";
import type { StreamTable } from "../../index/stream-table.js";
import { checkOptionalObject } from "./validation.js";

export function listStreams(table: StreamTable, options: unknown): string[] {
  const o = checkOptionalObject(options, "options");
  if (o.prefix !== undefined && typeof o.prefix !== "string") throw invalidArgument("options.prefix", "must be a string");
  if (o.after !== undefined && typeof o.after !== "string") throw invalidArgument("options.after", "must be a string");
  if (o.limit !== undefined && !(typeof o.limit === "number" && Number.isSafeInteger(o.limit) && o.limit >= 0)) {
    throw invalidArgument("options.limit", "must be an integer >= 0");
  }
  const prefix = (o.prefix as string | undefined) ?? "";
  const after = o.after as string | undefined;
  const limit = (o.limit as number | undefined) ?? Infinity;
  const ids = table.sortedIds();
  let i = lowerBound(ids, after === undefined ? prefix : after > prefix ? after : prefix);
  const out: string[] = [];
  for (; i < ids.length && out.length < limit; i++) {
    const id = ids[i]!;
    if (after !== undefined && id <= after) continue;
    if (!id.startsWith(prefix)) break;
    out.push(id);
  }
  return out;
}

function lowerBound(sorted: string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
