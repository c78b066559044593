/** (e): every event of each of the 1,000 streams, oldest first, one call per stream. */
import { STREAMS, streamIdOf } from "../data.js";
import { Latencies, now } from "../measure.js";
import type { Workload, WorkloadContext, WorkloadResult } from "./workload.js";

export const readForward: Workload = {
  id: "read-stream-forward",
  letter: "e",
  title: "read each stream forward (all events)",
  durability: "buffered",
  uses: "reads",
  run,
};

async function run({ subject, dir, events: n }: WorkloadContext): Promise<WorkloadResult> {
  await subject.open(dir, { durability: "buffered" });
  for (let s = 0; s < STREAMS; s += 10) await subject.readStream(streamIdOf(s)); // warm-up: every 10th stream
  const lat = new Latencies(STREAMS);
  let read = 0;
  const t0 = now();
  for (let s = 0; s < STREAMS; s++) {
    const t = now();
    const events = await subject.readStream(streamIdOf(s));
    lat.add(now() - t);
    read += events.length;
  }
  const seconds = (now() - t0) / 1000;
  await subject.close();
  if (read !== n) throw new Error(`read ${read} events, the database holds ${n}`);
  return { events: read, calls: STREAMS, seconds, ...lat.summary() };
}
