/**
 * The per-stream version table.
 *
 * Owns: for each stream its last version, the lowest readable version
 * (truncation, soft delete), its delete state, its retention, and the location
 * and id hash of every event still in the log (index i is version baseVersion + i).
 * A location is kept as its u32 offset plus the segment *run* it falls in: a
 * stream's events move to a new segment only when the log rolls, so one entry
 * per (stream, segment) names the segment of all of them — 8 bytes per event
 * with the id hash, instead of 12 with a float64 location.
 * Two views per stream: the committed one, which readers see, and the writer's,
 * which also counts appends framed but not yet committed, so that concurrent
 * appends check their expected versions in order.
 * Invariant: `version` never goes down — truncation and deletion only raise
 * `minVersion`; versions are dense, a damaged record keeps its place as DAMAGED.
 */
import { DAMAGED, offsetOf, packLocation, segmentOf } from "../log/location.js";
import type { ArrayArea, ArrayAreaWriter } from "./array-area.js";
import { GrowableUint32 } from "./growable.js";

/** Offset 0 of a segment is its header, never a record: it marks a DAMAGED version. */
const DAMAGED_OFFSET = 0;

export const enum StreamState {
  Live = 0,
  SoftDeleted = 1,
  HardDeleted = 2,
}

/**
 * An append framed but not committed yet that carried event ids of its own:
 * a retry of it that arrives before it commits must find it (idempotency
 * decides in call order, against the writer's view).
 */
export interface InFlightAppend {
  firstVersion: number;
  firstPosition: number;
  /** The caller's event ids, in order (undefined where the engine made one up). */
  ids: (string | undefined)[];
  /** Settles when the append commits or fails. */
  committed: Promise<unknown>;
}

export class StreamEntry {
  version = -1;
  minVersion = 0;
  state = StreamState.Live;
  /** -1: no such retention rule. */
  maxCount = -1;
  maxAgeMs = -1;
  baseVersion = 0;
  private offsetArray = new GrowableUint32();
  private idHashArray = new GrowableUint32();
  /**
   * Set after a checkpoint restore until the arrays are first needed: how many
   * versions they hold, how to read them from the checkpoint, and how to build
   * them from the log instead when that read fails (a damaged checkpoint array).
   */
  private deferred: { held: number; load(): [Uint32Array, Uint32Array]; rebuild(): [Uint32Array, Uint32Array] } | undefined;
  /** Segment runs, ascending: from index runStarts[k] on, events lie in segment runSegments[k]. */
  runStarts: number[] = [];
  runSegments: number[] = [];
  writerVersion = -1;
  writerState = StreamState.Live;
  /** Appends with ids between `version` and `writerVersion`, oldest first; undefined when none. */
  inFlight: InFlightAppend[] | undefined;

  constructor(readonly id: string) {}

  /** Exists as API.md defines it: has events and is not deleted. */
  get exists(): boolean {
    return this.version >= 0 && this.state === StreamState.Live;
  }

  /** Lowest version readable by the count-based rules (age is checked per event). */
  get readableFrom(): number {
    let lo = Math.max(this.minVersion, this.baseVersion);
    if (this.maxCount >= 0) lo = Math.max(lo, this.version - this.maxCount + 1);
    return this.state === StreamState.Live ? lo : this.version + 1;
  }

  /** Record offset in its segment per version from baseVersion on; DAMAGED_OFFSET for a lost one. */
  get offsets(): GrowableUint32 {
    if (this.deferred !== undefined) this.loadDeferred();
    return this.offsetArray;
  }

  set offsets(value: GrowableUint32) {
    this.deferred = undefined;
    this.offsetArray = value;
  }

  get idHashes(): GrowableUint32 {
    if (this.deferred !== undefined) this.loadDeferred();
    return this.idHashArray;
  }

  set idHashes(value: GrowableUint32) {
    this.deferred = undefined;
    this.idHashArray = value;
  }

  /** Versions held from baseVersion on. */
  get held(): number {
    return this.deferred !== undefined ? this.deferred.held : this.offsetArray.length;
  }

  /** Arrays to read from the checkpoint when first needed (StreamTable.restore). */
  defer(held: number, load: () => [Uint32Array, Uint32Array], rebuild: () => [Uint32Array, Uint32Array]): void {
    this.deferred = { held, load, rebuild };
  }

  private loadDeferred(): void {
    const d = this.deferred!;
    let arrays: [Uint32Array, Uint32Array];
    try {
      arrays = d.load();
    } catch {
      // The checkpoint is derived data: the log holds the same facts.
      arrays = d.rebuild();
    }
    this.deferred = undefined;
    this.offsetArray = GrowableUint32.over(arrays[0]);
    this.idHashArray = GrowableUint32.over(arrays[1]);
  }

  location(version: number): number {
    const i = version - this.baseVersion;
    const offset = this.offsets.get(i);
    if (offset === DAMAGED_OFFSET) return DAMAGED;
    return packLocation(this.runSegments[this.runOf(i)]!, offset);
  }

  idHash(version: number): number {
    return this.idHashes.get(version - this.baseVersion);
  }

  /** Records a committed event; a gap before it (damage found at open) becomes DAMAGED. */
  addEvent(version: number, location: number, idHash: number): void {
    // Below the base: an event that a compaction dropped is still in a segment it
    // had not swapped yet when it stopped. Its snapshot already accounts for it.
    if (version < this.baseVersion + this.offsets.length) return;
    while (this.baseVersion + this.offsets.length < version) {
      this.offsets.push(DAMAGED_OFFSET);
      this.idHashes.push(0);
    }
    if (location === DAMAGED) this.offsets.push(DAMAGED_OFFSET);
    else {
      const segment = segmentOf(location);
      const runs = this.runSegments.length;
      if (runs === 0 || this.runSegments[runs - 1] !== segment) {
        this.runStarts.push(this.offsets.length);
        this.runSegments.push(segment);
      }
      this.offsets.push(offsetOf(location));
    }
    this.idHashes.push(idHash);
    this.version = version;
    if (this.state === StreamState.SoftDeleted) this.state = StreamState.Live;
  }

  /**
   * Moves every event of `segment` to where `map` says (compaction rewrote the
   * segment under the same number); -1 means the record was dropped.
   */
  relocate(segment: number, map: (location: number) => number): void {
    const data = this.offsets.data;
    for (let k = 0; k < this.runSegments.length; k++) {
      if (this.runSegments[k] !== segment) continue;
      const end = k + 1 < this.runStarts.length ? this.runStarts[k + 1]! : this.offsets.length;
      for (let i = this.runStarts[k]!; i < end; i++) {
        const offset = data[i]!;
        if (offset === DAMAGED_OFFSET) continue;
        const moved = map(packLocation(segment, offset));
        data[i] = moved >= 0 ? offsetOf(moved) : DAMAGED_OFFSET;
      }
    }
  }

  /** Forgets every version below `firstKept` (compaction dropped them from the log). */
  dropBelow(firstKept: number): void {
    const held = this.offsets.length;
    const drop = Math.min(firstKept, this.baseVersion + held) - this.baseVersion;
    if (drop > 0) {
      this.offsets = GrowableUint32.fromBytes(this.offsets.bytes().subarray(drop * 4));
      this.idHashes = GrowableUint32.fromBytes(this.idHashes.bytes().subarray(drop * 4));
      const starts: number[] = [];
      const segments: number[] = [];
      for (let k = 0; k < this.runStarts.length; k++) {
        const end = k + 1 < this.runStarts.length ? this.runStarts[k + 1]! : held;
        if (end <= drop) continue;
        starts.push(Math.max(0, this.runStarts[k]! - drop));
        segments.push(this.runSegments[k]!);
      }
      this.runStarts = starts;
      this.runSegments = segments;
    }
    if (firstKept > this.baseVersion) this.baseVersion = firstKept;
    if (this.offsets.length === 0 && this.version < firstKept - 1) this.version = firstKept - 1;
  }

  /** The run holding index i: most reads are of the newest run, the rest binary-search. */
  private runOf(i: number): number {
    const starts = this.runStarts;
    let hi = starts.length - 1;
    if (starts[hi]! <= i) return hi;
    let lo = 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Drops the writer's view back to what is committed (a rejected batch). */
  resetWriter(): void {
    this.writerVersion = this.version;
    this.writerState = this.state;
    this.inFlight = undefined;
  }

  /** The in-flight append that framed `version`, if it carried ids. */
  inFlightAt(version: number): InFlightAppend | undefined {
    if (this.inFlight === undefined) return undefined;
    for (const a of this.inFlight) if (version >= a.firstVersion && version < a.firstVersion + a.ids.length) return a;
    return undefined;
  }
}

/**
 * Checkpoint form of one stream, see docs/format.md: its fields, then how many
 * versions it holds, where its offsets and id hashes lie in the array area, and
 * its runs as [start, segment, start, segment, …].
 */
type StreamSnapshot = [string, number, number, number, number, number, number, number, number, number, number[]];

export class StreamTable {
  private readonly streams = new Map<string, StreamEntry>();
  private sorted: string[] | undefined;

  get(id: string): StreamEntry | undefined {
    return this.streams.get(id);
  }

  getOrCreate(id: string): StreamEntry {
    let e = this.streams.get(id);
    if (e === undefined) {
      e = new StreamEntry(id);
      this.streams.set(id, e);
    }
    return e;
  }

  /** Drops an entry a rejected first append created, so failed calls leave no trace. */
  forgetIfUnused(entry: StreamEntry): void {
    if (entry.version < 0 && entry.writerVersion < 0 && entry.state === StreamState.Live) this.streams.delete(entry.id);
  }

  entries(): IterableIterator<StreamEntry> {
    return this.streams.values();
  }

  /** Call when a stream starts or stops existing, so listStreams re-sorts. */
  membershipChanged(): void {
    this.sorted = undefined;
  }

  /** Ids of existing streams, sorted by UTF-16 code units. */
  sortedIds(): string[] {
    if (this.sorted === undefined) {
      const ids: string[] = [];
      for (const e of this.streams.values()) if (e.exists) ids.push(e.id);
      this.sorted = ids.sort();
    }
    return this.sorted;
  }

  snapshot(area: ArrayAreaWriter): StreamSnapshot[] {
    const out: StreamSnapshot[] = [];
    for (const e of this.streams.values()) {
      if (e.version < 0) continue;
      const held = e.held;
      const runs: number[] = [];
      for (let k = 0; k < e.runStarts.length; k++) runs.push(e.runStarts[k]!, e.runSegments[k]!);
      const offsetsAt = area.add(e.offsets.data, held);
      const hashesAt = area.add(e.idHashes.data, held);
      out.push([e.id, e.version, e.minVersion, e.state, e.maxCount, e.maxAgeMs, e.baseVersion, held, offsetsAt, hashesAt, runs]);
    }
    return out;
  }

  /**
   * Restores the table from a checkpoint. Each stream's arrays stay in the file
   * until first used; `rebuild` makes them from the log when that read fails.
   */
  restore(snapshot: StreamSnapshot[], area: ArrayArea, rebuild: (entry: StreamEntry, held: number) => [Uint32Array, Uint32Array]): void {
    for (const [id, version, minVersion, state, maxCount, maxAgeMs, baseVersion, held, offsetsAt, hashesAt, runs] of snapshot) {
      const e = this.getOrCreate(id);
      e.version = version;
      e.minVersion = minVersion;
      e.state = state;
      e.maxCount = maxCount;
      e.maxAgeMs = maxAgeMs;
      e.baseVersion = baseVersion;
      e.defer(
        held,
        () => [area.u32(offsetsAt, held), area.u32(hashesAt, held)],
        () => rebuild(e, held),
      );
      e.runStarts = [];
      e.runSegments = [];
      for (let k = 0; k < runs.length; k += 2) {
        e.runStarts.push(runs[k]!);
        e.runSegments.push(runs[k + 1]!);
      }
    }
    this.sorted = undefined;
  }

  /**
   * Reads every array still deferred to the checkpoint. Compaction calls it
   * before it rewrites anything: a rebuild from the log must see the layout the
   * checkpoint's offsets describe.
   */
  loadAll(): void {
    for (const e of this.streams.values()) void e.offsets;
  }

  /** After open: the writer's view starts equal to the committed one. */
  resetWriters(): void {
    for (const e of this.streams.values()) e.resetWriter();
  }
}
