/**
 * Where a stream's bytes are: one entry per chunk (append) with the stream
 * position it starts at and the location of its record. Chunk i covers the
 * messages [firstMessage(i), firstMessage(i + 1)) and the bytes
 * [firstByte(i), firstByte(i + 1)); the last chunk ends at the tail. A fork
 * copies a prefix of its source's entries, and the last copied chunk may be cut
 * short by the fork point: the next entry (or the tail) says where it ends.
 *
 * Three numbers per chunk in typed arrays, no object per chunk.
 * Invariant: firstMessage strictly increases (every chunk holds at least one
 * message) and firstByte never decreases.
 */
import { GrowableFloat64 } from "../../index/growable.js";
import { DAMAGED } from "../../log/location.js";
import type { Position } from "./stream-offsets.js";

export interface ChunkIndexSnapshot {
  messages: Uint8Array;
  bytes: Uint8Array;
  locations: Uint8Array;
  tail: [number, number];
}

export class ChunkIndex {
  private messages = new GrowableFloat64(4);
  private bytes = new GrowableFloat64(4);
  private locations = new GrowableFloat64(4);
  /** Messages and bytes in the stream. */
  tailMessages = 0;
  tailBytes = 0;

  get count(): number {
    return this.messages.length;
  }

  get tail(): Position {
    return { messages: this.tailMessages, bytes: this.tailBytes };
  }

  firstMessage(i: number): number {
    return this.messages.get(i);
  }

  firstByte(i: number): number {
    return this.bytes.get(i);
  }

  location(i: number): number {
    return this.locations.get(i);
  }

  setLocation(i: number, location: number): void {
    this.locations.data[i] = location;
  }

  endMessage(i: number): number {
    return i + 1 < this.count ? this.messages.get(i + 1) : this.tailMessages;
  }

  endByte(i: number): number {
    return i + 1 < this.count ? this.bytes.get(i + 1) : this.tailBytes;
  }

  /**
   * Adds a chunk at the tail; `end` is the tail after it. A chunk that starts
   * past the tail means the records between were lost to damage found at open:
   * they get a DAMAGED placeholder, so reading them raises CORRUPTION instead of
   * stretching the chunk before the gap over bytes it never held.
   */
  push(start: Position, location: number, end: Position): void {
    if (start.messages > this.tailMessages && location !== DAMAGED) {
      this.messages.push(this.tailMessages);
      this.bytes.push(this.tailBytes);
      this.locations.push(DAMAGED);
    }
    this.messages.push(start.messages);
    this.bytes.push(start.bytes);
    this.locations.push(location);
    this.tailMessages = end.messages;
    this.tailBytes = end.bytes;
  }

  /** The chunk holding message `m` (< tailMessages): the last chunk starting at or before it. */
  chunkOf(m: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.messages.get(mid) <= m) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Copies the chunks of `source` before `end` (a fork); the tail becomes `end`. */
  copyPrefix(source: ChunkIndex, end: Position): void {
    for (let i = 0; i < source.count; i++) {
      const m = source.firstMessage(i);
      if (m >= end.messages) break;
      this.messages.push(m);
      this.bytes.push(source.firstByte(i));
      this.locations.push(source.location(i));
    }
    this.tailMessages = end.messages;
    this.tailBytes = end.bytes;
  }

  /** Calls `fn` with each chunk's location so it can be replaced (compaction). */
  mapLocations(fn: (location: number) => number): void {
    const data = this.locations.data;
    for (let i = 0; i < this.locations.length; i++) data[i] = fn(data[i]!);
  }

  snapshot(): ChunkIndexSnapshot {
    return {
      messages: this.messages.bytes().slice(),
      bytes: this.bytes.bytes().slice(),
      locations: this.locations.bytes().slice(),
      tail: [this.tailMessages, this.tailBytes],
    };
  }

  static restore(s: ChunkIndexSnapshot): ChunkIndex {
    const index = new ChunkIndex();
    index.messages = GrowableFloat64.fromBytes(s.messages);
    index.bytes = GrowableFloat64.fromBytes(s.bytes);
    index.locations = GrowableFloat64.fromBytes(s.locations);
    [index.tailMessages, index.tailBytes] = s.tail;
    return index;
  }
}

