/**
 * The writer's view of each context's deltas: the committed ones, changed by
 * the delta writes that are framed but not committed yet, in call order.
 * deleteDeltasExceedingThreshold resolves "keep the newest n" against this
 * view, so that deltas set by earlier calls the caller did not wait for count,
 * and the delete methods skip writing when nothing would match.
 *
 * Each framed write is listed under its context until it settles (commit or
 * abort). A failed batch aborts every queued write, so after a failure the
 * view falls back to what is committed.
 */
import { dropMatches, type DeltaDrop } from "./context-codec.js";
import type { Stored } from "./context-index.js";

export type PendingDelta = { set: { version: number; insertedAt: number } } | { drop: DeltaDrop };

export class PendingDeltas {
  private readonly byContext = new Map<string, PendingDelta[]>();

  add(contextId: string, write: PendingDelta): void {
    let list = this.byContext.get(contextId);
    if (list === undefined) this.byContext.set(contextId, (list = []));
    list.push(write);
  }

  settle(contextId: string, write: PendingDelta): void {
    const list = this.byContext.get(contextId);
    if (list === undefined) return;
    const at = list.indexOf(write);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.byContext.delete(contextId);
  }

  /** version → insertedAt of the context's deltas once every framed write lands. */
  view(contextId: string, committed: Map<number, Stored> | undefined): Map<number, number> {
    const view = new Map<number, number>();
    if (committed !== undefined) for (const [version, s] of committed) view.set(version, s.insertedAt);
    for (const write of this.byContext.get(contextId) ?? []) {
      if ("set" in write) {
        view.set(write.set.version, write.set.insertedAt);
        continue;
      }
      for (const [version, insertedAt] of view) if (dropMatches(write.drop.rule, write.drop.arg, version, insertedAt)) view.delete(version);
    }
    return view;
  }
}
