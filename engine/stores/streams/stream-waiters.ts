/**
 * waitForData: readers that wait for one incarnation to change. Waiters hang
 * on their incarnation, so a commit wakes only the readers of that stream
 * (the catalog's commit* call `wakeWaiters`), not every long-poll on the server.
 *
 * Registration happens synchronously right after the caller's check found
 * nothing new, so no commit can slip between the check and the wait. A waiter
 * settles exactly once: woken (true), timed out or aborted (false), or failed
 * (the stream was deleted, the database closed).
 */
import { SeglogError } from "../../errors.js";
import type { StoreContext } from "../context.js";
import type { StreamIncarnation, Waiter } from "./stream-incarnation.js";

export class StreamWaiters {
  private readonly open = new Set<Waiter>();
  private watchingClose = false;

  constructor(private readonly ctx: StoreContext) {}

  wait(inc: StreamIncarnation, timeoutMs: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        inc.waiters.delete(waiter);
        this.open.delete(waiter);
        signal?.removeEventListener("abort", onAbort);
        settle();
      };
      const waiter: Waiter = {
        wake: () => finish(() => resolve(true)),
        fail: (err) => finish(() => reject(err)),
      };
      const onAbort = (): void => finish(() => resolve(false));
      const timer = setTimeout(() => finish(() => resolve(false)), timeoutMs);
      inc.waiters.add(waiter);
      this.open.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.watchClose();
    });
  }

  /**
   * One registration on the database's commit signal while anyone waits: when
   * the database closes, every waiter fails with CLOSED instead of hanging
   * until its timeout.
   */
  private watchClose(): void {
    if (this.watchingClose) return;
    this.watchingClose = true;
    void this.ctx.signal.wait().then(() => {
      this.watchingClose = false;
      if (!this.ctx.isOpen()) {
        const err = new SeglogError("CLOSED", "the database was closed while waiting for byte-stream data");
        for (const w of [...this.open]) w.fail(err);
        return;
      }
      if (this.open.size > 0) this.watchClose();
    });
  }
}
