/**
 * Idempotent producers (Kafka style): a producer names itself with an id,
 * declares an epoch (raised on each restart) and numbers its appends 0, 1, 2,
 * ... within the epoch. The stream keeps, per producer id, the epoch and the
 * highest sequence number accepted, written in the same record as the data
 * (stream-codec.ts), so the dedup state is exactly as durable as the appends
 * it describes and survives restarts and compaction.
 *
 *   no state yet:        seq 0 → accept; else gap (expected 0)
 *   epoch < state.epoch: stale (the caller is a fenced zombie)
 *   epoch > state.epoch: seq 0 → accept (new epoch); else invalid
 *   same epoch:          seq <= last → duplicate; last + 1 → accept; else gap
 */
import { SeglogError } from "../../errors.js";
import type { ProducerStamp } from "./stream-codec.js";
import type { ProducerState } from "./stream-incarnation.js";

export type ProducerVerdict =
  | { kind: "accept" }
  | { kind: "duplicate"; lastSeq: number }
  | { kind: "stale"; currentEpoch: number }
  | { kind: "new-epoch-not-at-zero" }
  | { kind: "gap"; expectedSeq: number };

export function judgeProducer(state: ProducerState | undefined, p: ProducerStamp): ProducerVerdict {
  if (state === undefined) return p.seq === 0 ? { kind: "accept" } : { kind: "gap", expectedSeq: 0 };
  if (p.epoch < state.epoch) return { kind: "stale", currentEpoch: state.epoch };
  if (p.epoch > state.epoch) return p.seq === 0 ? { kind: "accept" } : { kind: "new-epoch-not-at-zero" };
  if (p.seq <= state.seq) return { kind: "duplicate", lastSeq: state.seq };
  if (p.seq === state.seq + 1) return { kind: "accept" };
  return { kind: "gap", expectedSeq: state.seq + 1 };
}

/**
 * The error for a verdict that rejects the append. The codes are the stable
 * ones of docs/api.md; the fields carry the protocol's numbers:
 *   stale epoch → WRONG_EXPECTED_VERSION, expected = the epoch sent, actual = the current epoch
 *   sequence gap → SEQ_CONFLICT, expected = the next sequence number, actual = the one sent
 *   new epoch not starting at 0 → INVALID_ARGUMENT naming options.producer.seq
 */
export function producerError(streamId: string, p: ProducerStamp, verdict: ProducerVerdict): SeglogError | undefined {
  switch (verdict.kind) {
    case "stale":
      return new SeglogError(
        "WRONG_EXPECTED_VERSION",
        `byte stream ${streamId}: producer ${p.id} epoch ${p.epoch} is stale, the current epoch is ${verdict.currentEpoch}`,
        { streamId, expected: p.epoch, actual: verdict.currentEpoch, argument: "options.producer.epoch" },
      );
    case "gap":
      return new SeglogError(
        "SEQ_CONFLICT",
        `byte stream ${streamId}: producer ${p.id} sent seq ${p.seq}, expected ${verdict.expectedSeq}`,
        { streamId, expected: verdict.expectedSeq, actual: p.seq, argument: "options.producer.seq" },
      );
    case "new-epoch-not-at-zero":
      return new SeglogError(
        "INVALID_ARGUMENT",
        `options.producer.seq must be 0 when a new epoch starts (producer ${p.id}, epoch ${p.epoch}, seq ${p.seq})`,
        { streamId, argument: "options.producer.seq" },
      );
    default:
      return undefined;
  }
}
