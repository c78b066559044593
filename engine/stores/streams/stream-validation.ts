/**
 * Argument checks of db.streams. Each runs before anything is framed, so a
 * rejected call writes nothing; every failure is INVALID_ARGUMENT naming the
 * argument.
 */
import { isWellFormedText } from "../../format/codec.js";
import { invalidArgument } from "../../errors.js";
import { MAX_ID_LENGTH, MAX_TYPE_LENGTH } from "../../limits.js";
import type * as api from "../../types.js";
import type { ProducerStamp } from "./stream-codec.js";
import { parseOffset, type Position } from "./stream-offsets.js";

export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

export interface CheckedMeta {
  contentType: string | undefined;
  ttlSeconds: number | undefined;
  expiresAt: number | undefined;
}

export interface CheckedCreate extends CheckedMeta {
  /** Whether the caller passed any configuration (create with none on an existing stream is ok). */
  configured: boolean;
  data: Uint8Array | undefined;
  closed: boolean;
  fork: { from: string; offset: Position | undefined; subOffset: number } | undefined;
}

export interface CheckedWrite {
  seq: string | undefined;
  producer: ProducerStamp | undefined;
  close: boolean;
  /** The media type the data is sent as; checked against the stream the data goes to. */
  contentType?: string | undefined;
}

export function checkStreamId(value: unknown, name = "id"): string {
  if (typeof value !== "string" || value.length === 0) throw invalidArgument(name, "must be a non-empty string");
  if (value.length > MAX_ID_LENGTH) throw invalidArgument(name, `must be at most ${MAX_ID_LENGTH} characters`);
  if (!isWellFormedText(value)) throw invalidArgument(name, "must not contain a lone surrogate");
  return value;
}

export function checkCreate(options: unknown): CheckedCreate {
  const o = checkObject(options, "options");
  const meta = checkMeta(o);
  if (o.closed !== undefined && typeof o.closed !== "boolean") throw invalidArgument("options.closed", "must be a boolean");
  const data = o.data === undefined ? undefined : checkData(o.data, "options.data");
  return {
    ...meta,
    configured: options !== undefined && options !== null,
    data,
    closed: o.closed === true,
    fork: o.fork === undefined ? undefined : checkFork(o.fork),
  };
}

export function checkWrite(data: unknown, options: unknown): { data: Uint8Array | undefined; write: CheckedWrite } {
  const o = checkObject(options, "options");
  if (o.close !== undefined && typeof o.close !== "boolean") throw invalidArgument("options.close", "must be a boolean");
  if (o.seq !== undefined && (typeof o.seq !== "string" || o.seq.length > MAX_ID_LENGTH || !isWellFormedText(o.seq))) {
    throw invalidArgument("options.seq", `must be a string of at most ${MAX_ID_LENGTH} characters`);
  }
  if (o.contentType !== undefined && typeof o.contentType !== "string") throw invalidArgument("options.contentType", "must be a string");
  return {
    data: data === undefined ? undefined : checkData(data, "data"),
    write: {
      seq: o.seq as string | undefined,
      producer: o.producer === undefined ? undefined : checkProducer(o.producer),
      close: o.close === true,
      contentType: o.contentType as string | undefined,
    },
  };
}

export function checkData(value: unknown, name: string): Uint8Array {
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return value;
  throw invalidArgument(name, "must be a Uint8Array or a string");
}

export function checkCount(value: unknown, name: string): number {
  if (value === undefined) return Infinity;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) throw invalidArgument(name, "must be an integer >= 1");
  return value;
}

export function checkTimeout(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw invalidArgument(name, "must be a number of milliseconds >= 0");
  return value;
}

export function checkObject(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalidArgument(name, "must be an object");
  return value as Record<string, unknown>;
}

function checkMeta(o: Record<string, unknown>): CheckedMeta {
  const m = o as api.ByteStreamMeta;
  if (m.contentType !== undefined && (typeof m.contentType !== "string" || m.contentType.trim() === "" || m.contentType.length > MAX_TYPE_LENGTH || !isWellFormedText(m.contentType))) {
    throw invalidArgument("options.contentType", `must be a non-empty string of at most ${MAX_TYPE_LENGTH} characters`);
  }
  if (m.ttlSeconds !== undefined && !(typeof m.ttlSeconds === "number" && Number.isSafeInteger(m.ttlSeconds) && m.ttlSeconds >= 0)) {
    throw invalidArgument("options.ttlSeconds", "must be an integer >= 0");
  }
  if (m.expiresAt !== undefined && !(typeof m.expiresAt === "number" && Number.isFinite(m.expiresAt))) {
    throw invalidArgument("options.expiresAt", "must be a time in ms since the epoch");
  }
  if (m.ttlSeconds !== undefined && m.expiresAt !== undefined) throw invalidArgument("options", "takes ttlSeconds or expiresAt, not both");
  return { contentType: m.contentType, ttlSeconds: m.ttlSeconds, expiresAt: m.expiresAt };
}

function checkFork(value: unknown): NonNullable<CheckedCreate["fork"]> {
  const f = checkObject(value, "options.fork");
  const from = checkStreamId(f.from, "options.fork.from");
  const offset = f.offset === undefined ? undefined : parseOffset(f.offset, "options.fork.offset");
  let subOffset = 0;
  if (f.subOffset !== undefined) {
    if (typeof f.subOffset !== "number" || !Number.isSafeInteger(f.subOffset) || f.subOffset < 0) throw invalidArgument("options.fork.subOffset", "must be an integer >= 0");
    subOffset = f.subOffset;
  }
  if (subOffset > 0 && offset === undefined) throw invalidArgument("options.fork.subOffset", "needs options.fork.offset");
  return { from, offset, subOffset };
}

function checkProducer(value: unknown): ProducerStamp {
  const p = checkObject(value, "options.producer");
  if (typeof p.id !== "string" || p.id.length === 0 || p.id.length > MAX_ID_LENGTH || !isWellFormedText(p.id)) {
    throw invalidArgument("options.producer.id", `must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  for (const field of ["epoch", "seq"] as const) {
    const n = p[field];
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw invalidArgument(`options.producer.${field}`, "must be an integer >= 0");
  }
  return { id: p.id, epoch: p.epoch as number, seq: p.seq as number };
}
