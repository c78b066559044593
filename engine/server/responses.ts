/**
 * What every response carries (CORS and the browser-security headers of the
 * protocol's section 10.7), and how an error becomes a status. Errors are
 * told apart by their stable `code` (or class), never by message text.
 */
import type { ServerResponse } from "node:http";
import { SeglogError } from "../errors.js";
import { ServerBusy } from "./memory-budget.js";
import { PayloadTooLarge } from "./request-body.js";
import { BadRequest, H } from "./protocol.js";

export type Headers = Record<string, string>;

const ALLOWED_HEADERS = [
  "content-type",
  "authorization",
  "if-none-match",
  H.seq,
  H.ttl,
  H.expiresAt,
  H.closed,
  H.producerId,
  H.producerEpoch,
  H.producerSeq,
  H.forkedFrom,
  H.forkOffset,
  H.forkSubOffset,
].join(", ");

const EXPOSED_HEADERS = [
  H.nextOffset,
  H.cursor,
  H.upToDate,
  H.closed,
  H.ttl,
  H.expiresAt,
  H.sseEncoding,
  H.producerEpoch,
  H.producerSeq,
  H.producerExpectedSeq,
  H.producerReceivedSeq,
  "etag",
  "location",
  "content-type",
].join(", ");

/** Set on every response before anything else, errors and preflights included. */
export function setCommonHeaders(res: ServerResponse): void {
  res.setHeader("access-control-allow-origin", "*");
  res.setHeader("access-control-allow-methods", "GET, POST, PUT, DELETE, HEAD, OPTIONS");
  res.setHeader("access-control-allow-headers", ALLOWED_HEADERS);
  res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  res.setHeader("access-control-max-age", "86400");
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("cross-origin-resource-policy", "cross-origin");
}

export function send(res: ServerResponse, status: number, headers: Headers, body?: Uint8Array | string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  // Headers set one by one and the whole body given to end(): node adds Content-Length.
  for (const name in headers) res.setHeader(name, headers[name]!);
  res.statusCode = status;
  res.end(body);
}

/**
 * Sends `length` bytes given as pieces, each written when the socket has taken
 * the last one and a turn of the event loop apart, so that one large answer
 * does not hold the server. A piece that fails to come (a damaged record)
 * before anything was sent is the caller's error to answer; after, the answer
 * is aborted: the client sees fewer bytes than Content-Length, never bad bytes.
 * `written(piece)` is called once the socket has taken a piece (its memory
 * can serve again); never for a piece whose write failed.
 */
export async function sendPieces(
  res: ServerResponse,
  status: number,
  headers: Headers,
  length: number,
  pieces: Iterable<Uint8Array>,
  written: (piece: Uint8Array) => void = () => {},
): Promise<void> {
  const iterator = pieces[Symbol.iterator]();
  let next: IteratorResult<Uint8Array>;
  try {
    next = iterator.next();
  } catch (err) {
    if (!res.headersSent) throw err;
    res.destroy(err as Error);
    return;
  }
  for (const name in headers) res.setHeader(name, headers[name]!);
  res.setHeader("content-length", String(length));
  res.statusCode = status;
  while (!next.done) {
    if (res.destroyed) return;
    const piece = next.value;
    if (!res.write(piece, (err) => err == null && written(piece))) await drained(res);
    await new Promise((turn) => setImmediate(turn));
    try {
      next = iterator.next();
    } catch (err) {
      res.destroy(err as Error);
      return;
    }
  }
  res.end();
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((done) => {
    const finish = (): void => {
      res.off("drain", finish);
      res.off("close", finish);
      done();
    };
    res.on("drain", finish);
    res.on("close", finish);
  });
}

export interface ErrorAnswer {
  status: number;
  headers: Headers;
  message: string;
}

/**
 * The status for an error of a request with `method`. A soft-deleted stream
 * (STREAM_DELETED) is 410 Gone for reads, appends and deletes, but a create of
 * that id or a fork of it is 409 Conflict: the id exists, it just cannot be used.
 */
export function answerFor(err: unknown, method: string): ErrorAnswer {
  const plain = { "content-type": "text/plain; charset=utf-8" };
  if (err instanceof BadRequest) return { status: 400, headers: plain, message: err.message };
  if (err instanceof PayloadTooLarge) return { status: 413, headers: { ...plain, connection: "close" }, message: err.message };
  if (err instanceof ServerBusy) return { status: 503, headers: { ...plain, connection: "close", "retry-after": "1" }, message: err.message };
  if (!(err instanceof SeglogError)) return { status: 500, headers: plain, message: "internal server error" };
  const status = statusOf(err, method);
  const headers: Headers = { ...plain };
  if (err.code === "WRONG_EXPECTED_VERSION" && typeof err.actual === "number") headers[H.producerEpoch] = String(err.actual);
  if (err.code === "SEQ_CONFLICT" && err.argument === "options.producer.seq") {
    headers[H.producerExpectedSeq] = String(err.expected);
    headers[H.producerReceivedSeq] = String(err.actual);
  }
  if (err.code === "STREAM_CLOSED") headers[H.closed] = "true";
  return { status, headers, message: err.message };
}

function statusOf(err: SeglogError, method: string): number {
  switch (err.code) {
    case "INVALID_ARGUMENT":
      return 400;
    case "NOT_FOUND":
    case "STREAM_NOT_FOUND":
      return 404;
    case "STREAM_DELETED":
      return method === "PUT" ? 409 : 410;
    case "ALREADY_EXISTS":
    case "STREAM_CLOSED":
    case "SEQ_CONFLICT":
      return 409;
    case "WRONG_EXPECTED_VERSION":
      return 403;
    case "TOO_LARGE":
      return 413;
    case "READ_ONLY":
      return 405;
    case "CLOSED":
    case "LOCKED":
    case "IO_ERROR":
      return 503;
    default:
      return 500;
  }
}

export function sendError(res: ServerResponse, method: string, err: unknown, extra: Headers = {}): void {
  const answer = answerFor(err, method);
  if (answer.status === 500) process.stderr.write(`seglog serve: ${method} failed: ${(err as Error)?.stack ?? String(err)}\n`);
  send(res, answer.status, { ...answer.headers, ...extra }, method === "HEAD" ? undefined : answer.message);
}
