/**
 * db.contexts: state snapshots with versioned deltas on the shared log (record
 * layouts in context-codec.ts).
 *
 * Owns: the context index (context-index.ts: the current context of each id,
 * each id's deltas by version, the garbage ledger) and the writer's views of
 * writes in flight: which contexts will exist (PendingKeys) and which deltas
 * (PendingDeltas).
 * Concurrency: writes are framed in call order and decide against the writer's
 * views; the index (what reads see) changes only when a record commits.
 * Invariant: a context and its deltas are independent; deleting one never
 * touches the other, and a delta needs no context.
 */
import { Problems } from "../problems.js";
import { SeglogError } from "../../errors.js";
import { RecordType } from "../../format/constants.js";
import { RECORD_HEADER_BYTES } from "../../limits.js";
import type * as api from "../../types.js";
import { checkDocument, checkInteger, checkKey, checkTime, checkVersion } from "../arguments.js";
import type { LogStore, SegmentRelocation, StoreContext, StoreUsage } from "../context.js";
import { PendingKeys } from "../pending-keys.js";
import { writeKeyed, writeRecord } from "../record-write.js";
import {
  decodeContextDelete,
  decodeDeltaDrop,
  decodeDocument,
  decodeSetHead,
  DropRule,
  encodeContextDelete,
  encodeDeltaDrop,
  encodeDocument,
  encodeSetHead,
  type DeltaDrop,
} from "./context-codec.js";
import { ContextIndex, type ContextsCheckpoint, type Stored } from "./context-index.js";
import { checkListOptions, page } from "./context-queries.js";
import { PendingDeltas, type PendingDelta } from "./pending-deltas.js";

export class ContextStore implements api.ContextStore, LogStore {
  readonly name = "contexts";
  readonly recordTypes = [RecordType.ContextSet, RecordType.ContextDelete, RecordType.DeltaSet, RecordType.DeltaDelete] as const;
  private readonly index = new ContextIndex();
  private readonly pendingContexts = new PendingKeys();
  private readonly pendingDeltas = new PendingDeltas();

  constructor(private readonly ctx: StoreContext) {}

  // ---- contexts -------------------------------------------------------------

  async setContext(contextId: string, context: Record<string, unknown>, version: number): Promise<api.ContextRecord> {
    this.ctx.checkWritable();
    checkKey(contextId, "contextId");
    checkDocument(context, "context");
    checkVersion(version, "version");
    const insertedAt = this.ctx.clock();
    const head = encodeSetHead(contextId, version, insertedAt);
    const done = writeKeyed(this.ctx, this.pendingContexts, contextId, true, RecordType.ContextSet, head, encodeDocument(context, "context"), "context", (location, bytes) =>
      this.index.setContext(contextId, { location, bytes, version, insertedAt }),
    );
    await done;
    return { contextId, context, version, insertedAt };
  }

  async getContext(contextId: string): Promise<api.ContextRecord> {
    this.ctx.checkOpen();
    checkKey(contextId, "contextId");
    const stored = this.index.contexts.get(contextId);
    if (stored === undefined) throw new SeglogError("NOT_FOUND", `context ${contextId} does not exist`);
    return this.readContext(contextId, stored);
  }

  /** Removes the context only; its deltas stay. Ok when missing. */
  async deleteContext(contextId: string): Promise<void> {
    this.ctx.checkWritable();
    checkKey(contextId, "contextId");
    if (!this.pendingContexts.exists(contextId, this.index.contexts.has(contextId))) return;
    const done = writeKeyed(this.ctx, this.pendingContexts, contextId, false, RecordType.ContextDelete, encodeContextDelete(contextId), undefined, "contextId", (location, bytes) =>
      this.index.deleteContext(contextId, location, bytes),
    );
    await done;
  }

  async listContexts(options?: api.ListOptions): Promise<api.ContextRecord[]> {
    this.ctx.checkOpen();
    return this.selectContexts(options).map((id) => this.readContext(id, this.index.contexts.get(id)!));
  }

  async listContextsWithDeltaCounts(options?: api.ListOptions): Promise<(api.ContextRecord & { deltaCount: number })[]> {
    this.ctx.checkOpen();
    return this.selectContexts(options).map((id) => ({
      ...this.readContext(id, this.index.contexts.get(id)!),
      deltaCount: this.index.deltas.get(id)?.size ?? 0,
    }));
  }

  // ---- deltas ---------------------------------------------------------------

  async setDelta(contextId: string, delta: Record<string, unknown>, version: number): Promise<api.DeltaRecord> {
    this.ctx.checkWritable();
    checkKey(contextId, "contextId");
    checkDocument(delta, "delta");
    checkVersion(version, "version");
    const insertedAt = this.ctx.clock();
    const head = encodeSetHead(contextId, version, insertedAt);
    const write: PendingDelta = { set: { version, insertedAt } };
    const done = this.writeDelta(contextId, write, RecordType.DeltaSet, head, encodeDocument(delta, "delta"), "delta", (location, bytes) =>
      this.index.setDelta(contextId, { location, bytes, version, insertedAt }),
    );
    await done;
    return { contextId, delta, version, insertedAt };
  }

  /** Deltas with a version above `clientVersion`, ascending; [] when none. */
  async getDeltas(contextId: string, clientVersion: number): Promise<api.DeltaRecord[]> {
    this.ctx.checkOpen();
    checkKey(contextId, "contextId");
    checkInteger(clientVersion, "clientVersion", -1);
    return this.index
      .deltasOf(contextId)
      .filter((s) => s.version > clientVersion)
      .map((s) => this.readDelta(contextId, s));
  }

  async listDeltas(options?: api.ListOptions): Promise<api.DeltaRecord[]> {
    this.ctx.checkOpen();
    const q = checkListOptions(options);
    const index = this.index;
    const ids = q.contextId !== undefined ? [q.contextId] : index.deltaIds();
    function* candidates(): Generator<[string, Stored]> {
      for (const id of ids) for (const s of index.deltasOf(id)) yield [id, s];
    }
    return page(candidates(), q, (c) => c[1]).map(([id, s]) => this.readDelta(id, s));
  }

  async deleteDeltasByTime(contextId: string, olderThan: number): Promise<void> {
    this.ctx.checkWritable();
    checkKey(contextId, "contextId");
    checkTime(olderThan, "olderThan");
    const view = this.writerDeltas(contextId);
    if (![...view.values()].some((insertedAt) => insertedAt < olderThan)) return;
    await this.dropDeltas({ contextId, rule: DropRule.InsertedBefore, arg: olderThan });
  }

  /** Keeps the `keep` highest versions; the cut is resolved now, against the writer's view. */
  async deleteDeltasExceedingThreshold(contextId: string, keep: number): Promise<void> {
    this.ctx.checkWritable();
    checkKey(contextId, "contextId");
    checkInteger(keep, "keep", 0);
    const versions = [...this.writerDeltas(contextId).keys()].sort((a, b) => b - a);
    if (versions.length <= keep) return;
    if (keep === 0) await this.dropDeltas({ contextId, rule: DropRule.All, arg: 0 });
    else await this.dropDeltas({ contextId, rule: DropRule.VersionBelow, arg: versions[keep - 1]! });
  }

  async deleteDeltasForContext(contextId: string): Promise<void> {
    this.ctx.checkWritable();
    checkKey(contextId, "contextId");
    if (this.writerDeltas(contextId).size === 0) return;
    await this.dropDeltas({ contextId, rule: DropRule.All, arg: 0 });
  }

  // ---- recovery, checkpoint, verify -----------------------------------------

  replay(type: number, body: Uint8Array, location: number): void {
    const bytes = RECORD_HEADER_BYTES + body.length;
    switch (type) {
      case RecordType.ContextSet: {
        const h = decodeSetHead(body);
        this.index.setContext(h.contextId, { location, bytes, version: h.version, insertedAt: h.insertedAt });
        break;
      }
      case RecordType.DeltaSet: {
        const h = decodeSetHead(body);
        this.index.setDelta(h.contextId, { location, bytes, version: h.version, insertedAt: h.insertedAt });
        break;
      }
      case RecordType.ContextDelete:
        this.index.deleteContext(decodeContextDelete(body), location, bytes);
        break;
      case RecordType.DeltaDelete:
        this.index.dropDeltas(decodeDeltaDrop(body), location, bytes);
        break;
    }
  }

  recovered(): void {}

  checkpoint(): ContextsCheckpoint {
    return this.index.snapshot();
  }

  restore(section: unknown): void {
    this.index.restore(section as ContextsCheckpoint);
  }

  /** Every indexed context and delta must read back as the record the index says it is. */
  verify(): string[] {
    const problems = new Problems();
    for (const [id, s] of this.index.contexts) problems.check(`context ${id}`, () => this.readContext(id, s));
    for (const [id, versions] of this.index.deltas) for (const s of versions.values()) problems.check(`context ${id} delta ${s.version}`, () => this.readDelta(id, s));
    return problems.list;
  }

  // ---- compaction -----------------------------------------------------------

  /** Garbage is known record by record as it happens (the ledger); nothing to decide up front. */
  planCompaction(): void {}

  keep(type: number, body: Uint8Array, location: number): boolean {
    if (type === RecordType.ContextSet) return this.index.isLiveContext(decodeSetHead(body).contextId, location);
    if (type === RecordType.DeltaSet) {
      const h = decodeSetHead(body);
      return this.index.isLiveDelta(h.contextId, h.version, location);
    }
    return this.index.garbage.tombstoneNeeded(location);
  }

  /** Dropped records carry no state: superseded and deleted records are simply gone. */
  snapshotRecords(): { type: number; body: Uint8Array }[] {
    return [];
  }

  relocated(relocation: SegmentRelocation): void {
    this.index.relocated(relocation);
  }

  usage(): StoreUsage {
    let bytes = 0;
    let deltas = 0;
    for (const c of this.index.contexts.values()) bytes += c.bytes;
    for (const perContext of this.index.deltas.values()) {
      deltas += perContext.size;
      for (const d of perContext.values()) bytes += d.bytes;
    }
    return { contexts: this.index.contexts.size, deltas, bytes };
  }

  garbageBytes(): number {
    return this.index.garbage.garbageBytes();
  }

  // ---- internals ------------------------------------------------------------

  private selectContexts(options: api.ListOptions | undefined): string[] {
    const q = checkListOptions(options);
    const ids = q.contextId !== undefined ? (this.index.contexts.has(q.contextId) ? [q.contextId] : []) : this.index.contextIds();
    return page(ids, q, (id) => this.index.contexts.get(id)!);
  }

  private writerDeltas(contextId: string): Map<number, number> {
    return this.pendingDeltas.view(contextId, this.index.deltas.get(contextId));
  }

  private dropDeltas(drop: DeltaDrop): Promise<void> {
    return this.writeDelta(drop.contextId, { drop }, RecordType.DeltaDelete, encodeDeltaDrop(drop), undefined, "contextId", (location, bytes) =>
      this.index.dropDeltas(drop, location, bytes),
    );
  }

  /** A delta write is in the writer's view (pendingDeltas) from before it is framed until it settles. */
  private writeDelta(
    contextId: string,
    write: PendingDelta,
    type: RecordType,
    head: Uint8Array,
    tail: Uint8Array | undefined,
    what: string,
    apply: (location: number, bytes: number) => void,
  ): Promise<void> {
    this.pendingDeltas.add(contextId, write);
    try {
      return writeRecord(this.ctx, type, head, tail, what, {
        apply: (location, bytes) => {
          this.pendingDeltas.settle(contextId, write);
          apply(location, bytes);
        },
        abort: () => this.pendingDeltas.settle(contextId, write),
      });
    } catch (err) {
      this.pendingDeltas.settle(contextId, write);
      throw err;
    }
  }

  private readContext(contextId: string, s: Stored): api.ContextRecord {
    return { contextId, context: this.readDocument(RecordType.ContextSet, contextId, s), version: s.version, insertedAt: s.insertedAt };
  }

  private readDelta(contextId: string, s: Stored): api.DeltaRecord {
    return { contextId, delta: this.readDocument(RecordType.DeltaSet, contextId, s), version: s.version, insertedAt: s.insertedAt };
  }

  private readDocument(type: RecordType, contextId: string, s: Stored): Record<string, unknown> {
    return this.ctx.log.reader.decodeAt(s.location, (record) => {
      const head = record.type === type ? decodeSetHead(record.body) : undefined;
      if (head === undefined || head.contextId !== contextId || head.version !== s.version) {
        throw new SeglogError("CORRUPTION", `context ${contextId} version ${s.version}: the index points at another record`);
      }
      return decodeDocument(record.body);
    });
  }
}
