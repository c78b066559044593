/**
 * db.recordings: finalized session recordings on the shared log (record
 * layouts in recording-codec.ts).
 *
 * Owns: per recording id, the location of its latest save and its summary
 * bytes (every field but the events, plus eventCount and savedAt), in save
 * order; the garbage ledger of replaced, deleted and cleared saves; and the
 * writer's view of ids with writes in flight.
 * Concurrency: saves, deletes and clears are framed in call order, which is the
 * log order; the index changes only when a record commits, in that order.
 * Invariant: the index's iteration order is the order of the latest saves in
 * the log, so "most recently saved first" is call order whatever the clock says.
 */
import { Problems } from "../problems.js";
import { SeglogError, invalidArgument } from "../../errors.js";
import { RecordType } from "../../format/constants.js";
import { segmentOf } from "../../log/location.js";
import { RECORD_HEADER_BYTES } from "../../limits.js";
import type * as api from "../../types.js";
import { checkDocument, checkKey } from "../arguments.js";
import type { LogStore, SegmentRelocation, StoreContext, StoreUsage } from "../context.js";
import { ALL, GarbageLedger, relocate, type LedgerSnapshot } from "../garbage-ledger.js";
import { PendingKeys } from "../pending-keys.js";
import { writeKeyed, writeRecord } from "../record-write.js";
import { decodeRecording, decodeSummary, deleteId, encodeClear, encodeDelete, encodeEvents, encodeSaveHead, summaryBytes } from "./recording-codec.js";

interface RecordingEntry {
  location: number;
  bytes: number;
  /** The save's head: the summary, msgpack. */
  summary: Uint8Array;
}

interface RecordingsCheckpoint {
  /** [id, location, bytes, summary, id, ...] in save order. */
  recordings: (string | number | Uint8Array)[];
  garbage: LedgerSnapshot;
}

type Summary = Omit<api.Recording, "events"> & { eventCount: number; savedAt: number };

export class RecordingStore implements api.RecordingStore, LogStore {
  readonly name = "recordings";
  readonly recordTypes = [RecordType.RecordingSave, RecordType.RecordingDelete, RecordType.RecordingClear] as const;
  /** Oldest save first: a save moves its id to the end. */
  private readonly index = new Map<string, RecordingEntry>();
  private readonly pending = new PendingKeys();
  private readonly garbage = new GarbageLedger();

  constructor(private readonly ctx: StoreContext) {}

  // ---- writes -------------------------------------------------------------

  async save(recording: api.Recording): Promise<void> {
    this.ctx.checkWritable();
    checkDocument(recording, "recording");
    const id = checkKey(recording.id, "recording.id");
    if (recording.events !== undefined && !Array.isArray(recording.events)) throw invalidArgument("recording.events", "must be an array");
    const head = encodeSaveHead(id, this.ctx.clock(), recording);
    const summary = summaryBytes(head);
    // Encoded last: the events live in the encoder's buffer until writeRecord frames them.
    await writeKeyed(this.ctx, this.pending, id, true, RecordType.RecordingSave, head, encodeEvents(recording), "recording", (location, bytes) =>
      this.applySave(id, location, bytes, summary),
    );
  }

  async delete(id: string): Promise<void> {
    this.ctx.checkWritable();
    checkKey(id, "id");
    if (!this.pending.exists(id, this.index.has(id))) return;
    await writeKeyed(this.ctx, this.pending, id, false, RecordType.RecordingDelete, encodeDelete(id), undefined, "id", (location, bytes) =>
      this.applyDelete(id, location, bytes),
    );
  }

  async clear(): Promise<void> {
    this.ctx.checkWritable();
    if (!this.pending.anyMayExist(this.index.size)) return;
    this.pending.beginClear();
    let done: Promise<void>;
    try {
      done = writeRecord(this.ctx, RecordType.RecordingClear, encodeClear(), undefined, "clear", {
        apply: (location, bytes) => {
          this.pending.settleClear();
          this.applyClear(location, bytes);
        },
        abort: () => this.pending.settleClear(),
      });
    } catch (err) {
      this.pending.settleClear();
      throw err;
    }
    await done;
  }

  // ---- reads --------------------------------------------------------------

  async get(id: string): Promise<api.Recording | undefined> {
    this.ctx.checkOpen();
    checkKey(id, "id");
    const entry = this.index.get(id);
    return entry === undefined ? undefined : this.read(id, entry);
  }

  async list(): Promise<api.Recording[]> {
    this.ctx.checkOpen();
    return this.newestFirst().map(([id, entry]) => this.read(id, entry));
  }

  /** Decodes only the summaries held in memory: no log read, whatever the recordings' size. */
  async listSummaries(): Promise<Summary[]> {
    this.ctx.checkOpen();
    return this.newestFirst().map(([, entry]) => {
      // `fields` is a fresh decode: adding to it changes nothing stored.
      const s = decodeSummary(entry.summary);
      const summary = s.fields as Summary;
      summary.eventCount = s.eventCount;
      summary.savedAt = s.savedAt;
      return summary;
    });
  }

  // ---- recovery, checkpoint, verify -----------------------------------------

  replay(type: number, body: Uint8Array, location: number): void {
    const bytes = RECORD_HEADER_BYTES + body.length;
    if (type === RecordType.RecordingSave) {
      const summary = summaryBytes(body).slice();
      this.applySave(decodeSummary(summary).id, location, bytes, summary);
    } else if (type === RecordType.RecordingDelete) {
      this.applyDelete(deleteId(body), location, bytes);
    } else {
      this.applyClear(location, bytes);
    }
  }

  recovered(): void {}

  checkpoint(): RecordingsCheckpoint {
    const recordings: (string | number | Uint8Array)[] = [];
    for (const [id, e] of this.index) recordings.push(id, e.location, e.bytes, e.summary);
    return { recordings, garbage: this.garbage.snapshot() };
  }

  restore(section: unknown): void {
    const s = section as RecordingsCheckpoint;
    const r = s.recordings;
    for (let i = 0; i < r.length; i += 4) {
      this.index.set(r[i] as string, { location: r[i + 1] as number, bytes: r[i + 2] as number, summary: r[i + 3] as Uint8Array });
    }
    this.garbage.restore(s.garbage);
  }

  /** Every indexed recording must read back as a save of its id. */
  verify(): string[] {
    const problems = new Problems();
    for (const [id, entry] of this.index) problems.check(`recording ${id}`, () => this.read(id, entry));
    return problems.list;
  }

  // ---- compaction -----------------------------------------------------------

  /** Garbage is known record by record as it happens (the ledger); nothing to decide up front. */
  planCompaction(): void {}

  keep(type: number, body: Uint8Array, location: number): boolean {
    if (type !== RecordType.RecordingSave) return this.garbage.tombstoneNeeded(location);
    return this.index.get(decodeSummary(summaryBytes(body)).id)?.location === location;
  }

  /** Dropped records carry no state; the order of the saves that stay is their log order. */
  snapshotRecords(): { type: number; body: Uint8Array }[] {
    return [];
  }

  relocated(relocation: SegmentRelocation): void {
    for (const entry of this.index.values()) {
      if (segmentOf(entry.location) === relocation.segment) entry.location = relocate(relocation, entry.location);
    }
    this.garbage.relocated(relocation);
  }

  usage(): StoreUsage {
    let bytes = 0;
    for (const r of this.index.values()) bytes += r.bytes;
    return { recordings: this.index.size, bytes };
  }

  garbageBytes(): number {
    return this.garbage.garbageBytes();
  }

  // ---- internals ------------------------------------------------------------

  private newestFirst(): [string, RecordingEntry][] {
    return [...this.index].reverse();
  }

  private read(id: string, entry: RecordingEntry): api.Recording {
    return this.ctx.log.reader.decodeAt(entry.location, (record) => {
      if (record.type !== RecordType.RecordingSave) throw new SeglogError("CORRUPTION", `recording ${id}: the index points at another record`);
      const recording = decodeRecording(record.body);
      if (recording.id !== id) throw new SeglogError("CORRUPTION", `recording ${id}: the index points at recording ${String(recording.id)}`);
      return recording;
    });
  }

  private applySave(id: string, location: number, bytes: number, summary: Uint8Array): void {
    const old = this.index.get(id);
    if (old !== undefined) {
      this.garbage.markDead(id, old.location, old.bytes);
      this.index.delete(id);
    }
    this.index.set(id, { location, bytes, summary });
  }

  private applyDelete(id: string, location: number, bytes: number): void {
    const old = this.index.get(id);
    if (old !== undefined) {
      this.garbage.markDead(id, old.location, old.bytes);
      this.index.delete(id);
    }
    this.garbage.addTombstone(id, location, bytes);
  }

  private applyClear(location: number, bytes: number): void {
    for (const [id, e] of this.index) this.garbage.markDead(id, e.location, e.bytes);
    this.index.clear();
    this.garbage.addTombstone(ALL, location, bytes);
  }
}
