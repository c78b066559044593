/**
 * What compaction may drop from one store, kept in memory so that keep() and
 * garbageBytes() never scan the log.
 *
 * Two kinds of records are garbage:
 *  - dead records: a put superseded by a later put of the same key, or removed
 *    by a delete. Nothing reads them any more.
 *  - tombstones that are no longer needed. A delete (or clear) record must stay
 *    while a record it removed may still be replayed, that is, while a dead
 *    record of its group at a lower location is still on disk: dropping the
 *    tombstone first would bring that record back at the next full replay.
 *    Once no such record is left, a replay without the tombstone rebuilds the
 *    same state, so it is garbage too. Compaction swaps segments in ascending
 *    order and relocates between swaps, so a tombstone can go in the same run
 *    as the last record it removed.
 *
 * A group is the set of records one tombstone can remove (an object's hash, a
 * cassette's path, the deltas of one context); `ALL` is the group of a clear,
 * which removes records of every group.
 * Invariant: every record of the store that is on disk is live in the store's
 * index, dead here, or a tombstone here.
 */
import { assert } from "../errors.js";
import { offsetOf, segmentOf } from "../log/location.js";
import type { SegmentRelocation } from "./context.js";

/** The group of a tombstone that removes every record of the store. */
export const ALL: null = null;

interface Tombstone {
  group: string | null;
  bytes: number;
}

export interface LedgerSnapshot {
  /** Per group: [group, location, bytes, location, bytes, ...]. */
  dead: (string | number)[][];
  /** [group (null: all), location, bytes] per tombstone. */
  tombstones: [string | null, number, number][];
}

export class GarbageLedger {
  /** group → location → bytes of its dead records. */
  private readonly dead = new Map<string, Map<number, number>>();
  private readonly tombstones = new Map<number, Tombstone>();
  private deadBytes = 0;

  markDead(group: string, location: number, bytes: number): void {
    let records = this.dead.get(group);
    if (records === undefined) this.dead.set(group, (records = new Map()));
    if (records.has(location)) return;
    records.set(location, bytes);
    this.deadBytes += bytes;
  }

  addTombstone(group: string | null, location: number, bytes: number): void {
    this.tombstones.set(location, { group, bytes });
  }

  /** keep() for a tombstone: true while a record it removed may still be replayed. */
  tombstoneNeeded(location: number): boolean {
    const tombstone = this.tombstones.get(location);
    // A tombstone this ledger does not know is kept: keeping is always safe.
    if (tombstone === undefined) return true;
    return this.hasDeadBefore(tombstone.group, location);
  }

  garbageBytes(): number {
    let bytes = this.deadBytes;
    for (const [location, t] of this.tombstones) if (!this.hasDeadBefore(t.group, location)) bytes += t.bytes;
    return bytes;
  }

  /** Moves (or forgets, when dropped) every entry in the relocated segment. */
  relocated(relocation: SegmentRelocation): void {
    for (const [group, records] of this.dead) {
      for (const [location, bytes] of movedEntries(records, relocation.segment)) {
        records.delete(location);
        const to = relocation.map(location);
        if (to >= 0) records.set(to, bytes);
        else this.deadBytes -= bytes;
      }
      if (records.size === 0) this.dead.delete(group);
    }
    for (const [location, tombstone] of movedEntries(this.tombstones, relocation.segment)) {
      this.tombstones.delete(location);
      const to = relocation.map(location);
      if (to >= 0) this.tombstones.set(to, tombstone);
    }
  }

  snapshot(): LedgerSnapshot {
    const dead: (string | number)[][] = [];
    for (const [group, records] of this.dead) {
      const row: (string | number)[] = [group];
      for (const [location, bytes] of records) row.push(location, bytes);
      dead.push(row);
    }
    const tombstones: [string | null, number, number][] = [];
    for (const [location, t] of this.tombstones) tombstones.push([t.group, location, t.bytes]);
    return { dead, tombstones };
  }

  restore(snapshot: LedgerSnapshot): void {
    for (const row of snapshot.dead) {
      const group = row[0] as string;
      for (let i = 1; i < row.length; i += 2) this.markDead(group, row[i] as number, row[i + 1] as number);
    }
    for (const [group, location, bytes] of snapshot.tombstones) this.addTombstone(group, location, bytes);
  }

  private hasDeadBefore(group: string | null, location: number): boolean {
    if (group === ALL) {
      for (const records of this.dead.values()) if (anyBefore(records, location)) return true;
      return false;
    }
    const records = this.dead.get(group);
    return records !== undefined && anyBefore(records, location);
  }
}

function anyBefore(records: Map<number, unknown>, location: number): boolean {
  for (const at of records.keys()) if (at < location) return true;
  return false;
}

/** The entries of `map` whose location is in `segment`, copied out so the map can change. */
function movedEntries<T>(map: Map<number, T>, segment: number): [number, T][] {
  const out: [number, T][] = [];
  for (const entry of map) if (segmentOf(entry[0]) === segment) out.push(entry);
  return out;
}

/** Maps an index location through a relocation; a live record must never be dropped. */
export function relocate(relocation: SegmentRelocation, location: number): number {
  if (segmentOf(location) !== relocation.segment) return location;
  const to = relocation.map(location);
  assert(to >= 0, `live record at ${segmentOf(location)}:${offsetOf(location)} was dropped by compaction`);
  return to;
}
