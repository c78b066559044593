/**
 * The workload's events: about 200 bytes of data each, spread round-robin over
 * 1,000 streams (event i goes to stream i % 1000). Every subject gets the same
 * objects in the same order, so every store does the same work.
 *
 * Two payloads (SEGLOG_BENCH_PAYLOAD, set by run.ts for its children):
 *   msgpack  data is an object of a few fields, encoded and decoded on every
 *            append and read by every store;
 *   bytes    data is 200 opaque bytes (a Uint8Array), what a user who keeps
 *            serialized events stores: every store writes and returns the bytes.
 */
import { packr } from "./subjects/record-codec.js";
import type { BenchEvent } from "./subjects/subject.js";

export const STREAMS = 1000;
export const EVENT_TYPE = "ItemAdded";
/** Target size of one event's msgpack-encoded `data`. */
export const DATA_BYTES = 200;

const STREAM_IDS = Array.from({ length: STREAMS }, (_, s) => `stream-${s}`);

export function streamIdOf(s: number): string {
  return STREAM_IDS[s]!;
}

const NOTE = "x".repeat(512);
// The note is sized once so that a typical event's data encodes to DATA_BYTES.
const noteLength = (() => {
  const without = packr.pack(dataOf(123456, 0)).length;
  // -1: a note of 32 or more characters has a 2-byte str8 header, the empty one a 1-byte fixstr.
  return DATA_BYTES - without - 1;
})();

/** The data of event i: a few fields that vary with i and a filler note. */
function dataOf(i: number, note: number): Record<string, unknown> {
  return {
    orderId: `order-${String(i).padStart(9, "0")}`,
    customer: `customer-${String(i % 9973).padStart(5, "0")}`,
    sku: `SKU-${(i * 7919) % 100000}-XL`,
    qty: (i % 7) + 1,
    price: 1000 + ((i * 31) % 9000),
    currency: "EUR",
    createdBy: "bench",
    note: NOTE.slice(0, note),
  };
}

export type Payload = "msgpack" | "bytes";
export const PAYLOAD: Payload = process.env.SEGLOG_BENCH_PAYLOAD === "bytes" ? "bytes" : "msgpack";

export function makeEvent(i: number): BenchEvent {
  return { type: EVENT_TYPE, data: PAYLOAD === "bytes" ? bytesOf(i) : dataOf(i, noteLength) };
}

/** 200 bytes that differ from event to event. */
function bytesOf(i: number): Uint8Array {
  const out = new Uint8Array(DATA_BYTES);
  for (let k = 0; k < DATA_BYTES; k++) out[k] = (i * 31 + k * 7) & 0xff;
  return out;
}

/** Events first..first+count-1, made before a timed loop so generation is not timed. */
export function makeEvents(first: number, count: number): BenchEvent[] {
  const out: BenchEvent[] = new Array(count);
  for (let k = 0; k < count; k++) out[k] = makeEvent(first + k);
  return out;
}

/** Bytes of one event's msgpack-encoded data. */
export function dataBytesOf(event: BenchEvent): number {
  return packr.pack(event.data).length;
}
