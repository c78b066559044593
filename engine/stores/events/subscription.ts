/**
 * Iteration and subscriptions. Both read in bounded batches through the same
 * reader as readStream/readAll, so memory stays flat for any size of history.
 * A subscription catches up batch by batch, then waits on the commit signal; it
 * remembers the last position (or version) it delivered and always reads from
 * the one after, so it can neither skip nor repeat an event, across segment
 * rolls and commits that land while it is delivering.
 */
import { ITERATE_BATCH } from "../../limits.js";
import type { RecordedEvent, Subscription } from "../../types.js";
import type { CommitSignal } from "../context.js";
import type { EventReader } from "./event-reads.js";
import type { CheckedQuery, QueryReader } from "./event-query.js";
import type { CheckedRead } from "./validation.js";

export function iterate(
  read: CheckedRead,
  fetch: (r: CheckedRead) => RecordedEvent[],
  key: (e: RecordedEvent) => number,
  checkOpen: () => void,
): AsyncIterable<RecordedEvent> {
  return {
    async *[Symbol.asyncIterator]() {
      let remaining = read.count;
      let from = read.from;
      while (remaining > 0) {
        checkOpen();
        const count = Math.min(ITERATE_BATCH, remaining);
        const batch = fetch({ from, count, backward: read.backward });
        for (const e of batch) yield e;
        if (batch.length < count) return;
        remaining -= batch.length;
        const last = key(batch[batch.length - 1]!);
        if (read.backward && last === 0) return;
        from = read.backward ? last - 1 : last + 1;
      }
    },
  };
}

/** A subscription to one stream (by version), to the events of a query, or to all (by position), after `start`. */
export function subscription(
  reader: EventReader,
  queries: QueryReader,
  ctx: { signal: CommitSignal; isOpen(): boolean },
  streamId: string | undefined,
  query: CheckedQuery | undefined,
  start: number,
): EventSubscription {
  const fetch =
    streamId !== undefined
      ? (after: number) => reader.readStream(streamId, { from: after + 1, count: ITERATE_BATCH, backward: false })
      : query !== undefined
        ? (after: number) => queries.read(query, after + 1, false, ITERATE_BATCH)
        : (after: number) => reader.readAll({ from: after + 1, count: ITERATE_BATCH, backward: false });
  const key = streamId === undefined ? (e: RecordedEvent) => e.position : (e: RecordedEvent) => e.version;
  return new EventSubscription(ctx.signal, fetch, key, start, () => ctx.isOpen());
}

export class EventSubscription implements Subscription {
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly signal: CommitSignal,
    /** The next batch after a position (or stream version): of the stream, of a query, or of all. */
    private readonly fetch: (after: number) => RecordedEvent[],
    /** What `checkpoint` counts: position, or version for a stream. */
    private readonly key: (e: RecordedEvent) => number,
    /** The last position (or stream version) already seen; delivery starts after it. */
    private checkpoint: number,
    /** False once the database is closed: the subscription then ends. */
    private readonly isOpen: () => boolean,
  ) {}

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    while (!this.closed && this.isOpen()) {
      const batch = this.fetch(this.checkpoint);
      if (batch.length === 0) {
        // Registered in the same turn as the read that found nothing: no commit slips between.
        await new Promise<void>((done) => {
          this.wake = done;
          void this.signal.wait().then(done);
        });
        this.wake = undefined;
        continue;
      }
      for (const e of batch) {
        if (this.closed) return;
        this.checkpoint = this.key(e);
        yield e;
      }
    }
  }
}
