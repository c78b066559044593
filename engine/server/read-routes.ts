/**
 * GET (catch-up and long-poll reads) and HEAD of /v1/stream/{id}. SSE lives
 * in sse.ts. Reads go through db.streams, which renews a stream's sliding TTL;
 * HEAD uses getMetadata, which does not.
 *
 * A read answers with whole messages up to `maxReadBytes` (one message larger
 * than that is sent whole) and says where to go on (Stream-Next-Offset) and
 * whether that is the tail (Stream-Up-To-Date); Stream-Closed is only set when
 * the response reaches the tail of a closed stream.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { START_OFFSET } from "../stores/streams/stream-offsets.js";
import { isJsonContentType } from "../stores/streams/json-mode.js";
import type * as api from "../types.js";
import { BadRequest, entityTag, H, parseOffsetParam, responseCursor } from "./protocol.js";
import type { RequestMemory } from "./request-memory.js";
import { send, sendPieces, type Headers } from "./responses.js";
import { serveSse, type SseContext } from "./sse.js";

export interface ReadContext extends SseContext {
  readonly streams: api.ByteStreamStore;
  /** Answers are read into the server's kept memory, held by the request (fresh pages fault in on the event loop). */
  memoryOf(req: IncomingMessage): RequestMemory;
  readonly maxReadBytes: number;
  readonly longPollMs: number;
}

/** Catch-up data may be cached by intermediaries: the bytes of a range never change. */
const CACHEABLE = "public, max-age=60, stale-while-revalidate=300";

export async function handleGet(ctx: ReadContext, req: IncomingMessage, res: ServerResponse, id: string, query: URLSearchParams, signal: AbortSignal): Promise<void> {
  const offset = parseOffsetParam(query.getAll("offset"));
  const live = query.get("live") ?? undefined;
  const cursor = query.get("cursor") ?? undefined;
  if (live !== undefined && live !== "long-poll" && live !== "sse") throw new BadRequest(`live must be long-poll or sse, got ${JSON.stringify(live)}`);
  if (live !== undefined && offset === undefined) throw new BadRequest(`live=${live} needs an offset`);
  if (live === "sse") return serveSse(ctx, res, id, offset!, cursor, signal);
  if (offset === "now" && live === undefined) return answerNow(ctx, res, id);
  // The stream this request reads: a delete and re-create of the id while it
  // waits must not hand it the new stream's bytes at an offset of the old one.
  const of = ctx.streams.touch(id);
  const start = offset === "now" ? of.offset : offset === undefined || offset === "-1" ? START_OFFSET : offset;
  const memory = ctx.memoryOf(req);
  const allocate = memory.answerBuffer;
  let read = await readInTurn(ctx, id, start, of, allocate);
  if (live === "long-poll" && read.offset === start) {
    if (!read.closed && (await ctx.streams.waitForData(id, start, ctx.longPollMs, signal))) {
      read = await readInTurn(ctx, id, start, of, allocate);
    }
    if (read.offset === start) {
      // Nothing new: the wait timed out (or was cut short), or the stream is closed.
      const headers: Headers = { [H.nextOffset]: start, [H.upToDate]: "true", [H.cursor]: responseCursor(cursor), "cache-control": "no-store" };
      if (read.closed) headers[H.closed] = "true";
      send(res, 204, headers);
      return;
    }
  }
  const info = ctx.streams.getMetadata(id);
  const headers: Headers = { [H.contentType]: info.contentType ?? "application/octet-stream", [H.nextOffset]: read.offset };
  if (!read.hasMore) headers[H.upToDate] = "true";
  if (read.closed) headers[H.closed] = "true";
  if (live === "long-poll") headers[H.cursor] = responseCursor(cursor);
  headers.etag = entityTag(id, info.createdAt, start, read.offset, read.closed);
  headers["cache-control"] = read.offset === start ? "no-store" : CACHEABLE;
  if (live === undefined && req.headers["if-none-match"] === headers.etag) {
    send(res, 304, { etag: headers.etag, "cache-control": headers["cache-control"] });
    return;
  }
  // An answer of one message larger than the read budget comes in pieces, a turn apart.
  if (Array.isArray(read.pieces)) {
    const answer = read.pieces[0] as Uint8Array;
    res.once("finish", () => memory.written(answer));
    send(res, 200, headers, answer);
  } else await sendPieces(res, 200, headers, read.length, read.pieces, (piece) => memory.written(piece));
}

/** A read in its place among the server's ReadTurns (what it counts: its first piece at most). */
async function readInTurn(ctx: ReadContext, id: string, start: string, of: api.ByteStreamInfo, allocate: (length: number) => Uint8Array): ReturnType<api.ByteStreamStore["readInPieces"]> {
  const turn = ctx.readTurns.admit();
  if (turn !== undefined) await turn;
  const read = await ctx.streams.readInPieces(id, start, { maxBytes: ctx.maxReadBytes, of, allocate });
  ctx.readTurns.spent(Math.min(read.length, ctx.maxReadBytes));
  return read;
}

export function handleHead(ctx: ReadContext, _req: IncomingMessage, res: ServerResponse, id: string): void {
  const info = ctx.streams.getMetadata(id);
  const headers: Headers = {
    [H.contentType]: info.contentType ?? "application/octet-stream",
    [H.nextOffset]: info.offset,
    "cache-control": "no-store",
  };
  if (info.closed) headers[H.closed] = "true";
  if (info.ttlSeconds !== undefined) headers[H.ttl] = String(info.ttlSeconds);
  if (info.expiresAt !== undefined) headers[H.expiresAt] = new Date(info.expiresAt).toISOString();
  send(res, 200, headers);
}

/** offset=now without live: no data, only where the tail is (and a renewed TTL). */
function answerNow(ctx: ReadContext, res: ServerResponse, id: string): void {
  const info = ctx.streams.touch(id);
  const contentType = info.contentType ?? "application/octet-stream";
  const headers: Headers = { [H.contentType]: contentType, [H.nextOffset]: info.offset, [H.upToDate]: "true", "cache-control": "no-store" };
  if (info.closed) headers[H.closed] = "true";
  send(res, 200, headers, isJsonContentType(contentType) ? "[]" : "");
}
