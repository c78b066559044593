/**
 * The msgpack codec the peer adapters share, configured like seglog's own
 * (engine/format/codec.ts: no records, no shared structures), so each store
 * pays the same encoding cost for the same bytes.
 *
 * The event record written by the plain file and stored as the LMDB value:
 *   msgpack array [streamId, version, timestamp, id, type, data]
 * It is the least a log must keep of an event (the position is implied by its
 * place in the file, or by the LMDB key).
 */
import { Packr, Unpackr } from "msgpackr";
import type { BenchEvent, ReadEvent } from "./subject.js";

export const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
export const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: true, copyBuffers: true });

/** Encodes into msgpackr's shared buffer: valid until the next encode, so copy or use it at once. */
export function encodeRecord(streamId: string, version: number, timestamp: number, id: string, event: BenchEvent): Uint8Array {
  return packr.pack([streamId, version, timestamp, id, event.type, event.data]);
}

export function decodeRecord(bytes: Uint8Array, position: number): ReadEvent {
  return fromFields(unpackr.unpack(bytes) as unknown[], position);
}

export function fromFields(f: unknown[], position: number): ReadEvent {
  return {
    id: f[3] as string,
    streamId: f[0] as string,
    version: f[1] as number,
    position,
    type: f[4] as string,
    data: f[5],
    metadata: {},
    timestamp: f[2] as number,
  };
}
