/** Every workload of issue 6, in the order the orchestrator runs them. */
import { appendBatch } from "./append-batch.js";
import { appendConcurrent } from "./append-concurrent.js";
import { appendSingle } from "./append-single.js";
import { fill } from "./fill.js";
import { openWorkload } from "./open.js";
import { readAll } from "./read-all.js";
import { readBackward } from "./read-backward.js";
import { readForward } from "./read-forward.js";
import type { Workload } from "./workload.js";

export const WORKLOADS: readonly Workload[] = [
  appendSingle("a", "buffered"),
  appendSingle("b", "sync"),
  appendConcurrent,
  appendBatch("buffered"),
  appendBatch("sync"),
  fill("reads"),
  readForward,
  readBackward,
  readAll,
  fill("open"),
  openWorkload,
];

export function workloadById(id: string): Workload {
  const w = WORKLOADS.find((x) => x.id === id);
  if (w === undefined) throw new Error(`unknown workload ${id}; known: ${WORKLOADS.map((x) => x.id).join(", ")}`);
  return w;
}
