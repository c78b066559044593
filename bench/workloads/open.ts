/**
 * (h) open until the first read, (i) bytes on disk per event and (j) RSS per
 * million events, on the database the "prepare-open" step filled (1,000,000
 * events over 1,000 streams by default) and closed in another process.
 *
 * (h): RUNS times open() + the first page of the global read (one event);
 * the median is the figure, the first run (a process that has not opened the
 * database before) is kept too. The page cache is warm: the files were just
 * written, and dropping caches would disturb the other users of the machine.
 * (i): apparent bytes of every file in the directory after close, per event.
 * (j): RSS after a full GC once the first open and read are done, minus RSS
 * before it, scaled to one million events.
 */
import { diskUsage, now, round, settledHeap, settledRss } from "../measure.js";
import type { Workload, WorkloadContext, WorkloadResult } from "./workload.js";

const RUNS = 5;

export const openWorkload: Workload = {
  id: "open",
  letter: "h",
  title: "open until the first read; bytes on disk; RSS",
  durability: "sync",
  uses: "open",
  run,
};

async function run({ subject, dir, events: n }: WorkloadContext): Promise<WorkloadResult> {
  const times: number[] = [];
  const rssBefore = settledRss();
  const heapBefore = settledHeap();
  let rssAfter = 0;
  let heapAfter = 0;
  for (let r = 0; r < RUNS; r++) {
    const t = now();
    await subject.open(dir, { durability: "sync" });
    const first = await subject.readAll(undefined, 1);
    times.push(now() - t);
    if (first.events.length !== 1) throw new Error("the first read found no event");
    if (r === 0) {
      rssAfter = settledRss();
      heapAfter = settledHeap();
    }
    await subject.close();
  }
  const sorted = [...times].sort((a, b) => a - b);
  const disk = diskUsage(dir);
  const perMillion = 1e6 / n;
  return {
    events: n,
    calls: RUNS,
    seconds: times.reduce((a, b) => a + b, 0) / 1000,
    p50Ms: round(sorted[Math.floor(RUNS / 2)]!),
    p99Ms: round(sorted[RUNS - 1]!),
    maxMs: round(sorted[RUNS - 1]!),
    meanMs: round(times.reduce((a, b) => a + b, 0) / RUNS),
    extra: {
      openMedianMs: round(sorted[Math.floor(RUNS / 2)]!),
      openFirstMs: round(times[0]!),
      openMinMs: round(sorted[0]!),
      diskBytes: disk.bytes,
      diskAllocatedBytes: disk.allocatedBytes,
      diskFiles: disk.files,
      bytesPerEvent: round(disk.bytes / n, 1),
      rssBytesPerMillion: Math.round((rssAfter - rssBefore) * perMillion),
      heapBytesPerMillion: Math.round((heapAfter - heapBefore) * perMillion),
    },
  };
}
