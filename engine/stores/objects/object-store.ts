/**
 * db.objects: content-addressed blobs and timestamped chunk lists on the shared
 * log (record layouts in object-codec.ts).
 *
 * Owns: an index of hash → (location, record bytes, kind) for every stored
 * object, the garbage ledger of superseded copies and deletes, and the
 * writer's view of puts and deletes still in flight.
 * Concurrency: calls decide against the writer's view in call order, so a put
 * of content already stored or on its way writes nothing and waits for that
 * copy; the index (what get/has/list see) changes only when a record commits.
 * Invariant: the index holds one location per hash, the oldest live copy;
 * any other put record of that hash is dead in the ledger.
 */
import { Problems } from "../problems.js";
import { SeglogError } from "../../errors.js";
import { RecordType } from "../../format/constants.js";
import { segmentOf } from "../../log/location.js";
import { RECORD_HEADER_BYTES } from "../../limits.js";
import type * as api from "../../types.js";
import { checkBytes, checkKey } from "../arguments.js";
import type { LogStore, SegmentRelocation, StoreContext, StoreUsage } from "../context.js";
import { GarbageLedger, relocate, type LedgerSnapshot } from "../garbage-ledger.js";
import { PendingKeys } from "../pending-keys.js";
import { checkRecordSize, writeKeyed } from "../record-write.js";
import { bodyContent, bodyHash, decodeChunkList, encodeChunkList, hashBytes, HASH_BYTES, sha256, type Chunk } from "./object-codec.js";
import { checkChunks } from "./object-validation.js";

interface ObjectEntry {
  location: number;
  /** The whole frame, for garbage accounting. */
  bytes: number;
  /** A chunk list rather than a blob. */
  chunks: boolean;
}

interface ObjectsCheckpoint {
  /** [hash, location, bytes, chunks (0/1), hash, ...] */
  objects: (string | number)[];
  garbage: LedgerSnapshot;
}

export class ObjectStore implements api.ObjectStore, LogStore {
  readonly name = "objects";
  readonly recordTypes = [RecordType.ObjectBlob, RecordType.ObjectChunks, RecordType.ObjectDelete] as const;
  private readonly index = new Map<string, ObjectEntry>();
  private readonly pending = new PendingKeys();
  private readonly garbage = new GarbageLedger();

  constructor(private readonly ctx: StoreContext) {}

  // ---- writes -------------------------------------------------------------

  async put(content: Uint8Array): Promise<string> {
    this.ctx.checkWritable();
    checkBytes(content, "content");
    checkRecordSize(this.ctx, HASH_BYTES + content.length, "content");
    return this.store(RecordType.ObjectBlob, sha256(content), content, "content");
  }

  async putChunks(chunks: Chunk[]): Promise<string> {
    this.ctx.checkWritable();
    checkChunks(chunks, "chunks");
    // `encoded` lives in the encoder's buffer: it is hashed and framed before any other encode.
    const encoded = encodeChunkList(chunks);
    checkRecordSize(this.ctx, HASH_BYTES + encoded.length, "chunks");
    return this.store(RecordType.ObjectChunks, sha256(encoded), encoded, "chunks");
  }

  async delete(hash: string): Promise<void> {
    this.ctx.checkWritable();
    checkKey(hash, "hash");
    if (!this.pending.exists(hash, this.index.has(hash))) return;
    await writeKeyed(this.ctx, this.pending, hash, false, RecordType.ObjectDelete, hashBytes(hash), undefined, "hash", (location, bytes) =>
      this.applyDelete(hash, location, bytes),
    );
  }

  // ---- reads --------------------------------------------------------------

  async get(hash: string): Promise<Uint8Array> {
    this.ctx.checkOpen();
    checkKey(hash, "hash");
    const entry = this.index.get(hash);
    if (entry === undefined) throw notFound(hash);
    if (entry.chunks) throw new SeglogError("NOT_FOUND", `object ${hash} is a chunk list, not a blob: read it with getChunks()`);
    // The record body is only valid until the next read: copy the content out.
    return bodyContent(this.readBody(hash, entry)).slice();
  }

  async getChunks(hash: string): Promise<Chunk[]> {
    this.ctx.checkOpen();
    checkKey(hash, "hash");
    const entry = this.index.get(hash);
    if (entry === undefined) throw notFound(hash);
    if (!entry.chunks) throw new SeglogError("NOT_FOUND", `object ${hash} is a blob, not a chunk list: read it with get()`);
    return decodeChunkList(bodyContent(this.readBody(hash, entry)));
  }

  has(hash: string): boolean {
    this.ctx.checkOpen();
    checkKey(hash, "hash");
    return this.index.has(hash);
  }

  list(): string[] {
    this.ctx.checkOpen();
    return [...this.index.keys()].sort();
  }

  // ---- recovery, checkpoint, verify -----------------------------------------

  replay(type: number, body: Uint8Array, location: number): void {
    const hash = bodyHash(body);
    const bytes = RECORD_HEADER_BYTES + body.length;
    if (type === RecordType.ObjectDelete) this.applyDelete(hash, location, bytes);
    else this.applyPut(hash, type === RecordType.ObjectChunks, location, bytes);
  }

  recovered(): void {}

  checkpoint(): ObjectsCheckpoint {
    const objects: (string | number)[] = [];
    for (const [hash, e] of this.index) objects.push(hash, e.location, e.bytes, e.chunks ? 1 : 0);
    return { objects, garbage: this.garbage.snapshot() };
  }

  restore(section: unknown): void {
    const s = section as ObjectsCheckpoint;
    for (let i = 0; i < s.objects.length; i += 4) {
      this.index.set(s.objects[i] as string, { location: s.objects[i + 1] as number, bytes: s.objects[i + 2] as number, chunks: s.objects[i + 3] === 1 });
    }
    this.garbage.restore(s.garbage);
  }

  /** Every indexed object must read back as a record of its kind whose content hashes to its name. */
  verify(): string[] {
    const problems = new Problems();
    for (const [hash, entry] of this.index) {
      problems.check(`object ${hash}`, () => {
        if (sha256(bodyContent(this.readBody(hash, entry))).toString("hex") !== hash) problems.add(`object ${hash}: content does not hash to its name`);
      });
    }
    return problems.list;
  }

  // ---- compaction -----------------------------------------------------------

  /** Garbage is known record by record as it happens (the ledger); nothing to decide up front. */
  planCompaction(): void {}

  keep(type: number, body: Uint8Array, location: number): boolean {
    if (type === RecordType.ObjectDelete) return this.garbage.tombstoneNeeded(location);
    return this.index.get(bodyHash(body))?.location === location;
  }

  /** Dropped records carry no state: a deleted or duplicate object is simply gone. */
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
    for (const e of this.index.values()) bytes += e.bytes;
    return { objects: this.index.size, bytes };
  }

  garbageBytes(): number {
    return this.garbage.garbageBytes();
  }

  // ---- internals ------------------------------------------------------------

  /** Frames a put unless the writer's view already holds `digest`; resolves to its hex. */
  private async store(type: RecordType, digest: Buffer, content: Uint8Array, what: string): Promise<string> {
    const hash = digest.toString("hex");
    const inFlight = this.pending.pending(hash);
    if (inFlight?.exists === true) {
      // The same content is on its way: one copy, and this call succeeds only if that one does.
      await inFlight.done;
      return hash;
    }
    // Stored already. The same bytes as a blob and as a chunk list's encoding share one
    // hash; the first kind stored wins.
    if (inFlight === undefined && this.index.has(hash)) return hash;
    await writeKeyed(this.ctx, this.pending, hash, true, type, digest, content, what, (location, bytes) =>
      this.applyPut(hash, type === RecordType.ObjectChunks, location, bytes),
    );
    return hash;
  }

  private applyPut(hash: string, chunks: boolean, location: number, bytes: number): void {
    // A second copy of a stored object is dead from the start (the writer never frames
    // one, but a log written by concurrent writers of another version might hold one).
    if (this.index.has(hash)) this.garbage.markDead(hash, location, bytes);
    else this.index.set(hash, { location, bytes, chunks });
  }

  private applyDelete(hash: string, location: number, bytes: number): void {
    const entry = this.index.get(hash);
    if (entry !== undefined) {
      this.garbage.markDead(hash, entry.location, entry.bytes);
      this.index.delete(hash);
    }
    this.garbage.addTombstone(hash, location, bytes);
  }

  private readBody(hash: string, entry: ObjectEntry): Uint8Array {
    const expected = entry.chunks ? RecordType.ObjectChunks : RecordType.ObjectBlob;
    return this.ctx.log.reader.decodeAt(entry.location, (record) => {
      if (record.type !== expected || bodyHash(record.body) !== hash) {
        throw new SeglogError("CORRUPTION", `object ${hash}: the index points at another record`);
      }
      return record.body;
    });
  }
}

function notFound(hash: string): SeglogError {
  return new SeglogError("NOT_FOUND", `object ${hash} does not exist`);
}
