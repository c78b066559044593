/**
 * Reading a request body with a bound. A body that announces (Content-Length)
 * or turns out (chunked) to be larger than the bound is refused with
 * `PayloadTooLarge` before it is held in memory whole; the route answers 413
 * and the connection is closed, so the rest of the upload is never read.
 */
import type { IncomingMessage } from "node:http";
import { ServerBusy, type Reservation } from "./memory-budget.js";

/** Received bytes after which a large announced body is copied into one buffer of its length as it arrives. */
export const ASSEMBLE_FROM_BYTES = 256 * 1024;

/**
 * Body bytes taken in one event-loop turn before the request is paused until
 * the next. libuv reads a socket up to 32 times (64 KiB each) in one turn, and
 * each read is copied by the HTTP parser into a new buffer whose pages fault
 * in: 2 MiB of body held the loop several ms in one go.
 */
export const TURN_BYTES = 512 * 1024;

export class PayloadTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the request body is larger than ${limit} bytes`);
  }
}

/** The client disconnected before its body was complete. */
export class ClientGone extends Error {
  constructor() {
    super("the client went away before the request body was complete");
  }
}

/**
 * The body, up to `limit` bytes; every byte is reserved from the server's
 * budget before it is kept (all at once when Content-Length announces them),
 * and a body the budget cannot take is refused with `ServerBusy`.
 *
 * A large announced body is copied into one buffer of its length as it
 * arrives, so the cost of assembling it (the copy, and the page faults of a
 * large fresh allocation) is paid a chunk at a time: joining 16 MiB of chunks
 * at the end held the event loop ~35 ms in one go. That buffer is taken once
 * ASSEMBLE_FROM_BYTES have arrived, not when the headers announce the length:
 * a client that announces 15 MiB and trickles holds only what it sent. Smaller
 * bodies, and chunked ones of unknown length, are joined at the end (a body of
 * one chunk is not copied at all). `assembleIn(length)` gives the buffer to
 * assemble in (at least `length` bytes; the server's kept BodyBuffers): the
 * body returned is a view of it.
 */
export function readBody(req: IncomingMessage, limit: number, reservation: Reservation, budgetLimit: number, assembleIn: (length: number) => Buffer = Buffer.allocUnsafeSlow): Promise<Uint8Array> {
  const announced = Number(req.headers["content-length"]);
  if (Number.isFinite(announced) && announced > limit) return Promise.reject(new PayloadTooLarge(limit));
  const upFront = Number.isFinite(announced) && announced > 0 ? announced : 0;
  if (upFront > 0 && !reservation.grow(upFront)) return Promise.reject(new ServerBusy(budgetLimit));
  return new Promise<Uint8Array>((resolve, reject) => {
    let parts: Buffer[] = [];
    let whole: Buffer | undefined;
    let filled = 0;
    let size = 0;
    let turnBytes = 0;
    let nextTurn: NodeJS.Immediate | undefined;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      turnBytes += chunk.length;
      if (turnBytes >= TURN_BYTES && nextTurn === undefined) {
        req.pause();
        nextTurn = setImmediate(() => {
          nextTurn = undefined;
          turnBytes = 0;
          req.resume();
        });
      }
      if (size > limit) {
        cleanup();
        req.pause();
        reject(new PayloadTooLarge(limit));
        return;
      }
      if (size > upFront && !reservation.grow(size - Math.max(upFront, size - chunk.length))) {
        cleanup();
        req.pause();
        reject(new ServerBusy(budgetLimit));
        return;
      }
      // The parser holds a body to its Content-Length; what would pass it (never expected) is joined at the end.
      if (whole !== undefined && parts.length === 0 && filled + chunk.length <= upFront) {
        filled += chunk.copy(whole, filled);
        return;
      }
      parts.push(chunk);
      if (whole === undefined && upFront > ASSEMBLE_FROM_BYTES && size >= ASSEMBLE_FROM_BYTES && size <= upFront) {
        whole = assembleIn(upFront);
        for (const part of parts) filled += part.copy(whole, filled);
        parts = [];
      }
    };
    const onEnd = (): void => {
      cleanup();
      if (whole !== undefined) resolve(parts.length === 0 ? whole.subarray(0, filled) : Buffer.concat([whole.subarray(0, filled), ...parts], size));
      else resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      // A reset or a socket closed under the body is the client leaving, not a failure of ours.
      const code = (err as NodeJS.ErrnoException).code;
      reject(err instanceof ClientGone || code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || req.destroyed ? new ClientGone() : err);
    };
    const cleanup = (): void => {
      if (nextTurn !== undefined) clearImmediate(nextTurn);
      nextTurn = undefined;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
      req.off("close", onClose);
    };
    const onClose = (): void => {
      if (!req.complete) onError(new ClientGone());
    };
    const onAborted = (): void => onError(new ClientGone());
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
    req.on("close", onClose);
  });
}
