/**
 * The context store's in-memory index: where the current context of each id
 * is and, per id, where each delta version is, with the fields that lists
 * filter on (version, insertedAt), so that filtering never reads the log.
 *
 * Changes arrive as committed records, in log order (at open by replay, later
 * from the group commit); every record that one of them supersedes or removes
 * goes to the garbage ledger. Context records and their deletes form one
 * ledger group per id ("c:" + id), deltas and their delete rules another
 * ("d:" + id), so a delta delete is kept only while deltas it removed may
 * still be replayed.
 */
import { segmentOf } from "../../log/location.js";
import type { SegmentRelocation } from "../context.js";
import { GarbageLedger, relocate, type LedgerSnapshot } from "../garbage-ledger.js";
import { dropMatches, type DeltaDrop } from "./context-codec.js";

export interface Stored {
  location: number;
  /** The whole frame, for garbage accounting. */
  bytes: number;
  version: number;
  insertedAt: number;
}

export interface ContextsCheckpoint {
  /** [id, location, bytes, version, insertedAt, id, ...] */
  contexts: (string | number)[];
  /** [id, [location, bytes, version, insertedAt, ...]] per id with deltas. */
  deltas: [string, number[]][];
  garbage: LedgerSnapshot;
}

const contextGroup = (id: string): string => "c:" + id;
const deltaGroup = (id: string): string => "d:" + id;

export class ContextIndex {
  readonly contexts = new Map<string, Stored>();
  /** id → version → delta. */
  readonly deltas = new Map<string, Map<number, Stored>>();
  readonly garbage = new GarbageLedger();
  private sortedContexts: string[] | undefined;
  private sortedDeltaIds: string[] | undefined;

  setContext(id: string, record: Stored): void {
    const old = this.contexts.get(id);
    if (old !== undefined) this.garbage.markDead(contextGroup(id), old.location, old.bytes);
    else this.sortedContexts = undefined;
    this.contexts.set(id, record);
  }

  deleteContext(id: string, location: number, bytes: number): void {
    const old = this.contexts.get(id);
    if (old !== undefined) {
      this.garbage.markDead(contextGroup(id), old.location, old.bytes);
      this.contexts.delete(id);
      this.sortedContexts = undefined;
    }
    this.garbage.addTombstone(contextGroup(id), location, bytes);
  }

  setDelta(id: string, record: Stored): void {
    let versions = this.deltas.get(id);
    if (versions === undefined) {
      this.deltas.set(id, (versions = new Map()));
      this.sortedDeltaIds = undefined;
    }
    const old = versions.get(record.version);
    if (old !== undefined) this.garbage.markDead(deltaGroup(id), old.location, old.bytes);
    versions.set(record.version, record);
  }

  dropDeltas(drop: DeltaDrop, location: number, bytes: number): void {
    const versions = this.deltas.get(drop.contextId);
    if (versions !== undefined) {
      for (const [version, d] of versions) {
        if (!dropMatches(drop.rule, drop.arg, d.version, d.insertedAt)) continue;
        this.garbage.markDead(deltaGroup(drop.contextId), d.location, d.bytes);
        versions.delete(version);
      }
      if (versions.size === 0) {
        this.deltas.delete(drop.contextId);
        this.sortedDeltaIds = undefined;
      }
    }
    this.garbage.addTombstone(deltaGroup(drop.contextId), location, bytes);
  }

  /** Context ids in UTF-16 code unit order. */
  contextIds(): string[] {
    return (this.sortedContexts ??= [...this.contexts.keys()].sort());
  }

  /** Ids that have deltas, in UTF-16 code unit order. */
  deltaIds(): string[] {
    return (this.sortedDeltaIds ??= [...this.deltas.keys()].sort());
  }

  /** The deltas of `id`, ascending by version. */
  deltasOf(id: string): Stored[] {
    const versions = this.deltas.get(id);
    if (versions === undefined) return [];
    return [...versions.values()].sort((a, b) => a.version - b.version);
  }

  isLiveContext(id: string, location: number): boolean {
    return this.contexts.get(id)?.location === location;
  }

  isLiveDelta(id: string, version: number, location: number): boolean {
    return this.deltas.get(id)?.get(version)?.location === location;
  }

  relocated(relocation: SegmentRelocation): void {
    const move = (s: Stored): void => {
      if (segmentOf(s.location) === relocation.segment) s.location = relocate(relocation, s.location);
    };
    for (const s of this.contexts.values()) move(s);
    for (const versions of this.deltas.values()) for (const s of versions.values()) move(s);
    this.garbage.relocated(relocation);
  }

  snapshot(): ContextsCheckpoint {
    const contexts: (string | number)[] = [];
    for (const [id, s] of this.contexts) contexts.push(id, s.location, s.bytes, s.version, s.insertedAt);
    const deltas: [string, number[]][] = [];
    for (const [id, versions] of this.deltas) {
      const row: number[] = [];
      for (const s of versions.values()) row.push(s.location, s.bytes, s.version, s.insertedAt);
      deltas.push([id, row]);
    }
    return { contexts, deltas, garbage: this.garbage.snapshot() };
  }

  restore(s: ContextsCheckpoint): void {
    const c = s.contexts;
    for (let i = 0; i < c.length; i += 5) {
      this.contexts.set(c[i] as string, { location: c[i + 1] as number, bytes: c[i + 2] as number, version: c[i + 3] as number, insertedAt: c[i + 4] as number });
    }
    for (const [id, row] of s.deltas) {
      const versions = new Map<number, Stored>();
      for (let i = 0; i < row.length; i += 4) versions.set(row[i + 2]!, { location: row[i]!, bytes: row[i + 1]!, version: row[i + 2]!, insertedAt: row[i + 3]! });
      this.deltas.set(id, versions);
    }
    this.sortedContexts = undefined;
    this.sortedDeltaIds = undefined;
    this.garbage.restore(s.garbage);
  }
}
