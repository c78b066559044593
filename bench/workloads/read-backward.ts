/** (f): the last 10 events of each stream, newest first; 10 passes over the 1,000 streams. */
import { STREAMS, streamIdOf } from "../data.js";
import { Latencies, now } from "../measure.js";
import type { Workload, WorkloadContext, WorkloadResult } from "./workload.js";

export const LAST = 10;
const PASSES = 10;

export const readBackward: Workload = {
  id: "read-stream-backward",
  letter: "f",
  title: `read the last ${LAST} events of each stream backward`,
  durability: "buffered",
  uses: "reads",
  run,
};

async function run({ subject, dir, events: n }: WorkloadContext): Promise<WorkloadResult> {
  await subject.open(dir, { durability: "buffered" });
  for (let s = 0; s < STREAMS; s += 10) await subject.readStreamBackward(streamIdOf(s), LAST);
  const perStream = Math.min(LAST, Math.floor(n / STREAMS));
  const lat = new Latencies(STREAMS * PASSES);
  let read = 0;
  const t0 = now();
  for (let pass = 0; pass < PASSES; pass++) {
    for (let s = 0; s < STREAMS; s++) {
      const t = now();
      const events = await subject.readStreamBackward(streamIdOf(s), LAST);
      lat.add(now() - t);
      read += events.length;
      if (events.length !== perStream || (events.length > 1 && events[0]!.version < events[1]!.version)) {
        throw new Error(`stream ${s}: expected the last ${perStream} events newest first`);
      }
    }
  }
  const seconds = (now() - t0) / 1000;
  await subject.close();
  return { events: read, calls: STREAMS * PASSES, seconds, ...lat.summary(), extra: { passes: PASSES } };
}
