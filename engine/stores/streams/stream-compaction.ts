/**
 * The byte-stream store's side of compaction.
 *
 * Plan: drop every incarnation nothing keeps any more (deleted or expired, and
 * no kept fork of it), then remember the kept set. Keep: a record stays when
 * its incarnation is kept; old floor records never stay (the new floor below
 * replaces them). Whole incarnations are dropped or kept, never parts of one:
 * a byte stream has no truncation, and a fork's inherited chunks are its
 * source's records, which therefore stay while the source is kept.
 * Snapshot: one floor record with the highest incarnation number, so numbers
 * are never handed out twice after the records that carried them are gone.
 * Relocate: chunk locations move with their segment; the garbage counted for
 * the segment at plan time is gone.
 */
import { RecordType } from "../../format/constants.js";
import { relocate } from "../garbage-ledger.js";
import type { SegmentRelocation } from "../context.js";
import type { StreamCatalog } from "./stream-catalog.js";
import { encodeFloor, incarnationOf } from "./stream-codec.js";

export class StreamCompaction {
  private kept: Set<number> | undefined;
  /** Garbage per segment when the plan was made: what rewriting that segment removes. */
  private planned = new Map<number, number>();

  constructor(private readonly catalog: StreamCatalog) {}

  plan(): void {
    this.catalog.sweep();
    this.kept = new Set(this.catalog.byNumber.keys());
    this.planned = new Map(this.catalog.garbage);
  }

  keep(type: number, body: Uint8Array): boolean {
    if (type === RecordType.ByteStreamFloor) return false;
    const incarnation = incarnationOf(type, body);
    return this.kept?.has(incarnation) ?? this.catalog.byNumber.has(incarnation);
  }

  snapshotRecords(): { type: number; body: Uint8Array }[] {
    return [{ type: RecordType.ByteStreamFloor, body: encodeFloor(this.catalog.nextNumber - 1) }];
  }

  relocated(relocation: SegmentRelocation): void {
    for (const inc of this.catalog.byNumber.values()) inc.chunks.mapLocations((location) => relocate(relocation, location));
    const removed = this.planned.get(relocation.segment);
    if (removed !== undefined) {
      this.catalog.addGarbage(relocation.segment, -removed);
      this.planned.delete(relocation.segment);
    }
  }
}
