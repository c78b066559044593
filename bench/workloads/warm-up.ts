/**
 * A short untimed run before each append loop, on streams of its own, so the
 * timed part measures steady state rather than JIT compilation and first-file
 * setup. It writes `calls` calls of `perCall` events.
 */
import { makeEvents } from "../data.js";
import type { Subject } from "../subjects/subject.js";

export async function warmUp(subject: Subject, calls: number, perCall: number): Promise<void> {
  const streams = 50;
  const versions = new Array<number>(streams).fill(-1);
  for (let c = 0; c < calls; c++) {
    const s = c % streams;
    await subject.append(`warmup-${s}`, versions[s]!, makeEvents(c * perCall, perCall));
    versions[s]! += perCall;
  }
}
