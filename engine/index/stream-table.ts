/**
 * The per-stream version table.
 *
 * Owns: for each stream its last version, the lowest readable version
 * (truncation, soft delete), its delete state, its retention, and the location
 * and id hash of every event still in the log (index i is version baseVersion + i).
 * Two views per stream: the committed one, which readers see, and the writer's,
 * which also counts appends framed but not yet committed, so that concurrent
 * appends check their expected versions in order.
 * Invariant: `version` never goes down — truncation and deletion only raise
 * `minVersion`; versions are dense, a damaged record keeps its place as DAMAGED.
 */
import { DAMAGED } from "../log/location.js";
import { GrowableFloat64, GrowableUint32 } from "./growable.js";

export const enum StreamState {
  Live = 0,
  SoftDeleted = 1,
  HardDeleted = 2,
}

export class StreamEntry {
  version = -1;
  minVersion = 0;
  state = StreamState.Live;
  /** -1: no such retention rule. */
  maxCount = -1;
  maxAgeMs = -1;
  baseVersion = 0;
  locations = new GrowableFloat64();
  idHashes = new GrowableUint32();
  writerVersion = -1;
  writerState = StreamState.Live;

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

  location(version: number): number {
    return this.locations.get(version - this.baseVersion);
  }

  idHash(version: number): number {
    return this.idHashes.get(version - this.baseVersion);
  }

  /** Records a committed event; a gap before it (damage found at open) becomes DAMAGED. */
  addEvent(version: number, location: number, idHash: number): void {
    // Below the base: an event that a compaction dropped is still in a segment it
    // had not swapped yet when it stopped. Its snapshot already accounts for it.
    if (version < this.baseVersion + this.locations.length) return;
    while (this.baseVersion + this.locations.length < version) {
      this.locations.push(DAMAGED);
      this.idHashes.push(0);
    }
    this.locations.push(location);
    this.idHashes.push(idHash);
    this.version = version;
    if (this.state === StreamState.SoftDeleted) this.state = StreamState.Live;
  }

  /** Forgets every version below `firstKept` (compaction dropped them from the log). */
  dropBelow(firstKept: number): void {
    const drop = Math.min(firstKept, this.baseVersion + this.locations.length) - this.baseVersion;
    if (drop > 0) {
      this.locations = GrowableFloat64.fromBytes(this.locations.bytes().subarray(drop * 8));
      this.idHashes = GrowableUint32.fromBytes(this.idHashes.bytes().subarray(drop * 4));
    }
    if (firstKept > this.baseVersion) this.baseVersion = firstKept;
    if (this.locations.length === 0 && this.version < firstKept - 1) this.version = firstKept - 1;
  }

  /** Drops the writer's view back to what is committed (a rejected batch). */
  resetWriter(): void {
    this.writerVersion = this.version;
    this.writerState = this.state;
  }
}

/** Checkpoint form of one stream, see docs/format.md. */
type StreamSnapshot = [string, number, number, number, number, number, number, Uint8Array, Uint8Array];

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

  snapshot(): StreamSnapshot[] {
    const out: StreamSnapshot[] = [];
    for (const e of this.streams.values()) {
      if (e.version < 0) continue;
      out.push([e.id, e.version, e.minVersion, e.state, e.maxCount, e.maxAgeMs, e.baseVersion, e.locations.bytes(), e.idHashes.bytes()]);
    }
    return out;
  }

  restore(snapshot: StreamSnapshot[]): void {
    for (const [id, version, minVersion, state, maxCount, maxAgeMs, baseVersion, locations, hashes] of snapshot) {
      const e = this.getOrCreate(id);
      e.version = version;
      e.minVersion = minVersion;
      e.state = state;
      e.maxCount = maxCount;
      e.maxAgeMs = maxAgeMs;
      e.baseVersion = baseVersion;
      e.locations = GrowableFloat64.fromBytes(locations);
      e.idHashes = GrowableUint32.fromBytes(hashes);
    }
    this.sorted = undefined;
  }

  /** After open: the writer's view starts equal to the committed one. */
  resetWriters(): void {
    for (const e of this.streams.values()) e.resetWriter();
  }
}
