/**
 * (d): 100 events per call to one stream, with the expected version, awaited
 * one after another; call k goes to stream k % 1000.
 */
import { makeEvents, STREAMS, streamIdOf } from "../data.js";
import { Latencies, now } from "../measure.js";
import type { Durability } from "../subjects/subject.js";
import { warmUp } from "./warm-up.js";
import type { Workload, WorkloadContext, WorkloadResult } from "./workload.js";

export const BATCH = 100;

export function appendBatch(durability: Durability): Workload {
  return {
    id: `append-batch-${durability}`,
    letter: "d",
    title: `append ${BATCH} events/call, ${durability}`,
    durability,
    run: (ctx) => run(ctx, durability),
  };
}

async function run({ subject, dir, events: n }: WorkloadContext, durability: Durability): Promise<WorkloadResult> {
  await subject.open(dir, { durability });
  await warmUp(subject, durability === "sync" ? 10 : 50, BATCH);
  const callCount = Math.floor(n / BATCH);
  const calls = Array.from({ length: callCount }, (_, k) => makeEvents(k * BATCH, BATCH));
  const versions = new Int32Array(STREAMS).fill(-1);
  const lat = new Latencies(callCount);
  const t0 = now();
  for (let k = 0; k < callCount; k++) {
    const s = k % STREAMS;
    const t = now();
    await subject.append(streamIdOf(s), versions[s]!, calls[k]!);
    lat.add(now() - t);
    versions[s]! += BATCH;
  }
  const seconds = (now() - t0) / 1000;
  await subject.close();
  return { events: callCount * BATCH, calls: callCount, seconds, ...lat.summary(), extra: { eventsPerCall: BATCH } };
}
