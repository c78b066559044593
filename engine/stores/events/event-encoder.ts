/**
 * Writes event bodies (layout in event-codec.ts) straight into the group-commit
 * batch: the envelope is written field by field as msgpack, and only the user's
 * data, metadata and tags go through msgpackr. This saves the envelope array,
 * msgpackr's generic walk over it and one copy of every body on the append path.
 * The bytes are plain msgpack, so `decodeEvent` reads them like any other body.
 */
import { encode } from "../../format/codec.js";
import { RecordType } from "../../format/constants.js";
import { RECORD_HEADER_BYTES } from "../../limits.js";
import { sealFrame } from "../../format/record.js";

/** Where frames are written in place: the group commit's batch, or a lone buffer. */
export interface FrameTarget {
  beginFrame(bodyRoom: number): number;
  room(end: number): void;
  readonly buffer: Uint8Array;
  readonly view: DataView;
  endFrame(frameAt: number, type: number, flags: number, bodyLength: number): void;
}

const NIL = 0xc0;
const encoder = new TextEncoder();

/** Bytes an envelope string may take at most: msgpack header + 3 UTF-8 bytes per UTF-16 unit. */
export function stringRoom(s: string): number {
  return 5 + 3 * s.length;
}

/**
 * Frames one event record into the group commit's batch and returns the body's
 * length. Throws what msgpackr throws for data it cannot encode; the caller
 * rolls the batch back.
 */
export function frameEvent(
  commit: FrameTarget,
  flags: number,
  position: number,
  streamId: string,
  version: number,
  timestamp: number,
  id: string,
  type: string,
  data: unknown,
  metadata: Record<string, unknown> | undefined,
  tags: string[] | undefined,
): number {
  const envelopeRoom = 1 + 4 * 9 + stringRoom(streamId) + stringRoom(id) + stringRoom(type);
  const frameAt = commit.beginFrame(envelopeRoom);
  const w = writer;
  w.start(commit.buffer, commit.view, frameAt + RECORD_HEADER_BYTES);
  w.number(position);
  w.string(streamId);
  w.number(version);
  w.number(timestamp);
  w.string(id);
  w.string(type);
  w.encoded(commit, encode(data));
  w.optional(commit, metadata);
  w.optional(commit, tags);
  const bodyLength = w.at - frameAt - RECORD_HEADER_BYTES;
  commit.endFrame(frameAt, RecordType.Event, flags, bodyLength);
  return bodyLength;
}

class EventBodyWriter {
  buf!: Uint8Array;
  view!: DataView;
  at = 0;

  start(buf: Uint8Array, view: DataView, at: number): void {
    this.buf = buf;
    this.view = view;
    this.at = at;
    buf[this.at++] = 0x99; // array of 9
  }

  /** Non-negative integers below 2^32 as msgpack uint; anything else as float64 (as msgpackr does). */
  number(n: number): void {
    const buf = this.buf;
    if (Number.isInteger(n) && n >= 0 && n < 4294967296) {
      if (n < 0x80) buf[this.at++] = n;
      else if (n < 0x100) {
        buf[this.at++] = 0xcc;
        buf[this.at++] = n;
      } else if (n < 0x10000) {
        buf[this.at++] = 0xcd;
        buf[this.at++] = n >>> 8;
        buf[this.at++] = n & 0xff;
      } else {
        buf[this.at++] = 0xce;
        this.view.setUint32(this.at, n);
        this.at += 4;
      }
      return;
    }
    buf[this.at++] = 0xcb;
    this.view.setFloat64(this.at, n);
    this.at += 8;
  }

  string(s: string): void {
    const buf = this.buf;
    const n = s.length;
    // ASCII (the common case for ids and types) is copied char by char behind a
    // header sized for its exact length; the first other char sends the whole
    // string through the UTF-8 encoder with room for 3 bytes per unit.
    let header = headerBytes(n);
    let start = this.at + header;
    let length = n;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        header = headerBytes(3 * n);
        start = this.at + header;
        length = encoder.encodeInto(s, buf.subarray(start, start + 3 * n)).written;
        break;
      }
      buf[start + i] = c;
    }
    if (header === 1) buf[this.at] = 0xa0 | length;
    else if (header === 2) {
      buf[this.at] = 0xd9;
      buf[this.at + 1] = length;
    } else if (header === 3) {
      buf[this.at] = 0xda;
      this.view.setUint16(this.at + 1, length);
    } else {
      buf[this.at] = 0xdb;
      this.view.setUint32(this.at + 1, length);
    }
    this.at = start + length;
  }

  /** Bytes msgpackr produced, copied in at once (its buffer is reused by the next encode). */
  encoded(commit: FrameTarget, bytes: Uint8Array): void {
    this.grow(commit, bytes.length);
    this.buf.set(bytes, this.at);
    this.at += bytes.length;
  }

  optional(commit: FrameTarget, v: unknown): void {
    if (v === undefined) {
      this.grow(commit, 1);
      this.buf[this.at++] = NIL;
    } else this.encoded(commit, encode(v));
  }

  private grow(commit: FrameTarget, extra: number): void {
    commit.room(this.at + extra);
    this.buf = commit.buffer;
    this.view = commit.view;
  }
}

const writer = new EventBodyWriter();

/** msgpack str header size for a string of up to `bytes` bytes. */
function headerBytes(bytes: number): number {
  return bytes < 32 ? 1 : bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5;
}

/** A FrameTarget of its own, for encoding one event outside a batch (golden tests, tools). */
class LoneFrame implements FrameTarget {
  buffer = new Uint8Array(1024);
  view = new DataView(this.buffer.buffer);
  length = 0;

  beginFrame(bodyRoom: number): number {
    this.room(RECORD_HEADER_BYTES + bodyRoom);
    return 0;
  }

  room(end: number): void {
    if (end <= this.buffer.length) return;
    const next = new Uint8Array(Math.max(end, this.buffer.length * 2));
    next.set(this.buffer);
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  endFrame(frameAt: number, type: number, flags: number, bodyLength: number): void {
    this.length = frameAt + sealFrame(this.buffer, this.view, frameAt, type, flags, bodyLength);
  }
}

/** The body `frameEvent` writes for these fields, as its own bytes. */
export function encodeEventBody(
  position: number,
  streamId: string,
  version: number,
  timestamp: number,
  id: string,
  type: string,
  data: unknown,
  metadata: Record<string, unknown> | undefined,
  tags: string[] | undefined,
): Uint8Array {
  const lone = new LoneFrame();
  const bodyLength = frameEvent(lone, 0, position, streamId, version, timestamp, id, type, data, metadata, tags);
  return lone.buffer.slice(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + bodyLength);
}
