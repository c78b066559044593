/**
 * The Durable Streams HTTP protocol over db.streams, on node:http.
 *
 * Routes: OPTIONS (CORS preflight) anywhere; PUT, POST, GET, HEAD and DELETE
 * on /v1/stream/{id} (the id is the rest of the path, percent-decoded).
 * Every response carries the CORS and browser-security headers
 * (responses.ts). Each request gets an AbortSignal that fires when its client
 * goes away or the server shuts down, so long-polls and SSE never outlive
 * either.
 *
 * Shutdown (`close`): stop accepting, answer new requests on open
 * connections with 503, cut every wait short (long-polls answer 204, SSE
 * streams end), wait for the requests in flight, then drop what is left. The
 * owner closes the database afterwards.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_MAX_RECORD_BYTES } from "../limits.js";
import type * as api from "../types.js";
import { parseTarget, streamIdOfPath } from "./protocol.js";
import { handleGet, handleHead, type ReadContext } from "./read-routes.js";
import { ReadTurns } from "./read-turns.js";
import { RequestMemory } from "./request-memory.js";
import { AccessToken } from "./access-token.js";
import { KeptBuffers } from "./kept-buffers.js";
import { MemoryBudget, ServerBusy } from "./memory-budget.js";
import { ClientGone, PayloadTooLarge, readBody } from "./request-body.js";
import { send, sendError, setCommonHeaders } from "./responses.js";
import { handleDelete, handlePost, handlePut, type WriteContext } from "./write-routes.js";

export interface StreamServerOptions {
  host?: string;
  port?: number;
  /** How long a long-poll waits for data before answering 204 (default 3 s). */
  longPollMs?: number;
  /** How long one SSE connection lives (default 60 s). */
  sseLifetimeMs?: number;
  sseKeepAliveMs?: number;
  /** Bytes one read answers with at most, in whole messages (default 1 MiB). */
  maxReadBytes?: number;
  /** Largest request body (default: the database's default maxRecordBytes, 16 MiB). */
  maxBodyBytes?: number;
  /**
   * Bytes held for clients at once (default 256 MiB): request bodies being
   * received (beyond it, 503 with Retry-After) and SSE output queued for
   * readers slower than the stream (beyond it, that connection ends).
   */
  memoryBudgetBytes?: number;
  /**
   * Watch the process's resident memory (every 100 ms) and, from 75% of the
   * budget on, refuse large bodies and queued output as if the budget were
   * full: a bound on the process, not only on what the server counts. For a
   * server that has the process to itself (`seglog serve`); off by default.
   */
  watchResidentMemory?: boolean;
  /** When set, every request but a CORS preflight needs `Authorization: Bearer <token>` (401 otherwise). */
  accessToken?: string;
  /** The URL clients reach the server at (behind a proxy), for Location headers; default the address it listens on. */
  publicUrl?: string;
}

export const DEFAULT_MEMORY_BUDGET_BYTES = 256 * 1024 * 1024;
/** The share of the budget the process's resident memory may reach before the server holds back (watchResidentMemory). */
const RESIDENT_PRESSURE_SHARE = 0.75;
const RESIDENT_WATCH_MS = 100;

export const DEFAULT_PORT = 4437;
export const DEFAULT_HOST = "127.0.0.1";
const SHUTDOWN_GRACE_MS = 5000;
/** Bytes read for clients in one phase of an event-loop turn (ReadTurns): a few ms of reading. */
const READ_BYTES_PER_TURN = 1024 * 1024;

/** At most this much (and an eighth of the memory budget) is kept in idle buffers for reuse. */
const MAX_KEPT_BYTES = 32 * 1024 * 1024;

export class StreamServer implements ReadContext, WriteContext {
  readonly longPollMs: number;
  readonly sseLifetimeMs: number;
  readonly sseKeepAliveMs: number;
  readonly maxReadBytes: number;
  readonly maxBodyBytes: number;
  readonly memory: MemoryBudget;
  readonly readTurns = new ReadTurns(READ_BYTES_PER_TURN);
  private readonly memories = new WeakMap<IncomingMessage, RequestMemory>();
  private readonly kept: KeptBuffers;
  private readonly access: AccessToken | undefined;
  /** Where Location headers point: publicUrl, or the listening address once known. */
  private origin: string;
  private readonly server: Server;
  private readonly inFlight = new Set<AbortController>();
  private closing: Promise<void> | undefined;
  private residentWatch: NodeJS.Timeout | undefined;
  private idle: (() => void) | undefined;

  constructor(
    readonly streams: api.ByteStreamStore,
    private readonly options: StreamServerOptions = {},
  ) {
    this.longPollMs = options.longPollMs ?? 3000;
    this.sseLifetimeMs = options.sseLifetimeMs ?? 60_000;
    this.sseKeepAliveMs = options.sseKeepAliveMs ?? 15_000;
    this.maxReadBytes = options.maxReadBytes ?? 1024 * 1024;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.memory = new MemoryBudget(options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES);
    this.kept = new KeptBuffers(this.memory, Math.min(MAX_KEPT_BYTES, this.memory.limit / 8));
    this.access = options.accessToken === undefined ? undefined : new AccessToken(options.accessToken);
    this.origin = options.publicUrl?.replace(/\/+$/, "") ?? "";
    this.server = createServer((req, res) => void this.handle(req, res));
    // A client may end its side once its request is sent (a half-close). Node's
    // server would then drop every request not yet answered — an append that
    // waits for its fsync among them, already written — and the client would
    // never learn its outcome. Writes are answered, then the connection ends;
    // a read still ends when its client does (see handle).
    (this.server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  }

  /** Starts listening; resolves with the base URL (http://host:port). */
  listen(): Promise<string> {
    const host = this.options.host ?? DEFAULT_HOST;
    return new Promise<string>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port ?? DEFAULT_PORT, host, () => {
        this.server.off("error", reject);
        const address = this.server.address() as AddressInfo;
        const url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
        if (this.origin === "") this.origin = url;
        if (this.options.watchResidentMemory === true) this.watchResidentMemory();
        resolve(url);
      });
    });
  }

  bodyOf(req: IncomingMessage): Promise<Uint8Array> {
    const memory = this.memoryOf(req);
    return readBody(req, this.maxBodyBytes, memory.reservation, this.memory.limit, (length) => memory.bodyBuffer(length));
  }

  /** What `req` holds of the server's memory, until it is answered. */
  memoryOf(req: IncomingMessage): RequestMemory {
    let memory = this.memories.get(req);
    if (memory === undefined) this.memories.set(req, (memory = new RequestMemory(this.memory.reservation(), this.kept)));
    return memory;
  }

  /** The server's own origin, never the client's Host header (which anyone can set). */
  locationOf(req: IncomingMessage): string {
    return `${this.origin}${parseTarget(req.url ?? "/").pathname}`;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private watchResidentMemory(): void {
    const threshold = this.memory.limit * RESIDENT_PRESSURE_SHARE;
    this.residentWatch = setInterval(() => this.memory.press(process.memoryUsage.rss() > threshold), RESIDENT_WATCH_MS);
    this.residentWatch.unref();
  }

  private async shutdown(): Promise<void> {
    if (this.residentWatch !== undefined) clearInterval(this.residentWatch);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const request of this.inFlight) request.abort();
    if (this.inFlight.size > 0) {
      const drained = new Promise<void>((resolve) => (this.idle = resolve));
      await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref())]);
    }
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setCommonHeaders(res);
    const method = req.method ?? "GET";
    if (this.closing !== undefined) {
      send(res, 503, { "content-type": "text/plain; charset=utf-8", connection: "close" }, "the server is shutting down");
      return;
    }
    if (method === "OPTIONS") {
      send(res, 204, {});
      return;
    }
    if (this.access !== undefined && !this.access.admits(req.headers.authorization)) {
      // Nothing about the server or the stream: only how to authenticate.
      send(res, 401, { "www-authenticate": 'Bearer realm="seglog"', connection: "close" });
      return;
    }
    const request = new AbortController();
    this.inFlight.add(request);
    res.once("close", () => request.abort());
    if (method === "GET" || method === "HEAD") {
      // A reader whose client ended the connection is over: a long-poll or an
      // SSE stream must not wait on for nobody (node's default for every request).
      const socket = req.socket;
      const left = (): void => void res.destroy();
      socket.once("end", left);
      res.once("close", () => socket.off("end", left));
    }
    try {
      const url = parseTarget(req.url ?? "/");
      const id = streamIdOfPath(url.pathname);
      if (id === undefined) {
        send(res, 404, { "content-type": "text/plain; charset=utf-8" }, method === "HEAD" ? undefined : "not a stream path: streams live under /v1/stream/");
        return;
      }
      await this.route(method, req, res, id, url.searchParams, request.signal);
    } catch (err) {
      // The client left in the middle of its body: nobody to answer, nothing went wrong here.
      if (err instanceof ClientGone) res.destroy();
      else {
        if (err instanceof PayloadTooLarge || err instanceof ServerBusy) req.resume();
        sendError(res, method, err);
      }
    } finally {
      // A body's bytes are the request's until it is answered: the store framed
      // them during its call, which has settled.
      this.memories.get(req)?.release();
      this.inFlight.delete(request);
      if (this.inFlight.size === 0) this.idle?.();
    }
  }

  private route(method: string, req: IncomingMessage, res: ServerResponse, id: string, query: URLSearchParams, signal: AbortSignal): Promise<void> | void {
    switch (method) {
      case "GET":
        return handleGet(this, req, res, id, query, signal);
      case "HEAD":
        return handleHead(this, req, res, id);
      case "PUT":
        return handlePut(this, req, res, id);
      case "POST":
        return handlePost(this, req, res, id);
      case "DELETE":
        return handleDelete(this, req, res, id);
      default:
        send(res, 405, { allow: "GET, HEAD, PUT, POST, DELETE, OPTIONS", "content-type": "text/plain; charset=utf-8" }, `method ${method} is not supported`);
    }
  }
}
