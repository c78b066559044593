/**
 * PUT (create, fork), POST (append, close, idempotent producers) and DELETE
 * of /v1/stream/{id}, over db.streams' `ensure`, `write` and `delete`.
 *
 * Every header is checked before the body is read and before anything is
 * written; a rejected request changes nothing. The content-type check of an
 * append runs in the store, against the same (writer's) view of the stream
 * the append goes to, so no delete and re-create of the id can slip between.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { SeglogError } from "../errors.js";
import { isJsonContentType, mediaType, prepareJsonMessages } from "../stores/streams/json-mode.js";
import type * as api from "../types.js";
import { BadRequest, H, parseExpiresAt, parseOffsetParam, parseProducer, parseStrictInteger, streamIdOfReference } from "./protocol.js";
import { send, sendError, type Headers } from "./responses.js";

export interface WriteContext {
  readonly streams: api.ByteStreamStore;
  /** The request's body: at most maxBodyBytes (larger: 413), within the server's budget for bodies held at once (beyond: 503). */
  bodyOf(req: IncomingMessage): Promise<Uint8Array>;
  /** The URL a created stream is reachable at (Location header). */
  locationOf(req: IncomingMessage): string;
}

export async function handlePut(ctx: WriteContext, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  const header = headerReader(req);
  const options = createOptions(header);
  const fork = options.fork;
  if (fork !== undefined && options.contentType !== undefined) checkForkContentType(ctx.streams, fork.from, options.contentType);
  const body = await ctx.bodyOf(req);
  if (body.length > 0) options.data = body;
  if (isJsonContentType(options.contentType ?? "")) await prepareAhead(body, "options.data");
  const { created, info } = await ctx.streams.ensure(id, options);
  const headers: Headers = { [H.contentType]: info.contentType ?? "application/octet-stream", [H.nextOffset]: info.offset };
  if (created) headers.location = ctx.locationOf(req);
  if (info.closed) headers[H.closed] = "true";
  send(res, created ? 201 : 200, headers);
}

export async function handlePost(ctx: WriteContext, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  const header = headerReader(req);
  const close = header(H.closed) === "true";
  const producer = parseProducer(header);
  const seq = header(H.seq);
  const body = await ctx.bodyOf(req);
  if (body.length === 0 && !close) throw new BadRequest("an append needs a non-empty body");
  if (isJsonContentType(header(H.contentType) ?? "")) await prepareAhead(body, "data");
  const options: api.ByteStreamWriteOptions = { close };
  if (body.length > 0) {
    const contentType = header(H.contentType);
    if (contentType === undefined || contentType.trim() === "") throw new BadRequest("an append needs a Content-Type");
    // Checked by the store against the stream the append goes to (its writer's
    // view), not the committed one: a delete and re-create framed just before
    // this append must not let it into a stream of another type.
    options.contentType = contentType;
  }
  if (seq !== undefined) options.seq = seq;
  if (producer !== undefined) options.producer = producer;
  let result: api.ByteStreamWriteResult;
  try {
    result = await ctx.streams.write(id, body.length > 0 ? body : undefined, options);
  } catch (err) {
    if (err instanceof SeglogError && err.code === "STREAM_CLOSED") {
      sendError(res, "POST", err, { [H.nextOffset]: ctx.streams.currentOffset(id) });
      return;
    }
    if (err instanceof SeglogError && err.argument === "options.contentType") {
      send(res, 409, { "content-type": "text/plain; charset=utf-8" }, err.message);
      return;
    }
    throw err;
  }
  const headers: Headers = { [H.nextOffset]: result.offset };
  if (result.closed) headers[H.closed] = "true";
  if (result.producer !== undefined) {
    headers[H.producerEpoch] = String(result.producer.epoch);
    headers[H.producerSeq] = String(result.producer.seq);
  }
  // A producer's new data is 200; a duplicate, a close alone and a plain append are 204.
  const status = producer !== undefined && !result.duplicate && body.length > 0 ? 200 : 204;
  send(res, status, headers);
}

export async function handleDelete(ctx: WriteContext, _req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  await ctx.streams.delete(id);
  send(res, 204, {});
}

function createOptions(header: (name: string) => string | undefined): api.ByteStreamCreateOptions {
  const options: api.ByteStreamCreateOptions = {};
  const contentType = header(H.contentType);
  if (contentType !== undefined && contentType.trim() !== "") options.contentType = contentType.trim();
  const ttl = header(H.ttl);
  const expiresAt = header(H.expiresAt);
  if (ttl !== undefined && expiresAt !== undefined) throw new BadRequest("Stream-TTL and Stream-Expires-At cannot both be given");
  if (ttl !== undefined) options.ttlSeconds = parseStrictInteger(ttl, "Stream-TTL");
  if (expiresAt !== undefined) options.expiresAt = parseExpiresAt(expiresAt);
  if (header(H.closed) === "true") options.closed = true;
  const from = header(H.forkedFrom);
  const forkOffset = header(H.forkOffset);
  const subOffset = header(H.forkSubOffset);
  if (from === undefined) {
    if (forkOffset !== undefined || subOffset !== undefined) throw new BadRequest("Stream-Fork-Offset and Stream-Fork-Sub-Offset need Stream-Forked-From");
    return options;
  }
  const fork: NonNullable<api.ByteStreamCreateOptions["fork"]> = { from: streamIdOfReference(from) };
  const offset = forkOffset === undefined ? undefined : parseOffsetParam([forkOffset]);
  if (offset === "now") throw new BadRequest("Stream-Fork-Offset must be an offset");
  if (offset !== undefined) fork.offset = offset;
  if (subOffset !== undefined) {
    fork.subOffset = parseStrictInteger(subOffset, "Stream-Fork-Sub-Offset");
    if (fork.subOffset > 0 && offset === undefined) throw new BadRequest("Stream-Fork-Sub-Offset needs Stream-Fork-Offset");
  }
  options.fork = fork;
  return options;
}

/** A fork must keep its source's content type (409 otherwise, as for any config clash). */
function checkForkContentType(streams: api.ByteStreamStore, from: string, contentType: string): void {
  let source: api.ByteStreamInfo;
  try {
    source = streams.getMetadata(from);
  } catch {
    return; // the create reports the missing or deleted source itself
  }
  if (mediaType(contentType) !== mediaType(source.contentType ?? "")) {
    throw new SeglogError("ALREADY_EXISTS", `a fork of ${from} must keep its content type ${source.contentType}`, { streamId: from, argument: "Content-Type" });
  }
}

/**
 * A JSON body from this size on is walked and split a slice per event-loop turn
 * before the store's write, which then takes the result instead of doing that
 * work in its own turn (4 MiB of small elements held the loop ~25 ms there).
 */
const PREPARE_AHEAD_BYTES = 256 * 1024;

async function prepareAhead(body: Uint8Array, name: string): Promise<void> {
  if (body.length >= PREPARE_AHEAD_BYTES) await prepareJsonMessages(body, name);
}

function headerReader(req: IncomingMessage): (name: string) => string | undefined {
  return (name) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
}
