/**
 * How many events each workload uses, in full and --quick mode. Sync runs pay
 * one fsync per call for the peers that cannot share them, so they use fewer
 * events; the doc section states every count.
 */
export interface Sizes {
  "append-single-buffered": number;
  "append-single-sync": number;
  "append-concurrent-sync": number;
  "append-batch-buffered": number;
  "append-batch-sync": number;
  /** Events in the database the reads (e, f, g) run on. */
  reads: number;
  /** Events in the database(s) (h), (i) and (j) are measured on. */
  open: number[];
}

export const FULL: Sizes = {
  "append-single-buffered": 200_000,
  "append-single-sync": 5_000,
  "append-concurrent-sync": 100_000,
  "append-batch-buffered": 200_000,
  "append-batch-sync": 200_000,
  reads: 200_000,
  open: [1_000_000],
};

export const QUICK: Sizes = {
  "append-single-buffered": 20_000,
  "append-single-sync": 500,
  "append-concurrent-sync": 2_000,
  "append-batch-buffered": 20_000,
  "append-batch-sync": 5_000,
  reads: 20_000,
  open: [100_000],
};

export function eventsFor(sizes: Sizes, workloadId: string, openSize: number): number {
  if (workloadId === "prepare-reads" || workloadId.startsWith("read-")) return sizes.reads;
  if (workloadId === "prepare-open" || workloadId === "open") return openSize;
  const n = (sizes as unknown as Record<string, number>)[workloadId];
  if (n === undefined) throw new Error(`no size for workload ${workloadId}`);
  return n;
}
