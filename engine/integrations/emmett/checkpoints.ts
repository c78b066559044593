/**
 * Emmett processor checkpoints kept in seglog itself, in the context store
 * (not in the event log, so no subscriber ever sees them): one context per
 * processor and partition, holding the global position of the last message
 * the processor handled. A write resolves once it is as durable as the
 * database's durability says ("sync": fsynced), so a processor restarted after
 * a crash resumes right after the last message whose checkpoint was stored:
 * at most that message is handled again, none is skipped.
 */
import type { AnyMessage, Checkpointer, DefaultRecord, RecordedMessage, ReadEventMetadataWithGlobalPosition } from "@event-driven-io/emmett";
import { getCheckpoint } from "@event-driven-io/emmett";
import { invalidArgument, SeglogError } from "../../errors.js";
import type { Database } from "../../types.js";
import { toNumber } from "./positions.js";

/** What the seglog consumer hands every processor call: the database holding the checkpoints. */
export interface SeglogProcessorContext extends DefaultRecord {
  seglog: Database;
}

export function checkpointContextId(processorId: string, partition = "emt:default"): string {
  return `emmett/checkpoint/${partition}/${processorId}`;
}

/** The stored checkpoint of a processor, or null when it has none yet. */
export async function readCheckpoint(db: Database, processorId: string, partition?: string): Promise<bigint | null> {
  try {
    const record = await db.contexts.getContext(checkpointContextId(processorId, partition));
    const position = record.context.position;
    if (typeof position !== "string" || !/^\d+$/.test(position)) {
      throw new SeglogError("CORRUPTION", `the checkpoint of processor ${processorId} is not a position: ${String(position)}`);
    }
    return BigInt(position);
  } catch (err) {
    if (err instanceof SeglogError && err.code === "NOT_FOUND") return null;
    throw err;
  }
}

export function seglogCheckpointer<M extends AnyMessage = AnyMessage>(): Checkpointer<M, ReadEventMetadataWithGlobalPosition, SeglogProcessorContext> {
  return {
    async read({ processorId, partition }, context) {
      return { lastCheckpoint: await readCheckpoint(databaseOf(context), processorId, partition) };
    },
    async store({ processorId, partition, message, lastCheckpoint }, context) {
      const db = databaseOf(context);
      const next = getCheckpoint(message as RecordedMessage<M, ReadEventMetadataWithGlobalPosition>) as bigint | null;
      if (next === null) return { success: false, reason: "IGNORED" };
      const stored = await readCheckpoint(db, processorId, partition);
      // Another instance of the processor moved the checkpoint: this one must not write over it.
      if (stored !== lastCheckpoint) return { success: false, reason: stored !== null && stored > next ? "CURRENT_AHEAD" : "MISMATCH" };
      if (stored !== null && stored >= next) return { success: false, reason: "IGNORED" };
      await db.contexts.setContext(checkpointContextId(processorId, partition), { position: next.toString() }, toNumber(next, "checkpoint"));
      return { success: true, newCheckpoint: next };
    },
  };
}

function databaseOf(context: Partial<SeglogProcessorContext> | undefined): Database {
  const db = context?.seglog;
  if (db === undefined) throw invalidArgument("context", "has no seglog database: run seglog processors through the seglog consumer");
  return db;
}
