/**
 * Standard output that may be a pipe closed early (`seglog dump DIR | head`):
 * the reader leaving is not a failure. Once stdout reports EPIPE, writes stop
 * and `out` says so, so a command ends its loop quietly with exit 0.
 */
let closed = false;

process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED") {
    closed = true;
    return;
  }
  throw err;
});

/** Writes `text` to stdout; false once the reader has gone (stop writing). */
export function out(text: string): boolean {
  if (closed) return false;
  process.stdout.write(text);
  return !closed;
}
