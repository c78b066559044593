/**
 * The byte-stream section of the checkpoint file: every kept incarnation's
 * committed view, so that open replays only the log written after it. Like
 * every checkpoint section it is derived data (engine/index/checkpoint.ts):
 * without it, replay rebuilds the same state from the log.
 *
 * Section (msgpack map): { next, garbage, streams: [row...] }, a row being
 *   [incarnation, streamId, contentType, ttlSeconds | nil, expiresAt | nil,
 *    createdAt, fork | nil, flags, seq | nil, producers, lastAccess,
 *    ownBytes, chunks]
 *   fork = [sourceIncarnation, sourceStreamId, messages, bytes]
 *   flags: bit 0 the id currently names it, bit 1 closed, bit 2 deleted
 *   producers = [id, epoch, seq, id, epoch, seq, ...]
 *   ownBytes = [segment, bytes, ...]: its own records' bytes per segment
 *   chunks = ChunkIndexSnapshot (three float64 arrays as bytes, and the tail)
 * The last access time (sliding TTL) is only kept here: reads renew a TTL
 * without writing to the log, so after a crash a TTL counts from the last
 * checkpoint or the last logged write, whichever is later.
 */
import { ChunkIndex, type ChunkIndexSnapshot } from "./chunk-index.js";
import { isJsonContentType } from "./json-mode.js";
import type { StreamCatalog } from "./stream-catalog.js";
import type { ForkOrigin } from "./stream-codec.js";
import { StreamIncarnation } from "./stream-incarnation.js";

const NAMED = 1;
const CLOSED = 2;
const DELETED = 4;

type Row = [
  number,
  string,
  string,
  number | null,
  number | null,
  number,
  [number, string, number, number] | null,
  number,
  string | null,
  (string | number)[],
  number,
  number[],
  ChunkIndexSnapshot,
];

export interface StreamsSection {
  next: number;
  /** [segment, bytes, ...] of records that belong to no kept incarnation. */
  garbage: number[];
  streams: Row[];
}

export function snapshotCatalog(catalog: StreamCatalog): StreamsSection {
  const streams: Row[] = [];
  for (const inc of catalog.byNumber.values()) {
    const s = inc.settings;
    const f = inc.fork;
    const producers: (string | number)[] = [];
    for (const [id, p] of inc.producers) producers.push(id, p.epoch, p.seq);
    const flags = (catalog.committed.get(inc.streamId) === inc ? NAMED : 0) | (inc.closed ? CLOSED : 0) | (inc.deleted ? DELETED : 0);
    streams.push([
      inc.number,
      inc.streamId,
      s.contentType,
      s.ttlSeconds ?? null,
      s.expiresAt ?? null,
      s.createdAt,
      f === undefined ? null : [f.source, f.sourceId, f.messages, f.bytes],
      flags,
      inc.seq ?? null,
      producers,
      inc.lastAccess,
      [...inc.ownBytes].flat(),
      inc.chunks.snapshot(),
    ]);
  }
  return { next: catalog.nextNumber, garbage: [...catalog.garbage].flat(), streams };
}

export function restoreCatalog(catalog: StreamCatalog, section: StreamsSection): void {
  catalog.nextNumber = section.next;
  for (let i = 0; i < section.garbage.length; i += 2) catalog.addGarbage(section.garbage[i]!, section.garbage[i + 1]!);
  for (const row of section.streams) {
    const [number, streamId, contentType, ttl, expiresAt, createdAt, f, flags, seq, producers, lastAccess, ownBytes, chunks] = row;
    const fork: ForkOrigin | undefined = f === null ? undefined : { source: f[0], sourceId: f[1], messages: f[2], bytes: f[3] };
    const settings = { contentType, json: isJsonContentType(contentType), ttlSeconds: ttl ?? undefined, expiresAt: expiresAt ?? undefined, createdAt };
    const inc = new StreamIncarnation(number, streamId, settings, fork);
    inc.chunks = ChunkIndex.restore(chunks);
    inc.created = true;
    inc.closed = (flags & CLOSED) !== 0;
    inc.deleted = (flags & DELETED) !== 0;
    inc.seq = seq ?? undefined;
    for (let i = 0; i < producers.length; i += 3) inc.producers.set(producers[i] as string, { epoch: producers[i + 1] as number, seq: producers[i + 2] as number });
    inc.lastAccess = lastAccess;
    for (let i = 0; i < ownBytes.length; i += 2) inc.ownBytes.set(ownBytes[i]!, ownBytes[i + 1]!);
    catalog.byNumber.set(number, inc);
    if ((flags & NAMED) !== 0) catalog.committed.set(streamId, inc);
  }
  for (const inc of catalog.byNumber.values()) {
    const source = inc.fork === undefined ? undefined : catalog.byNumber.get(inc.fork.source);
    if (source === undefined) continue;
    inc.source = source;
    source.forks.add(inc);
  }
}
