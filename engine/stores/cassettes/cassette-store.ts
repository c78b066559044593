/**
 * db.cassettes: ordered entry lists under a path, for HTTP record/replay, on the
 * shared log (record layouts in cassette-codec.ts).
 *
 * Owns: per path, the locations of its entries in write order (so reading a
 * cassette reads exactly its own records and never scans others'), the garbage
 * ledger of deleted entries, and the writer's view of paths with writes in flight.
 * Concurrency: entries and deletes are framed in call order; the index (what
 * reads see) changes only when a record commits.
 * Invariant: a path is in the index exactly when it has at least one entry,
 * and its locations ascend (log order, which compaction preserves).
 */
import { Problems } from "../problems.js";
import { SeglogError, invalidArgument } from "../../errors.js";
import { RecordType } from "../../format/constants.js";
import { segmentOf } from "../../log/location.js";
import { RECORD_HEADER_BYTES } from "../../limits.js";
import type * as api from "../../types.js";
import { checkDocument, checkKey, checkOptions } from "../arguments.js";
import type { LogStore, SegmentRelocation, StoreContext, StoreUsage } from "../context.js";
import { GarbageLedger, relocate, type LedgerSnapshot } from "../garbage-ledger.js";
import { PendingKeys } from "../pending-keys.js";
import { writeKeyed } from "../record-write.js";
import { decodeEntry, deletePath, encodeDelete, encodeEntry, encodeEntryHead, entryPath } from "./cassette-codec.js";

interface Cassette {
  /** Entry locations in write order, and each entry's frame bytes. */
  locations: number[];
  bytes: number[];
}

interface CassettesCheckpoint {
  /** [path, [location, bytes, location, bytes, ...]] per cassette. */
  cassettes: [string, number[]][];
  garbage: LedgerSnapshot;
}

export class CassetteStore implements api.CassetteStore, LogStore {
  readonly name = "cassettes";
  readonly recordTypes = [RecordType.CassetteEntry, RecordType.CassetteDelete] as const;
  private readonly index = new Map<string, Cassette>();
  private sortedPaths: string[] | undefined;
  private readonly pending = new PendingKeys();
  private readonly garbage = new GarbageLedger();

  constructor(private readonly ctx: StoreContext) {}

  // ---- writes -------------------------------------------------------------

  async writeEntry(path: string, entry: Record<string, unknown>): Promise<void> {
    this.ctx.checkWritable();
    checkKey(path, "path");
    checkDocument(entry, "entry");
    const head = encodeEntryHead(path);
    // Encoded last: the tail lives in the encoder's buffer until writeRecord frames it.
    await writeKeyed(this.ctx, this.pending, path, true, RecordType.CassetteEntry, head, encodeEntry(entry), "entry", (location, bytes) => this.applyEntry(path, location, bytes));
  }

  async delete(path: string): Promise<void> {
    this.ctx.checkWritable();
    checkKey(path, "path");
    if (!this.pending.exists(path, this.index.has(path))) return;
    await writeKeyed(this.ctx, this.pending, path, false, RecordType.CassetteDelete, encodeDelete(path), undefined, "path", (location, bytes) => this.applyDelete(path, location, bytes));
  }

  // ---- reads --------------------------------------------------------------

  readEntries(path: string): AsyncIterable<Record<string, unknown>> {
    this.ctx.checkOpen();
    checkKey(path, "path");
    // A fresh iteration each time the iterable is iterated.
    return { [Symbol.asyncIterator]: () => this.iterate(path) };
  }

  exists(path: string): boolean {
    this.ctx.checkOpen();
    checkKey(path, "path");
    return this.index.has(path);
  }

  list(options?: { prefix?: string }): string[] {
    this.ctx.checkOpen();
    const prefix = checkOptions(options).prefix ?? "";
    if (typeof prefix !== "string") throw invalidArgument("options.prefix", "must be a string");
    this.sortedPaths ??= [...this.index.keys()].sort();
    return prefix === "" ? [...this.sortedPaths] : this.sortedPaths.filter((p) => p.startsWith(prefix));
  }

  // ---- recovery, checkpoint, verify -----------------------------------------

  replay(type: number, body: Uint8Array, location: number): void {
    const bytes = RECORD_HEADER_BYTES + body.length;
    if (type === RecordType.CassetteEntry) this.applyEntry(entryPath(body), location, bytes);
    else this.applyDelete(deletePath(body), location, bytes);
  }

  recovered(): void {}

  checkpoint(): CassettesCheckpoint {
    const cassettes: [string, number[]][] = [];
    for (const [path, c] of this.index) {
      const pairs: number[] = [];
      for (let i = 0; i < c.locations.length; i++) pairs.push(c.locations[i]!, c.bytes[i]!);
      cassettes.push([path, pairs]);
    }
    return { cassettes, garbage: this.garbage.snapshot() };
  }

  restore(section: unknown): void {
    const s = section as CassettesCheckpoint;
    for (const [path, pairs] of s.cassettes) {
      const c: Cassette = { locations: [], bytes: [] };
      for (let i = 0; i < pairs.length; i += 2) {
        c.locations.push(pairs[i]!);
        c.bytes.push(pairs[i + 1]!);
      }
      this.index.set(path, c);
    }
    this.sortedPaths = undefined;
    this.garbage.restore(s.garbage);
  }

  /** Every indexed entry must read back as an entry of its cassette. */
  verify(): string[] {
    const problems = new Problems();
    for (const [path, c] of this.index) {
      for (let i = 0; i < c.locations.length; i++) problems.check(`cassette ${path} entry ${i}`, () => this.readEntry(path, c.locations[i]!));
    }
    return problems.list;
  }

  // ---- compaction -----------------------------------------------------------

  /** Garbage is known record by record as it happens (the ledger); nothing to decide up front. */
  planCompaction(): void {}

  keep(type: number, body: Uint8Array, location: number): boolean {
    if (type === RecordType.CassetteDelete) return this.garbage.tombstoneNeeded(location);
    const c = this.index.get(entryPath(body));
    return c !== undefined && indexOf(c.locations, location) >= 0;
  }

  /** Dropped records carry no state: a deleted cassette is simply gone. */
  snapshotRecords(): { type: number; body: Uint8Array }[] {
    return [];
  }

  relocated(relocation: SegmentRelocation): void {
    for (const c of this.index.values()) {
      for (let i = 0; i < c.locations.length; i++) {
        if (segmentOf(c.locations[i]!) === relocation.segment) c.locations[i] = relocate(relocation, c.locations[i]!);
      }
    }
    this.garbage.relocated(relocation);
  }

  usage(): StoreUsage {
    let entries = 0;
    let bytes = 0;
    for (const c of this.index.values()) {
      entries += c.bytes.length;
      for (const b of c.bytes) bytes += b;
    }
    return { cassettes: this.index.size, entries, bytes };
  }

  garbageBytes(): number {
    return this.garbage.garbageBytes();
  }

  // ---- internals ------------------------------------------------------------

  /**
   * Reads the entries that exist when the iteration starts, one record at a
   * time; locations are read from the index at each step, so a compaction
   * between steps is harmless. A delete during the iteration ends it.
   */
  private async *iterate(path: string): AsyncGenerator<Record<string, unknown>> {
    const cassette = this.index.get(path);
    if (cassette === undefined) return;
    const count = cassette.locations.length;
    for (let i = 0; i < count; i++) {
      this.ctx.checkOpen();
      if (this.index.get(path) !== cassette) return;
      yield this.readEntry(path, cassette.locations[i]!);
    }
  }

  private readEntry(path: string, location: number): Record<string, unknown> {
    return this.ctx.log.reader.decodeAt(location, (record) => {
      if (record.type !== RecordType.CassetteEntry || entryPath(record.body) !== path) {
        throw new SeglogError("CORRUPTION", `cassette ${path}: the index points at another record`);
      }
      return decodeEntry(record.body);
    });
  }

  private applyEntry(path: string, location: number, bytes: number): void {
    let c = this.index.get(path);
    if (c === undefined) {
      this.index.set(path, (c = { locations: [], bytes: [] }));
      this.sortedPaths = undefined;
    }
    c.locations.push(location);
    c.bytes.push(bytes);
  }

  private applyDelete(path: string, location: number, bytes: number): void {
    const c = this.index.get(path);
    if (c !== undefined) {
      for (let i = 0; i < c.locations.length; i++) this.garbage.markDead(path, c.locations[i]!, c.bytes[i]!);
      this.index.delete(path);
      this.sortedPaths = undefined;
    }
    this.garbage.addTombstone(path, location, bytes);
  }
}

/** Binary search in ascending locations. */
function indexOf(sorted: number[], location: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = sorted[mid]!;
    if (at === location) return mid;
    if (at < location) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
