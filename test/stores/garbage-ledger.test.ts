/**
 * The garbage ledger the object, cassette, recording and context stores share
 * (engine/stores/garbage-ledger.ts): what it counts as garbage, and above all
 * that a delete record stays needed while anything it deleted may still be
 * replayed, whichever segments a compaction rewrites. Relocations are the real
 * ones compaction builds (engine/compaction/relocation.ts).
 */
import { Relocation } from "../../engine/compaction/relocation.js";
import { ALL, GarbageLedger } from "../../engine/stores/garbage-ledger.js";
import { packLocation } from "../../engine/log/location.js";

const at = (segment: number, offset: number): number => packLocation(segment, offset);

/** A relocation of `segment` that keeps the given [old, new] offsets and drops the rest. */
function relocation(segment: number, kept: [number, number][]): Relocation {
  const r = new Relocation(segment);
  for (const [from, to] of kept) r.record(from, to);
  return r;
}

describe("garbage ledger", () => {
  it("when records die, garbageBytes sums them, and a delete is garbage only once nothing it deleted is left", () => {
    const ledger = new GarbageLedger();
    ledger.markDead("k", at(1, 100), 50);
    ledger.addTombstone("k", at(2, 40), 20);
    expect(ledger.tombstoneNeeded(at(2, 40))).toBe(true);
    expect(ledger.garbageBytes()).toBe(50);
    // Segment 1 rewritten without the dead record.
    ledger.relocated(relocation(1, []));
    expect(ledger.tombstoneNeeded(at(2, 40))).toBe(false);
    expect(ledger.garbageBytes()).toBe(20);
    ledger.relocated(relocation(2, []));
    expect(ledger.garbageBytes()).toBe(0);
  });

  it("when a compaction rewrites only the delete's segment, the delete stays needed while the deleted record is on disk", () => {
    const ledger = new GarbageLedger();
    ledger.markDead("k", at(1, 100), 50);
    ledger.addTombstone("k", at(3, 40), 20);
    // Segment 3 is rewritten and keeps the delete (keep() said it is needed) at a new offset.
    ledger.relocated(relocation(3, [[40, 32]]));
    expect(ledger.tombstoneNeeded(at(3, 32))).toBe(true);
    expect(ledger.tombstoneNeeded(at(3, 40))).toBe(true); // unknown locations are always kept
    ledger.relocated(relocation(1, []));
    expect(ledger.tombstoneNeeded(at(3, 32))).toBe(false);
  });

  it("when dead records belong to another group or lie after the delete, the delete is not held by them", () => {
    const ledger = new GarbageLedger();
    ledger.markDead("other", at(1, 100), 10);
    ledger.markDead("k", at(5, 100), 10);
    ledger.addTombstone("k", at(4, 0), 20);
    expect(ledger.tombstoneNeeded(at(4, 0))).toBe(false);
  });

  it("when a clear is in the ledger, a dead record of any group before it holds it", () => {
    const ledger = new GarbageLedger();
    ledger.markDead("a", at(1, 10), 10);
    ledger.addTombstone(ALL, at(2, 0), 20);
    expect(ledger.tombstoneNeeded(at(2, 0))).toBe(true);
    ledger.relocated(relocation(1, []));
    expect(ledger.tombstoneNeeded(at(2, 0))).toBe(false);
  });

  it("when a dead record is kept by a rewrite (it died after keep() ran), it moves with its segment and still counts", () => {
    const ledger = new GarbageLedger();
    ledger.markDead("k", at(1, 500), 30);
    ledger.addTombstone("k", at(2, 0), 20);
    ledger.relocated(relocation(1, [[500, 64]]));
    expect(ledger.garbageBytes()).toBe(30);
    expect(ledger.tombstoneNeeded(at(2, 0))).toBe(true);
    ledger.relocated(relocation(1, []));
    expect(ledger.garbageBytes()).toBe(20);
  });

  it("when a ledger is snapshotted and restored, the copy answers the same", () => {
    const ledger = new GarbageLedger();
    ledger.markDead("a", at(1, 10), 10);
    ledger.markDead("a", at(1, 90), 11);
    ledger.markDead("b", at(2, 10), 12);
    ledger.addTombstone("a", at(3, 0), 5);
    ledger.addTombstone(ALL, at(3, 50), 6);
    ledger.addTombstone("c", at(3, 80), 7);
    const copy = new GarbageLedger();
    copy.restore(ledger.snapshot());
    expect(copy.garbageBytes()).toBe(ledger.garbageBytes());
    expect(copy.garbageBytes()).toBe(10 + 11 + 12 + 7);
    for (const location of [at(3, 0), at(3, 50), at(3, 80)]) expect(copy.tombstoneNeeded(location)).toBe(ledger.tombstoneNeeded(location));
  });

  it("when the same record is marked dead twice, it counts once", () => {
    const ledger = new GarbageLedger();
    ledger.markDead("k", at(1, 10), 10);
    ledger.markDead("k", at(1, 10), 10);
    expect(ledger.garbageBytes()).toBe(10);
  });
});
