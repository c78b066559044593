/**
 * GET ?live=sse: catch-up then live, as Server-Sent Events.
 *
 *   event: data        the bytes of one read (whole messages), then
 *   event: control     {"streamNextOffset", "streamCursor", "upToDate"?} — or,
 *                      at the tail of a closed stream, {"streamNextOffset",
 *                      "streamClosed": true} as the last event before the
 *                      connection ends.
 *
 * Every data event is followed by its control event. Text and JSON streams
 * send their text, one `data:` line per line of it; other content types send
 * base64 and say so in Stream-SSE-Data-Encoding (sse-encoding.ts). A large
 * event is built and written in pieces, a turn of the event loop apart. The connection ends after about a minute (clients
 * reconnect from the last streamNextOffset), when the client leaves, or when
 * the server shuts down; comments keep it alive meanwhile.
 *
 * Backpressure: the next read waits until the socket has taken the last one
 * (`drain`), so a reader that stops reading holds at most one read's worth of
 * data and its output in memory, both held against the server's memory budget:
 * a read is reserved before it is made, and one the budget cannot hold waits
 * and tries again (the first answers 503 instead); output the budget cannot
 * take ends the connection (the client reconnects from the last control
 * event's offset). Reads take their place in the server's ReadTurns, and every
 * read of a long catch-up gives the event loop a turn, so other requests keep
 * their latency.
 */
import { once } from "node:events";
import type { ServerResponse } from "node:http";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { SeglogError } from "../errors.js";
import { isJsonContentType, mediaType } from "../stores/streams/json-mode.js";
import { parseOffset, START_OFFSET } from "../stores/streams/stream-offsets.js";
import type * as api from "../types.js";
import { ServerBusy, type MemoryBudget, type Reservation } from "./memory-budget.js";
import { H, responseCursor } from "./protocol.js";
import type { ReadTurns } from "./read-turns.js";
import { dataEventPieces } from "./sse-encoding.js";

export interface SseContext {
  readonly streams: api.ByteStreamStore;
  /** Output queued for a slow reader is held against the server's budget. */
  readonly memory: MemoryBudget;
  readonly maxReadBytes: number;
  readonly readTurns: ReadTurns;
  /** How long one SSE connection lives before the server ends it. */
  readonly sseLifetimeMs: number;
  /** How often a comment is sent while nothing happens. */
  readonly sseKeepAliveMs: number;
}

export async function serveSse(ctx: SseContext, res: ServerResponse, id: string, offset: string, cursor: string | undefined, signal: AbortSignal): Promise<void> {
  const { streams } = ctx;
  const info = streams.touch(id);
  let position = offset === "now" ? info.offset : offset === "-1" ? START_OFFSET : offset;
  // What a read returns is held until its event is written, and reserved
  // before it is made, by what the stream holds after `position` (at most a
  // read's worth): a reader the budget cannot hold reads nothing — a crowd of
  // them would otherwise read and drop megabytes for the garbage collector. A
  // read that turns out larger (a message over the budget, or appends that
  // came meanwhile) is held once its size is known, or dropped and tried again.
  const held = ctx.memory.reservation();
  const readHeld = async (): Promise<StreamRead | undefined> => {
    held.release();
    const expected = expectedRead(streams.getMetadata(id).offset, position, ctx.maxReadBytes);
    if (!held.grow(expected)) return undefined;
    const turn = ctx.readTurns.admit("stream");
    if (turn !== undefined) await turn;
    const r = await streams.read(id, position, { maxBytes: ctx.maxReadBytes, of: info });
    ctx.readTurns.spent(r.data.length);
    if (r.data.length > expected) return held.grow(r.data.length - expected) ? r : undefined;
    held.shrink(expected - r.data.length);
    return r;
  };
  // The first read happens before the headers, so a bad offset is still a plain 400
  // (and a read the budget cannot hold a 503).
  // Every read is of the stream this connection started on (`of`): after a
  // delete and re-create of the id the events end instead of going on in the new one.
  let read: StreamRead;
  try {
    const first = await readHeld();
    if (first === undefined) throw new ServerBusy(ctx.memory.limit);
    read = first;
  } catch (err) {
    held.release();
    throw err;
  }
  const contentType = info.contentType ?? "application/octet-stream";
  const base64 = !(mediaType(contentType).startsWith("text/") || isJsonContentType(contentType));
  const headers: Record<string, string> = { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" };
  if (base64) headers[H.sseEncoding] = "base64";
  res.writeHead(200, headers);
  res.flushHeaders();
  const deadline = Date.now() + ctx.sseLifetimeMs;
  const queued = ctx.memory.reservation();
  let first = true;
  try {
    for (;;) {
      const fresh = read.offset !== position;
      if (fresh && !(await writeDataEvent(res, read.data, base64, queued, signal))) return;
      position = read.offset;
      if (read.closed) {
        res.write(controlEvent({ streamNextOffset: position, streamClosed: true }));
        return;
      }
      if (fresh || first) {
        const control = controlEvent({ streamNextOffset: position, streamCursor: responseCursor(cursor), ...(read.hasMore ? {} : { upToDate: true }) });
        if (!(await written(res, control, queued, signal))) return;
      }
      first = false;
      if (!read.hasMore) {
        const left = deadline - Date.now();
        if (left <= 0 || signal.aborted) return;
        const woke = await streams.waitForData(id, position, Math.min(left, ctx.sseKeepAliveMs), signal);
        if (signal.aborted || res.destroyed) return;
        if (!woke) {
          res.write(": keep-alive\n\n");
          continue;
        }
      }
      // A long catch-up reads on and on without waiting: let other requests in between.
      if (read.hasMore) await nextTurn();
      if (signal.aborted || res.destroyed) return;
      let next = await readHeld();
      // The budget is full: wait for it without holding anything, until the connection's time is up.
      while (next === undefined) {
        if (Date.now() >= deadline || signal.aborted || res.destroyed) return;
        await sleep(BUDGET_RETRY_MS);
        next = await readHeld();
      }
      read = next;
    }
  } catch (err) {
    // The stream went away (deleted, expired) or the database closed: end the events.
    if (!(err instanceof SeglogError)) throw err;
  } finally {
    held.release();
    queued.release();
    res.end();
  }
}

type StreamRead = Awaited<ReturnType<api.ByteStreamStore["read"]>>;

/**
 * The bytes a read from `position` is expected to return: the stream's bytes
 * from there to `tail`, with a separator per message and the brackets of a
 * JSON answer, at most `maxBytes`.
 */
function expectedRead(tail: string, position: string, maxBytes: number): number {
  const end = parseOffset(tail, "tail");
  const from = parseOffset(position, "offset");
  return Math.max(0, Math.min(maxBytes, end.bytes - from.bytes + (end.messages - from.messages) + 2));
}

/** How often a reader waiting for the memory budget tries again. */
const BUDGET_RETRY_MS = 200;

/** One data event, piece by piece, with a turn of the event loop between pieces. */
async function writeDataEvent(res: ServerResponse, data: Uint8Array, base64: boolean, queued: Reservation, signal: AbortSignal): Promise<boolean> {
  let first = true;
  for (const piece of dataEventPieces(data, base64)) {
    if (!first) {
      await nextTurn();
      if (signal.aborted || res.destroyed) return false;
    }
    first = false;
    if (!(await written(res, piece, queued, signal))) return false;
  }
  return true;
}

/**
 * Writes `text`; when the socket's buffer is full, holds what waits in it
 * against the budget until it drains. False when the connection is over: the
 * client left, the server shuts down, or the budget could not hold the output
 * (then the connection is cut, which frees it).
 */
async function written(res: ServerResponse, text: string | Buffer, queued: Reservation, signal: AbortSignal): Promise<boolean> {
  if (res.write(text)) return true;
  if (!queued.grow(res.writableLength)) {
    res.destroy();
    return false;
  }
  try {
    await once(res, "drain", { signal });
  } catch {
    return false; // aborted: the client left or the server shuts down
  } finally {
    queued.release();
  }
  return !res.destroyed;
}

function controlEvent(control: Record<string, unknown>): string {
  return `event: control\ndata:${JSON.stringify(control)}\n\n`;
}
