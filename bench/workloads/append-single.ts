/**
 * (a) and (b): one event per call, each with the stream's expected version,
 * awaited one after another; event i goes to stream i % 1000.
 */
import { makeEvents, STREAMS, streamIdOf } from "../data.js";
import { Latencies, now } from "../measure.js";
import type { Durability } from "../subjects/subject.js";
import { warmUp } from "./warm-up.js";
import type { Workload, WorkloadContext, WorkloadResult } from "./workload.js";

export function appendSingle(letter: string, durability: Durability): Workload {
  return {
    id: `append-single-${durability}`,
    letter,
    title: `append 1 event/call, awaited one by one, ${durability}`,
    durability,
    run: (ctx) => run(ctx, durability),
  };
}

async function run({ subject, dir, events: n }: WorkloadContext, durability: Durability): Promise<WorkloadResult> {
  await subject.open(dir, { durability });
  await warmUp(subject, durability === "sync" ? 50 : Math.min(2000, Math.ceil(n / 10)), 1);
  const calls = makeEvents(0, n).map((e) => [e]);
  const versions = new Int32Array(STREAMS).fill(-1);
  const lat = new Latencies(n);
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const s = i % STREAMS;
    const t = now();
    await subject.append(streamIdOf(s), versions[s]!, calls[i]!);
    lat.add(now() - t);
    versions[s]!++;
  }
  const seconds = (now() - t0) / 1000;
  await subject.close();
  return { events: n, calls: n, seconds, ...lat.summary() };
}
