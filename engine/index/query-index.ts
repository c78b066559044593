/**
 * The event store's secondary indexes: for every event type, tag and stream
 * category (the stream id before its first "-"), the locations of the events
 * that have it, in log order.
 *
 * Owns: one posting list per key. A location is a packed (segment, offset)
 * (log/location.ts); positions grow along the log and compaction keeps the
 * order of what it keeps, so a list sorted by location is sorted by position,
 * and lists merge and intersect on locations without reading a record.
 * Moves with the committed view: an event enters its lists in the same
 * synchronous step that enters it into the stream table and the position index
 * (at commit, and at replay), so a reader never sees one without the other.
 * Cleaned by compaction: a dropped record leaves every list; until then reads
 * skip what truncation, deletion or retention hide, as readAll does.
 * Checkpointed: each list is one array of the checkpoint's area, read the first
 * time its key is used (or rebuilt by scanning the log when that read fails).
 */
import type { ArrayArea, ArrayAreaWriter } from "./array-area.js";
import { GrowableFloat64 } from "./growable.js";

/** The three kinds of key; a key is the kind's letter followed by the value. */
export const enum IndexKind {
  Type = "t",
  Tag = "g",
  Category = "c",
}

export function indexKey(kind: IndexKind, value: string): string {
  return kind + value;
}

/** KurrentDB's category: the stream id before its first "-"; none when there is no "-" or it leads. */
export function categoryOf(streamId: string): string | undefined {
  const dash = streamId.indexOf("-");
  return dash > 0 ? streamId.slice(0, dash) : undefined;
}

/**
 * One key's locations, ascending. Most tags name one entity and hold a single
 * event, so a list of one keeps its location in a field: an array per key
 * would cost ~400 bytes for every distinct tag, a field ~150 (measured at 1M).
 */
export class PostingList {
  private one = NaN;
  private list: GrowableFloat64 | undefined;
  private deferred: { load(): Float64Array; rebuild(): Float64Array; length: number } | undefined;

  defer(load: () => Float64Array, rebuild: () => Float64Array, length: number): void {
    this.list = undefined;
    this.one = NaN;
    this.deferred = { load, rebuild, length };
  }

  /** Entries, without reading a deferred list. */
  get length(): number {
    if (this.deferred !== undefined) return this.deferred.length;
    return this.list !== undefined ? this.list.length : Number.isNaN(this.one) ? 0 : 1;
  }

  /** The i-th location (0 <= i < length). */
  at(i: number): number {
    this.load();
    return this.list !== undefined ? this.list.data[i]! : this.one;
  }

  add(location: number): void {
    this.load();
    const l = this.list;
    if (l !== undefined) {
      // An event with the same tag twice is listed once.
      if (l.get(l.length - 1) !== location) l.push(location);
    } else if (Number.isNaN(this.one)) this.one = location;
    else if (this.one !== location) {
      this.list = new GrowableFloat64(4);
      this.list.push(this.one);
      this.list.push(location);
      this.one = NaN;
    }
  }

  /**
   * First index whose location is >= `location`, searching from index `hint`
   * on (every index before it must hold a smaller location): a gallop from the
   * hint, then a binary search, so that a reader walking forward pays for the
   * distance it moves, not for the list's length.
   */
  lowerBound(location: number, hint = 0): number {
    this.load();
    const data = this.list?.data;
    const length = this.length;
    if (data === undefined) return length === 1 && this.one < location ? 1 : 0;
    let lo = hint;
    let step = 1;
    let hi = lo;
    while (hi < length && data[hi]! < location) {
      lo = hi + 1;
      hi += step;
      step *= 2;
    }
    if (hi > length) hi = length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (data[mid]! < location) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Keeps the locations in [from, to) that `map` keeps, moved; returns the new length. */
  remap(from: number, to: number, map: (location: number) => number): number {
    this.load();
    if (this.list === undefined) {
      if (from < to) {
        const moved = map(this.one);
        this.one = moved >= 0 ? moved : NaN;
      }
      return this.length;
    }
    const l = this.list;
    let write = from;
    for (let read = from; read < to; read++) {
      const moved = map(l.data[read]!);
      if (moved >= 0) l.data[write++] = moved;
    }
    if (write < to) {
      l.data.copyWithin(write, to, l.length);
      l.length -= to - write;
    }
    return l.length;
  }

  /** The locations as one array, for the checkpoint. */
  toArray(): Float64Array {
    this.load();
    if (this.list !== undefined) return this.list.data.subarray(0, this.list.length);
    return Number.isNaN(this.one) ? new Float64Array(0) : Float64Array.of(this.one);
  }

  private load(): void {
    const d = this.deferred;
    if (d === undefined) return;
    let loaded: Float64Array;
    try {
      loaded = d.load();
    } catch {
      // Derived data: the log holds the same facts.
      loaded = d.rebuild();
    }
    this.deferred = undefined;
    if (loaded.length === 1) this.one = loaded[0]!;
    else if (loaded.length > 1) this.list = GrowableFloat64.over(loaded);
  }
}

/** [key, byte offset in the array area, element count] per list. */
type QuerySnapshot = [string, number, number][];

export class QueryIndex {
  // One map per kind, keyed by the plain value: the append path looks up a
  // type and a category per event, and a prefixed key would be a new string each time.
  private readonly kinds = new Map<IndexKind, Map<string, PostingList>>([
    [IndexKind.Type, new Map()],
    [IndexKind.Tag, new Map()],
    [IndexKind.Category, new Map()],
  ]);
  private readonly types = this.kinds.get(IndexKind.Type)!;
  private readonly tags = this.kinds.get(IndexKind.Tag)!;
  private readonly categories = this.kinds.get(IndexKind.Category)!;

  /** Enters one committed event into the lists of its type, its tags and its stream's category. */
  add(type: string, tags: readonly string[] | undefined, category: string | undefined, location: number): void {
    listIn(this.types, type).add(location);
    if (category !== undefined) listIn(this.categories, category).add(location);
    if (tags !== undefined) for (const tag of tags) listIn(this.tags, tag).add(location);
  }

  list(kind: IndexKind, value: string): PostingList | undefined {
    return this.kinds.get(kind)!.get(value);
  }

  /** Distinct keys and list entries, for stats and the memory figures in docs/format.md. */
  size(): { keys: number; entries: number } {
    let keys = 0;
    let entries = 0;
    for (const lists of this.kinds.values()) {
      keys += lists.size;
      for (const posting of lists.values()) entries += posting.length;
    }
    return { keys, entries };
  }

  /** After compaction rewrote a segment: every list's locations there move (or go) as `map` says; order is kept. */
  relocate(segmentStart: number, segmentEnd: number, map: (location: number) => number): void {
    for (const lists of this.kinds.values()) {
      for (const [value, posting] of lists) {
        const from = posting.lowerBound(segmentStart);
        const to = posting.lowerBound(segmentEnd);
        if (from === to) continue;
        if (posting.remap(from, to, map) === 0) lists.delete(value);
      }
    }
  }

  snapshot(area: ArrayAreaWriter): QuerySnapshot {
    const out: QuerySnapshot = [];
    for (const [kind, lists] of this.kinds) {
      for (const [value, posting] of lists) {
        const locations = posting.toArray();
        out.push([indexKey(kind, value), area.add(locations, locations.length), locations.length]);
      }
    }
    return out;
  }

  /** Every list stays in the checkpoint until first used; `rebuild` makes one from the log when its read fails. */
  restore(snapshot: QuerySnapshot, area: ArrayArea, rebuild: (key: string) => Float64Array): void {
    for (const [key, at, length] of snapshot) {
      const lists = this.kinds.get(key.charAt(0) as IndexKind);
      if (lists === undefined) continue;
      const posting = new PostingList();
      posting.defer(
        () => area.f64(at, length),
        () => rebuild(key),
        length,
      );
      lists.set(key.slice(1), posting);
    }
  }

  /** Reads every list still deferred to the checkpoint (before compaction rewrites anything). */
  loadAll(): void {
    for (const lists of this.kinds.values()) for (const posting of lists.values()) if (posting.length > 0) posting.at(0);
  }
}

function listIn(lists: Map<string, PostingList>, value: string): PostingList {
  let posting = lists.get(value);
  if (posting === undefined) {
    posting = new PostingList();
    lists.set(value, posting);
  }
  return posting;
}
