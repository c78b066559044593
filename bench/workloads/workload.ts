/**
 * What a workload is: a timed loop over one Subject, run by bench/child.ts in a
 * process of its own. Appends start from an empty directory; reads and the open
 * measurement use a directory a "prepare" step filled in an earlier process.
 */
import type { Durability, Subject } from "../subjects/subject.js";

export interface WorkloadContext {
  subject: Subject;
  /** The database directory: empty for appends, prepared for reads and open. */
  dir: string;
  /** How many events the workload writes or (for reads) the prepared database holds. */
  events: number;
}

export interface WorkloadResult {
  /** Events written or read in the timed part. */
  events: number;
  /** Calls timed (each one latency sample). */
  calls: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Figures specific to the workload (open time, bytes on disk, RSS, ...). */
  extra?: Record<string, number | string>;
}

export interface Workload {
  id: string;
  /** The letter: a..j (prepare steps have none). */
  letter: string;
  title: string;
  durability: Durability;
  concurrent?: boolean;
  /** Which prepared database the workload needs, if any. */
  uses?: "reads" | "open";
  run(ctx: WorkloadContext): Promise<WorkloadResult>;
}
