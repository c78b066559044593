/**
 * Compaction: plan, then execute, then swap — each step survivable by a crash
 * (docs/compaction.md has the table of what a crash at each step leaves).
 *
 *   1. Seal: roll the active segment, so everything written so far can be cleaned.
 *   2. Plan: every store decides what is garbage now; a pass over the sealed
 *      segments finds which hold any (a later write only adds garbage, so the
 *      plan stays safe while writers go on).
 *   3. Execute: each chosen segment, in ascending order, is copied without its
 *      garbage into `<segment>.cleaned` and fsynced. The first segment rewritten
 *      also receives the stores' snapshot records first.
 *   4. Swap: rename `.cleaned` over the segment (atomic), reopen it, let every
 *      store relocate its index entries — all in one synchronous step — then
 *      fsync the directory before the next segment starts. Ascending order keeps
 *      every prefix of swaps a consistent log: a snapshot always lands before
 *      the records it replaces disappear, and a delete is never dropped before
 *      what it deleted.
 *   5. Checkpoint the new indexes.
 *
 * Appends go on into the active segment throughout; the only pause they see is
 * the synchronous swap of one segment.
 */
import { FrameStatus } from "../format/record.js";
import type { FileSystem } from "../io/file-system.js";
import type { Log } from "../log/log.js";
import { openSegment, type Segment } from "../log/segment.js";
import { SEGMENT_HEADER_BYTES } from "../limits.js";
import type { LogStore } from "../stores/context.js";
import type { CompactionReport } from "../types.js";
import { rewriteSegment, YIELD_BYTES, type KeepFn } from "./segment-rewriter.js";
import { setImmediate as nextTurn } from "node:timers/promises";
import { SeglogError } from "../errors.js";

export interface CompactionHost {
  readonly fs: FileSystem;
  readonly log: Log;
  readonly stores: readonly LogStore[];
  /** Runs between group-commit batches (the seal step). */
  exclusive(fn: () => Promise<void>): Promise<void>;
  saveCheckpoint(): Promise<void>;
  isOpen(): boolean;
  /** Segments numbered from this on are left alone (records replication has not forwarded yet). */
  holdFrom(): number;
}

export type Progress = (p: { done: number; total: number }) => void;

export async function compact(host: CompactionHost, onProgress: Progress | undefined): Promise<CompactionReport> {
  const started = Date.now();
  const { log, fs } = host;
  const bytesBefore = log.diskBytes();
  await host.exclusive(() => log.roll());

  const byType = new Map<number, LogStore>();
  for (const store of host.stores) for (const type of store.recordTypes) byType.set(type, store);
  for (const store of host.stores) store.planCompaction();
  // Records of types no store claims (a newer writer's) are kept as they are.
  const keep: KeepFn = (type, body, location) => byType.get(type)?.keep(type, body, location) ?? true;

  const snapshots = host.stores.flatMap((s) => s.snapshotRecords());
  // Old snapshot records are replaced, not reclaimed: alone they are no reason to rewrite.
  const snapshotTypes = new Set(snapshots.map((r) => r.type));
  const hold = host.holdFrom();
  const sealed = log.segments.slice(0, -1).filter((s) => s.number < hold);
  const chosen = await chooseSegments(log, sealed, (type, body, location) => snapshotTypes.has(type) || keep(type, body, location));
  const total = chosen.reduce((n, s) => n + s.committedEnd, 0);
  let done = 0;
  onProgress?.({ done, total });
  let recordsDropped = 0;
  let segmentsRewritten = 0;
  for (let i = 0; i < chosen.length; i++) {
    const segment = log.segment(chosen[i]!.number);
    const prefix = i === 0 ? snapshots : [];
    const result = await rewriteSegment(fs, log, segment, keep, prefix, (n) => onProgress?.({ done: (done += n), total }), () => !host.isOpen());
    if (result === undefined) throw new SeglogError("CLOSED", "the database was closed during compaction");
    // The swap: one synchronous step, then make the rename durable.
    fs.rename(result.path, segment.path);
    const swapped = openSegment(fs, segment.path, segment.number, false) as Segment;
    log.replaceSegment(swapped);
    for (const store of host.stores) store.relocated(result.relocation);
    await fs.syncDirectory(log.dir);
    recordsDropped += result.recordsDropped - result.snapshotsReplaced;
    segmentsRewritten++;
  }
  onProgress?.({ done: total, total });
  if (segmentsRewritten > 0) await host.saveCheckpoint();
  return { bytesBefore, bytesAfter: log.diskBytes(), recordsDropped, segmentsRewritten, durationMs: Date.now() - started };
}

/**
 * The sealed segments holding garbage. When any does, the first sealed segment
 * is rewritten too, because it receives the snapshots. A damaged segment stops
 * the choice there: segments after it must not lose records whose replacement
 * snapshot could not be placed before them... so the plan ends at the damage.
 */
async function chooseSegments(log: Log, sealed: Segment[], keep: KeepFn): Promise<Segment[]> {
  const chosen: Segment[] = [];
  for (const segment of sealed) {
    const garbage = await hasGarbage(log, segment, keep);
    if (garbage === "damaged") break;
    if (garbage) chosen.push(segment);
  }
  if (chosen.length > 0 && chosen[0] !== sealed[0]) chosen.unshift(sealed[0]!);
  return chosen;
}

async function hasGarbage(log: Log, segment: Segment, keep: KeepFn): Promise<boolean | "damaged"> {
  const cursor = log.cursor(segment, SEGMENT_HEADER_BYTES, segment.committedEnd);
  let sinceYield = 0;
  while (cursor.examine()) {
    if (cursor.status !== FrameStatus.Ok) return "damaged";
    if (!keep(cursor.frame.type, cursor.body(), log.locationOf(segment, cursor.offset))) return true;
    sinceYield += cursor.frame.frameLength;
    cursor.advance();
    if (sinceYield >= YIELD_BYTES) {
      sinceYield = 0;
      await nextTurn();
    }
  }
  return false;
}
