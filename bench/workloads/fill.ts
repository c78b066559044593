/**
 * Prepares the database that reads (e, f, g) and the open measurement (h, i, j)
 * use: `events` events, event i in stream i % 1000, written 100 at a time with
 * appendMany (100 consecutive events = 100 different streams), buffered. The
 * layout is therefore the same as with single appends, each stream's events
 * interleaved with all the others', which is what a real log looks like.
 * Also records the writer's RSS once it holds every event (figure (j)).
 */
import { makeEvents, STREAMS, streamIdOf } from "../data.js";
import { now, settledRss } from "../measure.js";
import type { StreamWrite } from "../subjects/subject.js";
import type { Workload, WorkloadContext, WorkloadResult } from "./workload.js";

const PER_CALL = 100;

export function fill(uses: "reads" | "open"): Workload {
  return { id: `prepare-${uses}`, letter: "", title: `prepare the ${uses} database`, durability: "buffered", run };
}

async function run({ subject, dir, events: n }: WorkloadContext): Promise<WorkloadResult> {
  const rssBefore = settledRss();
  await subject.open(dir, { durability: "buffered" });
  const versions = new Int32Array(STREAMS).fill(-1);
  const t0 = now();
  for (let first = 0; first < n; first += PER_CALL) {
    const count = Math.min(PER_CALL, n - first);
    const events = makeEvents(first, count);
    const writes: StreamWrite[] = events.map((e, k) => {
      const s = (first + k) % STREAMS;
      return { streamId: streamIdOf(s), expectedVersion: versions[s]!, events: [e] };
    });
    await subject.appendMany(writes);
    for (let k = 0; k < count; k++) versions[(first + k) % STREAMS]!++;
  }
  const seconds = (now() - t0) / 1000;
  const rssAfter = settledRss();
  await subject.close();
  return {
    events: n,
    calls: Math.ceil(n / PER_CALL),
    seconds,
    p50Ms: 0,
    p99Ms: 0,
    maxMs: 0,
    meanMs: 0,
    extra: { writerRssBytes: rssAfter - rssBefore },
  };
}
