/**
 * Queries over every stream by event type, tag and stream category: the reads
 * behind `db.events.query`, query subscriptions and append conditions.
 *
 * A query is "all" or a list of items; items are ORed, and inside an item the
 * types are ORed, the tags ANDed and the categories ORed (the DCB rules, with
 * categories added). Evaluation walks the posting lists of the query index in
 * location order, which is position order: an item is driven by its shortest
 * tag list (or the union of its type or category lists) and checks the other
 * lists by binary search, so no record is read unless it matches. Its cost
 * follows the events that match, not the log.
 */
import { invalidArgument } from "../../errors.js";
import type { PositionIndex } from "../../index/position-index.js";
import { categoryOf, IndexKind, type PostingList, type QueryIndex } from "../../index/query-index.js";
import type { StreamEntry, StreamTable } from "../../index/stream-table.js";
import { packLocation } from "../../log/location.js";
import type { QueryItem, RecordedEvent } from "../../types.js";
import type { EventReader } from "./event-reads.js";
import { checkReadOptions, isPlainObject, type CheckedRead } from "./validation.js";

/** A query after its checks: "all", or items whose lists are undefined when unconstrained. */
export type CheckedQuery = "all" | CheckedItem[];

export interface CheckedItem {
  types: string[] | undefined;
  tags: string[] | undefined;
  categories: string[] | undefined;
}

const ITEM_KEYS = new Set(["types", "tags", "categories"]);

export function checkQuery(value: unknown, name: string): CheckedQuery {
  if (value === "all") return "all";
  if (!isPlainObject(value)) throw invalidArgument(name, 'must be "all" or { items: [...] }');
  const items = (value as { items?: unknown }).items;
  if (!Array.isArray(items) || items.length === 0) throw invalidArgument(`${name}.items`, "must be a non-empty array");
  for (const key of Object.keys(value)) if (key !== "items") throw invalidArgument(`${name}.${key}`, "is not a query field");
  const checked = items.map((item: unknown, i): CheckedItem => {
    const at = `${name}.items[${i}]`;
    if (!isPlainObject(item)) throw invalidArgument(at, "must be an object");
    for (const key of Object.keys(item)) if (!ITEM_KEYS.has(key)) throw invalidArgument(`${at}.${key}`, "is not a query item field (types, tags, categories)");
    const q = item as QueryItem;
    return { types: stringList(q.types, `${at}.types`), tags: stringList(q.tags, `${at}.tags`), categories: stringList(q.categories, `${at}.categories`) };
  });
  // An item without constraints matches every event, and so does the query.
  return checked.some((c) => c.types === undefined && c.tags === undefined && c.categories === undefined) ? "all" : checked;
}

/** QueryOptions as a read: `limit` is the count (absent: no limit). */
export function checkQueryOptions(value: unknown): CheckedRead {
  if (value === undefined || value === null) return checkReadOptions(undefined);
  if (!isPlainObject(value)) throw invalidArgument("options", "must be an object");
  const { limit, ...rest } = value as { limit?: unknown };
  if ("count" in rest) throw invalidArgument("options.count", "is not a query option (use limit)");
  if (limit !== undefined && !(typeof limit === "number" && (Number.isSafeInteger(limit) || limit === Infinity) && limit >= 0)) {
    throw invalidArgument("options.limit", "must be an integer >= 0");
  }
  return checkReadOptions({ ...rest, count: limit });
}

/** undefined for an absent or empty list: no constraint. */
function stringList(value: unknown, name: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v.length > 0)) throw invalidArgument(name, "must be an array of non-empty strings");
  return value.length === 0 ? undefined : [...new Set(value as string[])];
}

/** Whether an event with these fields matches: for events not yet in the index (appends in flight). */
export function matchesQuery(query: CheckedQuery, type: string, tags: readonly string[] | undefined, streamId: string): boolean {
  if (query === "all") return true;
  return query.some(
    (item) =>
      (item.types === undefined || item.types.includes(type)) &&
      (item.tags === undefined || item.tags.every((t) => tags !== undefined && tags.includes(t))) &&
      (item.categories === undefined || item.categories.includes(categoryOf(streamId) ?? "")),
  );
}

export class QueryReader {
  constructor(
    private readonly index: QueryIndex,
    private readonly table: StreamTable,
    private readonly positions: PositionIndex,
    private readonly reader: EventReader,
    private readonly clock: () => number,
  ) {}

  /** Matching visible events from position `from` (inclusive; default: the first, or backward the last), at most `limit`. */
  read(query: CheckedQuery, from: number | undefined, backward: boolean, limit: number): RecordedEvent[] {
    if (limit === 0) return [];
    if (query === "all") return this.reader.readAll({ from, count: limit, backward });
    const out: RecordedEvent[] = [];
    const bound = backward ? this.upperLocation(from) : this.lowerLocation(from);
    if (bound === undefined) return out;
    const source = union(
      query.map((item) => this.itemSource(item, bound, backward)).filter((s): s is Source => s !== undefined),
      backward,
    );
    const now = this.clock();
    // Consecutive matches are often of one stream (every seglog/dcb event is in one): its entry is looked up once.
    let entry: StreamEntry | undefined;
    for (let location = source.peek(); location >= 0 && out.length < limit; source.next(), location = source.peek()) {
      const e = this.reader.readEvent(location);
      // The bound is a sparse-index entry: a few events before (after) `from` can lie inside it.
      if (from !== undefined && (backward ? e.position > from : e.position < from)) continue;
      if (entry?.id !== e.streamId) entry = this.table.get(e.streamId);
      if (this.reader.isVisibleIn(entry, e, now)) out.push(e);
    }
    return out;
  }

  /** Position of the first visible event after `after` (exclusive) that matches, or -1. */
  firstMatchAfter(query: CheckedQuery, after: number): number {
    const found = this.read(query, after + 1, false, 1);
    return found.length === 0 ? -1 : found[0]!.position;
  }

  /** A location at or before the first event with position >= from; undefined when no event is there. */
  private lowerLocation(from: number | undefined): number | undefined {
    if (from === undefined || from <= 0) return 0;
    const i = this.positions.firstSegmentReaching(from);
    if (i >= this.positions.segments.length) return undefined;
    const sp = this.positions.segments[i]!;
    return packLocation(sp.segment, from <= sp.first ? 0 : sp.entryOffset(sp.floorEntry(from)));
  }

  /** A location past the last event with position <= from (exclusive); undefined when none is. */
  private upperLocation(from: number | undefined): number | undefined {
    if (from === undefined) return Infinity;
    const j = this.positions.lastSegmentStartingBy(from);
    if (j < 0) return undefined;
    const sp = this.positions.segments[j]!;
    const e = sp.floorEntry(from);
    return e + 1 < sp.entries ? packLocation(sp.segment, sp.entryOffset(e + 1)) : packLocation(sp.segment + 1, 0);
  }

  private itemSource(item: CheckedItem, bound: number, backward: boolean): Source | undefined {
    const lists = (kind: IndexKind, values: string[] | undefined) => values?.map((v) => this.index.list(kind, v)).filter((l): l is PostingList => l !== undefined);
    const types = lists(IndexKind.Type, item.types);
    const categories = lists(IndexKind.Category, item.categories);
    // A constraint none of whose values was ever seen matches nothing.
    if (types?.length === 0 || categories?.length === 0) return undefined;
    let driver: Source;
    const checks: Membership[] = [];
    if (item.tags !== undefined) {
      const tags = lists(IndexKind.Tag, item.tags)!;
      if (tags.length < item.tags.length) return undefined;
      tags.sort((a, b) => a.length - b.length);
      driver = new ListSource(tags[0]!, bound, backward);
      for (const other of tags.slice(1)) checks.push(new Membership([other], backward));
      if (types !== undefined) checks.push(new Membership(types, backward));
    } else if (types !== undefined) {
      driver = union(types.map((t) => new ListSource(t, bound, backward)), backward);
    } else {
      driver = union(categories!.map((c) => new ListSource(c, bound, backward)), backward);
    }
    if (categories !== undefined && (item.tags !== undefined || types !== undefined)) checks.push(new Membership(categories, backward));
    return checks.length === 0 ? driver : new FilteredSource(driver, checks);
  }
}

/** Locations in query order (ascending forward, descending backward); peek() is -1 when done. */
interface Source {
  peek(): number;
  next(): void;
}

class ListSource implements Source {
  private i: number;
  private readonly end: number;
  private readonly step: number;

  constructor(
    private readonly posting: PostingList,
    bound: number,
    backward: boolean,
  ) {
    // Forward from the first location >= bound; backward from the last one < bound.
    const at = posting.lowerBound(bound);
    this.i = backward ? at - 1 : at;
    this.end = backward ? -1 : posting.length;
    this.step = backward ? -1 : 1;
  }

  peek(): number {
    return this.i === this.end ? -1 : this.posting.at(this.i);
  }

  next(): void {
    if (this.i !== this.end) this.i += this.step;
  }
}

/**
 * Whether a location is in any of some lists. Walking forward, each list keeps
 * where the last answer was found and searches on from there (locations asked
 * only grow), so a check costs the distance moved in that list.
 */
class Membership {
  private readonly hints: number[];

  constructor(
    private readonly lists: PostingList[],
    private readonly backward: boolean,
  ) {
    this.hints = lists.map(() => 0);
  }

  contains(location: number): boolean {
    for (let k = 0; k < this.lists.length; k++) {
      const list = this.lists[k]!;
      const i = list.lowerBound(location, this.backward ? 0 : this.hints[k]);
      if (!this.backward) this.hints[k] = i;
      if (i < list.length && list.at(i) === location) return true;
    }
    return false;
  }
}

class FilteredSource implements Source {
  constructor(
    private readonly inner: Source,
    private readonly checks: Membership[],
  ) {
    this.skip();
  }

  peek(): number {
    return this.inner.peek();
  }

  next(): void {
    this.inner.next();
    this.skip();
  }

  private accepts(location: number): boolean {
    for (const check of this.checks) if (!check.contains(location)) return false;
    return true;
  }

  private skip(): void {
    for (let l = this.inner.peek(); l >= 0 && !this.accepts(l); l = this.inner.peek()) this.inner.next();
  }
}

/** The sources merged in query order; a location in several of them comes once. */
function union(sources: Source[], backward: boolean): Source {
  if (sources.length === 1) return sources[0]!;
  const better = backward ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  const head = (): number => {
    let best = -1;
    for (const s of sources) {
      const l = s.peek();
      if (l >= 0 && (best < 0 || better(l, best))) best = l;
    }
    return best;
  };
  return {
    peek: head,
    next() {
      const current = head();
      if (current < 0) return;
      for (const s of sources) if (s.peek() === current) s.next();
    },
  };
}
