/** (g): every event in global order, in pages of 1,000 (one latency sample per page). */
import { Latencies, now } from "../measure.js";
import type { Workload, WorkloadContext, WorkloadResult } from "./workload.js";

export const PAGE = 1000;

export const readAll: Workload = {
  id: "read-all",
  letter: "g",
  title: `read all in global order (pages of ${PAGE})`,
  durability: "buffered",
  uses: "reads",
  run,
};

async function run({ subject, dir, events: n }: WorkloadContext): Promise<WorkloadResult> {
  await subject.open(dir, { durability: "buffered" });
  let warm: number | undefined;
  for (let p = 0; p < 20; p++) warm = (await subject.readAll(warm, PAGE)).next; // warm-up: the first 20 pages
  const lat = new Latencies(Math.ceil(n / PAGE) + 2);
  let read = 0;
  let calls = 0;
  let cursor: number | undefined;
  const t0 = now();
  do {
    const t = now();
    const page = await subject.readAll(cursor, PAGE);
    lat.add(now() - t);
    calls++;
    read += page.events.length;
    cursor = page.next;
  } while (cursor !== undefined);
  const seconds = (now() - t0) / 1000;
  await subject.close();
  if (read !== n) throw new Error(`read ${read} events, the database holds ${n}`);
  return { events: read, calls, seconds, ...lat.summary(), extra: { pageSize: PAGE } };
}
