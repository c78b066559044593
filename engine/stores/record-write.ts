/**
 * How the object, cassette, recording and context stores write: one record per
 * call, sized against maxRecordBytes before anything is framed (so a rejected
 * call writes nothing), then framed and handed to the group commit. Their
 * indexes change in `apply`, which runs once the record is committed, in commit
 * order; readers therefore only ever see durable records.
 */
import { SeglogError } from "../errors.js";
import { FLAG_GROUP_END } from "../format/constants.js";
import type { StoreContext } from "./context.js";
import type { PendingKeys } from "./pending-keys.js";

export interface RecordHandlers {
  /** The record is committed at `location`; `bytes` is its whole frame. */
  apply(location: number, bytes: number): void;
  /** The record was not written (its batch failed). */
  abort(): void;
}

/**
 * Frames `head` (+ `tail`) as one record and resolves when it is committed.
 * Throws TOO_LARGE, before framing, when the record would exceed maxRecordBytes;
 * `what` names the argument in that message.
 */
export function writeRecord(
  ctx: StoreContext,
  type: number,
  head: Uint8Array,
  tail: Uint8Array | undefined,
  what: string,
  handlers: RecordHandlers,
): Promise<void> {
  checkRecordSize(ctx, head.length + (tail?.length ?? 0), what);
  const commit = ctx.commit;
  const start = commit.mark();
  if (tail === undefined) commit.frame(type, FLAG_GROUP_END, head);
  else commit.framePair(type, FLAG_GROUP_END, head, tail);
  const bytes = commit.mark() - start;
  return new Promise<void>((resolve, reject) => {
    commit.submit({
      apply: (location) => handlers.apply(location, bytes),
      abort: () => handlers.abort(),
      resolve,
      reject,
    });
  });
}

/**
 * writeRecord for a write that changes whether `key` exists: it is in the
 * writer's view (`pending`) from the moment it is framed until it commits or
 * its batch fails, so calls made before it lands decide against it.
 */
export function writeKeyed(
  ctx: StoreContext,
  pending: PendingKeys,
  key: string,
  exists: boolean,
  type: number,
  head: Uint8Array,
  tail: Uint8Array | undefined,
  what: string,
  apply: (location: number, bytes: number) => void,
): Promise<void> {
  // The write is in the writer's view before the group commit can see it; a
  // write refused before framing (TOO_LARGE, in writeRecord) leaves it below.
  let succeeded!: () => void;
  let failed!: (err: unknown) => void;
  const outcome = new Promise<void>((resolve, reject) => {
    succeeded = resolve;
    failed = reject;
  });
  // Waiting on `outcome` is optional: a put of the same content does, most writes do not.
  outcome.catch(() => undefined);
  const write = pending.begin(key, exists, outcome);
  let done: Promise<void>;
  try {
    done = writeRecord(ctx, type, head, tail, what, {
      apply: (location, bytes) => {
        pending.settle(write);
        apply(location, bytes);
      },
      abort: () => pending.settle(write),
    });
  } catch (err) {
    pending.settle(write);
    failed(err);
    throw err;
  }
  done.then(succeeded, failed);
  return done;
}

/**
 * TOO_LARGE when a record with a body of `bodyBytes` would exceed
 * maxRecordBytes. The bound is on the record (what the frame carries), not on
 * the frame's own 12-byte header.
 */
export function checkRecordSize(ctx: StoreContext, bodyBytes: number, what: string): void {
  if (bodyBytes > ctx.maxRecordBytes) {
    throw new SeglogError("TOO_LARGE", `${what} makes a record of ${bodyBytes} bytes, over maxRecordBytes ${ctx.maxRecordBytes}`, { argument: what });
  }
}
