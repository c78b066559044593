/**
 * Model-based random testing of db.events: appends (every expected-version form),
 * appendMany, soft and hard deletes, truncation, count retention, compaction,
 * reopen and crashes at random writes, against EventModel.
 * Replay one sequence: SEGLOG_MODEL_SEED=<seed> npm test -- test/model
 */
import { SeglogError } from "../../engine/index.js";
import type { Database } from "../../engine/index.js";
import { drawSize, patternBytes } from "../support/size-classes.js";
import { EventModel, type Expected, type ModelEvent } from "./event-model.js";
import { group, modelSeeds, runSequence, type ModelSpec, type Step } from "./model-runner.js";

const STREAMS = ["a", "b", "c", "d"];
/** The runner opens with maxRecordBytes 2048 and 4 KiB segments; an event's envelope takes well under 400 bytes. */
const LIMITS = { maxPayload: 2048 - 400, segmentBytes: 4096 };
let nextId = 0;

/**
 * A group of calls issued at once: appends of every size class (some with
 * ids), retries of appends earlier in the group (whole and partial), calls
 * that must fail among them (an empty type, a record over the limit, a wrong
 * expected version), appendMany, deletes, truncation and retention.
 */
function randomGroup(r: () => number, model: EventModel): Step<EventModel> {
  const int = (n: number) => Math.floor(r() * n);
  const size = int(5) === 0 ? 20 + int(40) : 2 + int(10);
  const parts: Step<EventModel>[] = [];
  const sent: { stream: string; events: ModelEvent[] }[] = [];
  const appendStep = (stream: string, events: ModelEvent[], e: Expected, label: string): Step<EventModel> => ({
    describe: `${label} ${stream} x${events.length}${events.some((x) => x.tooLarge) ? " too large" : ""}${events.some((x) => x.badType) ? " bad type" : ""} expected ${String(e)}`,
    predict: (m) => m.appendEvents([{ streamId: stream, events, expected: e }]),
    run: (db) => db.events.append(stream, events.map((x) => ({ id: x.id, type: x.badType ? "" : "T", data: x.data })), { expectedVersion: e }),
  });
  for (let k = 0; k < size; k++) {
    const stream = STREAMS[int(STREAMS.length)]!;
    const v = model.stream(stream).version;
    const choices: Expected[] = ["any", "no_stream", "stream_exists", v, v + 1 + int(3), -1];
    const e = choices[int(choices.length)]!;
    const kind = int(20);
    if (kind < 10) {
      const withIds = int(2) === 0;
      const events: ModelEvent[] = Array.from({ length: 1 + int(3) }, () => ({
        data: patternBytes(drawSize(r, LIMITS), int(2 ** 31)),
        id: withIds ? `g${nextId++}` : undefined,
      }));
      sent.push({ stream, events });
      parts.push(appendStep(stream, events, e, "append"));
    } else if (kind < 13 && sent.length > 0) {
      const original = sent[int(sent.length)]!;
      const events = int(4) === 0 ? [...original.events, { data: 1, id: `g${nextId++}` }] : original.events;
      parts.push(appendStep(original.stream, events, int(2) === 0 ? "any" : e, events === original.events ? "retry" : "partial retry"));
    } else if (kind < 15) {
      const bad: ModelEvent = int(2) === 0 ? { data: patternBytes(2048 + 100, 1), tooLarge: true } : { data: 1, badType: true };
      parts.push(appendStep(stream, [{ data: patternBytes(drawSize(r, LIMITS), 2) }, bad], e, "failing append"));
    } else if (kind < 17) {
      const other = STREAMS[(STREAMS.indexOf(stream) + 1 + int(STREAMS.length - 1)) % STREAMS.length]!;
      const items = [stream, other].map((sid, n) => ({
        streamId: sid,
        events: [{ data: patternBytes(drawSize(r, LIMITS), int(2 ** 31)), tooLarge: n === 1 && int(5) === 0 ? true : undefined } as ModelEvent],
        expected: (int(3) === 0 ? model.stream(sid).version : "any") as Expected,
      }));
      for (const it of items) if (it.events[0]!.tooLarge) it.events[0]!.data = patternBytes(2048 + 100, 3);
      parts.push({
        describe: `appendMany ${items.map((i) => `${i.streamId}@${String(i.expected)}${i.events[0]!.tooLarge ? " too large" : ""}`).join(",")}`,
        predict: (m) => m.appendEvents(items),
        run: (db) => db.events.appendMany(items.map((i) => ({ streamId: i.streamId, events: i.events.map((x) => ({ type: "T", data: x.data })), expectedVersion: i.expected }))),
      });
    } else if (kind === 17) {
      const hard = int(6) === 0;
      parts.push({ describe: `delete ${stream}${hard ? " hard" : ""}`, predict: (m) => m.delete(stream, hard), run: (db) => db.events.deleteStream(stream, { hard }) });
    } else if (kind === 18) {
      const before = int(v + 3);
      parts.push({ describe: `truncate ${stream} ${before}`, predict: (m) => m.truncate(stream, before), run: (db) => db.events.truncateStream(stream, before) });
    } else {
      const maxCount = int(6);
      parts.push({ describe: `retain ${stream} ${maxCount}`, predict: (m) => m.retain(stream, maxCount), run: (db) => db.events.setStreamRetention(stream, { maxCount }) });
    }
  }
  return group(parts);
}

export function randomEventStep(r: () => number, model: EventModel): Step<EventModel> {
  const int = (n: number) => Math.floor(r() * n);
  const stream = STREAMS[int(STREAMS.length)]!;
  const expected = (): Expected => {
    const v = model.stream(stream).version;
    const pick = int(6);
    return pick === 0 ? "any" : pick === 1 ? "no_stream" : pick === 2 ? "stream_exists" : pick === 3 ? Math.max(-1, v + int(3) - 1) : v;
  };
  const kind = int(20);
  if (kind < 4) return randomGroup(r, model);
  if (kind < 9) {
    const e = expected();
    const data = Array.from({ length: 1 + int(3) }, () => ({ n: int(1_000_000), pad: "x".repeat(int(120)) }));
    return {
      describe: `append ${stream} x${data.length} expected ${String(e)}`,
      predict: (m) => m.append([{ streamId: stream, data, expected: e }]),
      run: (db) => db.events.append(stream, data.map((d) => ({ type: "T", data: d })), { expectedVersion: e }),
    };
  }
  if (kind < 11) {
    const other = STREAMS[(STREAMS.indexOf(stream) + 1 + int(STREAMS.length - 1)) % STREAMS.length]!;
    const items = [stream, other].map((s) => ({ streamId: s, data: [{ n: int(1000) }], expected: (int(3) === 0 ? model.stream(s).version + 1 : "any") as Expected }));
    return {
      describe: `appendMany ${items.map((i) => `${i.streamId}@${String(i.expected)}`).join(",")}`,
      predict: (m) => m.append(items),
      run: (db) => db.events.appendMany(items.map((i) => ({ streamId: i.streamId, events: i.data.map((d) => ({ type: "T", data: d })), expectedVersion: i.expected }))),
    };
  }
  if (kind === 11) {
    const hard = int(4) === 0;
    return { describe: `delete ${stream}${hard ? " hard" : ""}`, predict: (m) => m.delete(stream, hard), run: (db) => db.events.deleteStream(stream, { hard }) };
  }
  if (kind === 12) {
    const before = int(model.stream(stream).version + 3);
    return { describe: `truncate ${stream} ${before}`, predict: (m) => m.truncate(stream, before), run: (db) => db.events.truncateStream(stream, before) };
  }
  if (kind === 13) {
    const maxCount = int(6);
    return { describe: `retain ${stream} ${maxCount}`, predict: (m) => m.retain(stream, maxCount), run: (db) => db.events.setStreamRetention(stream, { maxCount }) };
  }
  if (kind < 16) return { describe: "compact", predict: (m) => m.compacted(), run: (db) => db.compact() };
  return { describe: "reopen", predict: () => undefined, run: undefined };
}

export async function eventDisagreement(db: Database, model: EventModel): Promise<string | undefined> {
  const expectedList = STREAMS.filter((s) => model.exists(s)).sort();
  const list = db.events.listStreams();
  if (JSON.stringify(list) !== JSON.stringify(expectedList)) return `listStreams ${JSON.stringify(list)} != ${JSON.stringify(expectedList)}`;
  const visibleAll: string[] = [];
  for (const s of STREAMS) {
    const m = model.stream(s);
    if (db.events.streamVersion(s) !== m.version) return `streamVersion(${s}) ${db.events.streamVersion(s)} != ${m.version}`;
    if (db.events.streamExists(s) !== model.exists(s)) return `streamExists(${s}) differs`;
    if (m.state === "hard") {
      const err = await db.events.readStream(s).then(() => undefined, (e: unknown) => e);
      if (!(err instanceof SeglogError) || err.code !== "STREAM_DELETED") return `readStream(${s}) of a hard-deleted stream did not reject STREAM_DELETED`;
      continue;
    }
    const events = await db.events.readStream(s).catch((e: unknown) => e);
    // A hard delete this model has not made (another candidate may have) is a difference, not a failure.
    if (!Array.isArray(events)) return `readStream(${s}) rejected: ${String(events)}`;
    const got = events.map((e) => [e.version, canonical(e.data)]);
    const want = model.visible(s).map((v) => [v, canonical(m.data.get(v))]);
    if (JSON.stringify(got) !== JSON.stringify(want)) return `readStream(${s}) ${JSON.stringify(got)} != ${JSON.stringify(want)}`;
    for (const v of model.visible(s)) visibleAll.push(`${s}@${v}`);
  }
  const all = await db.events.readAll();
  for (let i = 1; i < all.length; i++) if (all[i]!.position <= all[i - 1]!.position) return "readAll positions do not increase";
  const gotAll = all.map((e) => `${e.streamId}@${e.version}`).sort();
  if (JSON.stringify(gotAll) !== JSON.stringify(visibleAll.sort())) return `readAll ${gotAll.length} events != model ${visibleAll.length}`;
  return undefined;
}

/** Bytes compare as base64 (JSON.stringify would spell a Uint8Array out index by index). */
function canonical(data: unknown): unknown {
  return data instanceof Uint8Array ? `bytes:${Buffer.from(data.buffer, data.byteOffset, data.length).toString("base64")}` : data;
}

const spec: ModelSpec<EventModel> = { initial: () => new EventModel(), randomStep: randomEventStep, disagreement: eventDisagreement };

describe("db.events against its model, with crashes at random writes", () => {
  const seeds = modelSeeds(0x9e3779b1, 1000);
  it(`${seeds.length} random sequences of 24 steps agree with the model after every step and every crash`, async () => {
    for (const seed of seeds) await runSequence(seed, 24, spec);
  }, 600_000);
});
