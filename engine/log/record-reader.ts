/**
 * Random-access reads of single records by location, through a cache of 4 KiB
 * blocks. Reading one stream touches records spread over the whole log, and the
 * streams read next touch the same blocks (their events were appended side by
 * side), so a block read once serves many records: a stream-by-stream pass
 * costs about one read per block, not one per event.
 *
 * A block never holds bytes past its segment's committedEnd at the time it was
 * read, so it can never hold part of a record still being written; a record
 * beyond a cached block's end makes the block be read again. Blocks remember the
 * Segment they came from: a segment swapped by compaction is a new object, so
 * its old blocks are never used again.
 */
import { corruption, SeglogError } from "../errors.js";
import { examineFrame, FrameStatus, newFrameView, type FrameView } from "../format/record.js";
import { READ_CACHE_BLOCKS, RECORD_HEADER_BYTES } from "../limits.js";
import { DAMAGED, offsetOf, segmentOf } from "./location.js";
import type { Segment } from "./segment.js";

export interface RecordView {
  type: number;
  body: Uint8Array;
}

const BLOCK_BYTES = 4096;
/** Records up to this long that cross a block boundary are put together from cached blocks. */
const STITCH_BYTES = 4 * BLOCK_BYTES;
/** Block keys: segment number * 2^20 + block index (segments stay below 4 GiB). */
const BLOCKS_PER_SEGMENT = 2 ** 20;

interface Block {
  segment: Segment;
  data: Uint8Array;
  view: DataView;
  length: number;
  /** Used since eviction last passed it (CLOCK: a hit only sets this, instead of reordering the map). */
  referenced: boolean;
}

export class RecordReader {
  private readonly blocks = new Map<number, Block>();
  /** For records that do not fit in one block. */
  private large = new Uint8Array(BLOCK_BYTES * 2);
  private largeView = new DataView(this.large.buffer);
  private readonly frame: FrameView = newFrameView();
  private readonly result: RecordView = { type: 0, body: this.large };

  constructor(
    private readonly segmentFor: (segmentNumber: number) => Segment,
    private readonly maxBody: number,
    private readonly capacity = READ_CACHE_BLOCKS,
  ) {}

  /** Reads the record at `location`; its body is valid until the next read. Throws CORRUPTION. */
  read(location: number): RecordView {
    const segment = location === DAMAGED ? undefined : this.segmentFor(segmentOf(location));
    if (segment === undefined) throw new SeglogError("CORRUPTION", "record lost to damage found when the log was opened (see verify())");
    const offset = offsetOf(location);
    const rel = offset % BLOCK_BYTES;
    let knownLength = 0;
    if (rel + RECORD_HEADER_BYTES <= BLOCK_BYTES) {
      let block = this.block(segment, offset - rel, rel + RECORD_HEADER_BYTES);
      const frameEnd = rel + RECORD_HEADER_BYTES + block.view.getUint32(rel, true);
      if (frameEnd <= BLOCK_BYTES) {
        if (frameEnd > block.length) block = this.block(segment, offset - rel, frameEnd);
        return this.accept(segment, offset, examineFrame(block.data, block.view, rel, block.length, this.maxBody, this.frame), block.data);
      }
      knownLength = frameEnd - rel;
      if (knownLength <= STITCH_BYTES) return this.readStitched(segment, offset, knownLength);
    }
    return this.readLarge(segment, offset, knownLength);
  }

  /**
   * Reads the record at `location` and decodes it with `decode`. A body whose
   * checksum matched but which does not decode (or an index pointing at the
   * wrong record) is CORRUPTION naming the segment file and offset.
   */
  decodeAt<T>(location: number, decode: (record: RecordView) => T): T {
    const record = this.read(location);
    try {
      return decode(record);
    } catch (err) {
      if (err instanceof SeglogError && err.code === "CORRUPTION" && err.file === undefined) throw this.located(location, err);
      throw err;
    }
  }

  /** The same problem, said with the file and offset where it lies. */
  private located(location: number, err: SeglogError): SeglogError {
    const segment = location === DAMAGED ? undefined : this.segmentFor(segmentOf(location));
    if (segment === undefined) return err;
    const cause = (err as { cause?: unknown }).cause;
    return new SeglogError("CORRUPTION", `${err.message} in ${segment.path} at offset ${offsetOf(location)}`, { file: segment.path, offset: offsetOf(location), cause: cause ?? err });
  }

  /** Bytes of the whole frame at `location` (header + body). */
  frameLength(location: number): number {
    return this.read(location).body.length + RECORD_HEADER_BYTES;
  }

  /** Drops every cached block (after a segment was truncated or swapped). */
  invalidate(): void {
    this.blocks.clear();
  }

  private accept(segment: Segment, offset: number, frame: FrameView, buf: Uint8Array): RecordView {
    if (frame.status !== FrameStatus.Ok) throw corruption(segment.path, offset, "record checksum or frame check failed");
    this.result.type = frame.type;
    this.result.body = buf.subarray(frame.bodyStart, frame.bodyStart + frame.bodyLength);
    return this.result;
  }

  /** The cached block at `start`, holding at least `need` bytes when the segment has them. */
  private block(segment: Segment, start: number, need: number): Block {
    const key = segment.number * BLOCKS_PER_SEGMENT + start / BLOCK_BYTES;
    let block = this.blocks.get(key);
    if (block !== undefined && block.segment === segment && (block.length >= need || start + block.length >= segment.committedEnd)) {
      block.referenced = true;
      return block;
    }
    if (block === undefined) {
      block = this.blocks.size >= this.capacity ? this.evict() : newBlock(segment);
    } else this.blocks.delete(key);
    block.segment = segment;
    block.referenced = false;
    const length = Math.max(0, Math.min(BLOCK_BYTES, segment.committedEnd - start));
    block.length = length > 0 ? segment.read(block.data, 0, length, start) : 0;
    this.blocks.set(key, block);
    return block;
  }

  /**
   * The oldest block not used since the last pass (second chance): a block
   * used meanwhile moves to the newest end with its mark cleared. Map keeps
   * insertion order, so "oldest" is the first key; the loop ends because every
   * pass clears a mark.
   */
  private evict(): Block {
    for (;;) {
      const [key, block] = this.blocks.entries().next().value as [number, Block];
      this.blocks.delete(key);
      if (!block.referenced) return block;
      block.referenced = false;
      this.blocks.set(key, block);
    }
  }

  /**
   * A small record that crosses a block boundary (one in fifteen of 270-byte
   * events): copied together from the cached blocks it spans, which readers of
   * the neighbouring records load anyway, instead of a read of its own.
   */
  private readStitched(segment: Segment, offset: number, length: number): RecordView {
    this.largeRoom(length);
    let copied = 0;
    while (copied < length) {
      const at = offset + copied;
      const rel = at % BLOCK_BYTES;
      const block = this.block(segment, at - rel, Math.min(BLOCK_BYTES, rel + length - copied));
      const n = Math.min(block.length - rel, length - copied);
      // The segment ends first: what was copied is a torn frame, and examineFrame says so.
      if (n <= 0) break;
      this.large.set(block.data.subarray(rel, rel + n), copied);
      copied += n;
    }
    return this.accept(segment, offset, examineFrame(this.large, this.largeView, 0, copied, this.maxBody, this.frame), this.large);
  }

  /**
   * A record that crosses a block boundary: read it whole, past the cache.
   * `knownLength` is its frame length when the header was already read (0 if not).
   */
  private readLarge(segment: Segment, offset: number, knownLength: number): RecordView {
    const available = Math.max(0, segment.committedEnd - offset);
    let want = Math.min(available, knownLength > 0 && knownLength <= this.maxBody + RECORD_HEADER_BYTES ? knownLength : BLOCK_BYTES * 2);
    for (;;) {
      this.largeRoom(want);
      const got = want > 0 ? segment.read(this.large, 0, want, offset) : 0;
      const frame = examineFrame(this.large, this.largeView, 0, got, this.maxBody, this.frame);
      // Read again only when the header asks for more than was read and the segment has it.
      if (frame.status === FrameStatus.Torn && frame.frameLength > got && frame.frameLength <= available && got === want) {
        want = frame.frameLength;
        continue;
      }
      return this.accept(segment, offset, frame, this.large);
    }
  }

  private largeRoom(bytes: number): void {
    if (bytes <= this.large.length) return;
    this.large = new Uint8Array(Math.max(bytes, this.large.length * 2));
    this.largeView = new DataView(this.large.buffer);
  }
}


function newBlock(segment: Segment): Block {
  const data = new Uint8Array(BLOCK_BYTES);
  return { segment, data, view: new DataView(data.buffer), length: 0, referenced: false };
}
