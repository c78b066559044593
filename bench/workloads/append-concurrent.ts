/**
 * (c): 64 appenders at once, each awaiting its own single-event sync appends
 * one after another, so a store that commits concurrent writes together (group
 * commit) can share fsyncs. Appender w owns the streams s with s % 64 == w and
 * writes their events in the order of the workload (event i → stream i % 1000),
 * so expected versions never conflict.
 */
import { makeEvents, STREAMS, streamIdOf } from "../data.js";
import { Latencies, now } from "../measure.js";
import { warmUp } from "./warm-up.js";
import type { Workload, WorkloadContext, WorkloadResult } from "./workload.js";

export const APPENDERS = 64;

export const appendConcurrent: Workload = {
  id: "append-concurrent-sync",
  letter: "c",
  title: `${APPENDERS} concurrent appenders, 1 event/call, sync`,
  durability: "sync",
  concurrent: true,
  run,
};

async function run({ subject, dir, events: n }: WorkloadContext): Promise<WorkloadResult> {
  await subject.open(dir, { durability: "sync", concurrent: true });
  await warmUp(subject, 50, 1);
  const events = makeEvents(0, n);
  const work: number[][] = Array.from({ length: APPENDERS }, () => []);
  for (let i = 0; i < n; i++) work[(i % STREAMS) % APPENDERS]!.push(i);
  const versions = new Int32Array(STREAMS).fill(-1);
  const lat = new Latencies(n);
  const appender = async (mine: number[]) => {
    for (const i of mine) {
      const s = i % STREAMS;
      const t = now();
      await subject.append(streamIdOf(s), versions[s]!, [events[i]!]);
      lat.add(now() - t);
      versions[s]!++;
    }
  };
  const t0 = now();
  await Promise.all(work.map(appender));
  const seconds = (now() - t0) / 1000;
  await subject.close();
  return { events: n, calls: n, seconds, ...lat.summary(), extra: { appenders: APPENDERS } };
}
