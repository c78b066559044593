/**
 * Append conditions (Dynamic Consistency Boundaries): an append fails with
 * APPEND_CONDITION_FAILED when an event matching its query exists after its
 * `after`, committed or still in flight. Racing calls are decided in call
 * order, as a sequential model says; a retry with stored ids gets the original
 * result; a failure writes nothing.
 */
import { open, SeglogError, type AppendCondition, type Database, type EventQuery, type NewEvent, type OpenOptions } from "../../../engine/index.js";
import { useDatabases } from "../../contract/event-store.contract.js";
import { prng, testSeed } from "../../support/child.js";
import { drawSize, patternBytes } from "../../support/size-classes.js";

const h = useDatabases({ open });

const username = (name: string): EventQuery => ({ items: [{ types: ["NameClaimed"], tags: [`name:${name}`] }] });

/** The error of a call expected to fail, its condition fields readable whatever its code. */
type ConditionError = SeglogError & { position?: number; after?: number; conditionIndex?: number };

async function failure(p: Promise<unknown>): Promise<ConditionError> {
  try {
    await p;
  } catch (err) {
    return err as ConditionError;
  }
  throw new Error("expected the call to fail");
}

describe("append conditions", () => {
  it("without after, any matching event fails the append (a unique name); the error carries the conflict and a fresh after", async () => {
    const db = await h.open({ durability: "sync" });
    await db.events.append("user-1", [{ type: "NameClaimed", data: {}, tags: ["name:ann"] }], { condition: { failIfEventsMatch: username("ann") } });
    await db.events.append("user-9", [{ type: "Other", data: {} }]);
    const err = await failure(db.events.append("user-2", [{ type: "NameClaimed", data: {}, tags: ["name:ann"] }], { condition: { failIfEventsMatch: username("ann") } }));
    expect(err).toBeInstanceOf(SeglogError);
    expect(err).toMatchObject({ code: "APPEND_CONDITION_FAILED", position: 0, after: 1 });
    expect(err.conditionIndex).toBeUndefined();
    expect(db.events.streamVersion("user-2")).toBe(-1);
    const other = await db.events.append("user-2", [{ type: "NameClaimed", data: {}, tags: ["name:bob"] }], { condition: { failIfEventsMatch: username("bob") } });
    expect(other.firstPosition).toBe(2);
  });

  it("with after, only matches after it count: a decision made at position p holds until a matching event lands after p", async () => {
    const db = await h.open();
    const course: EventQuery = { items: [{ types: ["Subscribed"], tags: ["course:1"] }] };
    await db.events.append("course-1", [{ type: "Subscribed", data: 1, tags: ["course:1", "student:1"] }]);
    await db.events.append("course-2", [{ type: "Subscribed", data: 2, tags: ["course:2"] }]);
    // Read up to position 1, decide, append: the course-2 event does not match.
    await db.events.append("course-1", [{ type: "Subscribed", data: 3, tags: ["course:1"] }], { condition: { failIfEventsMatch: course, after: 1 } });
    // Another decision made at position 1 is now stale.
    const err = await failure(db.events.append("course-1", [{ type: "Subscribed", data: 4, tags: ["course:1"] }], { condition: { failIfEventsMatch: course, after: 1 } }));
    expect(err).toMatchObject({ code: "APPEND_CONDITION_FAILED", position: 2, after: 2 });
    await db.events.append("course-1", [{ type: "Subscribed", data: 4, tags: ["course:1"] }], { condition: { failIfEventsMatch: course, after: err.after } });
    expect((await db.events.readStream("course-1")).map((e) => e.data)).toEqual([1, 3, 4]);
  });

  it("several conditions: the first that fails is named by conditionIndex; with an expected version, both must hold and nothing is written otherwise", async () => {
    const db = await h.open();
    await db.events.append("a-1", [{ type: "T", data: 1, tags: ["x"] }]);
    const conditions: AppendCondition[] = [{ failIfEventsMatch: { items: [{ tags: ["y"] }] } }, { failIfEventsMatch: { items: [{ tags: ["x"] }] } }];
    const err = await failure(db.events.append("a-2", [{ type: "T", data: 2 }], { condition: conditions }));
    expect(err).toMatchObject({ code: "APPEND_CONDITION_FAILED", conditionIndex: 1, position: 0 });
    const wrong = await failure(db.events.append("a-1", [{ type: "T", data: 2 }], { expectedVersion: 5, condition: { failIfEventsMatch: { items: [{ tags: ["y"] }] } } }));
    expect(wrong.code).toBe("WRONG_EXPECTED_VERSION");
    const many = await failure(
      db.events.appendMany(
        [
          { streamId: "a-1", events: [{ type: "T", data: 3 }], expectedVersion: 0 },
          { streamId: "b-1", events: [{ type: "T", data: 4 }] },
        ],
        { condition: { failIfEventsMatch: { items: [{ types: ["T"] }] }, after: -1 } },
      ),
    );
    expect(many.code).toBe("APPEND_CONDITION_FAILED");
    expect((await db.events.readAll()).length).toBe(1);
    const ok = await db.events.appendMany(
      [
        { streamId: "a-1", events: [{ type: "T", data: 3 }], expectedVersion: 0 },
        { streamId: "b-1", events: [{ type: "T", data: 4 }] },
      ],
      { condition: { failIfEventsMatch: { items: [{ types: ["T"] }] }, after: 0 } },
    );
    expect(ok.map((r) => r.firstPosition)).toEqual([1, 2]);
  });

  it("a retry of a stored append (same ids) returns the original result; new events against a moved boundary fail", async () => {
    const db = await h.open({ durability: "sync" });
    const events: NewEvent[] = [{ id: "e-1", type: "NameClaimed", data: {}, tags: ["name:cy"] }, { id: "e-2", type: "Welcomed", data: {} }];
    const condition = { failIfEventsMatch: username("cy") };
    const first = await db.events.append("user-3", events, { condition, expectedVersion: "no_stream" });
    const retry = await db.events.append("user-3", events, { condition, expectedVersion: "no_stream" });
    expect(retry).toEqual(first);
    // Retried while the original is still in flight: one copy, both resolve alike.
    const [a, b] = await Promise.all([
      db.events.append("user-4", [{ id: "f-1", type: "NameClaimed", data: {}, tags: ["name:dee"] }], { condition: { failIfEventsMatch: username("dee") } }),
      db.events.append("user-4", [{ id: "f-1", type: "NameClaimed", data: {}, tags: ["name:dee"] }], { condition: { failIfEventsMatch: username("dee") } }),
    ]);
    expect(b).toEqual(a);
    const moved = await failure(db.events.append("user-5", [{ id: "g-1", type: "NameClaimed", data: {}, tags: ["name:cy"] }], { condition }));
    expect(moved.code).toBe("APPEND_CONDITION_FAILED");
    expect((await db.events.readAll()).map((e) => e.id)).toEqual(["e-1", "e-2", "f-1"]);
  });

  it("a bad condition is INVALID_ARGUMENT naming the field, and writes nothing", async () => {
    const db = await h.open();
    const bad: [unknown, string][] = [
      [null, "options.condition"],
      [[], "options.condition"],
      [{ failIfEventsMatch: { items: [] } }, "options.condition.failIfEventsMatch.items"],
      [{ failIfEventsMatch: "all", after: -2 }, "options.condition.after"],
      [{ failIfEventsMatch: "all", after: 1.5 }, "options.condition.after"],
      [{ failIfEventsMatch: "all", before: 1 }, "options.condition.before"],
      [[{ failIfEventsMatch: "all" }, { failIfEventsMatch: { items: [{ tags: [3] }] } }], "options.condition[1].failIfEventsMatch.items[0].tags"],
    ];
    for (const [condition, argument] of bad) {
      await expect(db.events.append("s", [{ type: "T", data: 1 }], { condition: condition as AppendCondition })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", argument });
    }
    await expect(db.events.appendMany([{ streamId: "s", events: [{ type: "T", data: 1 }] }], { condition: { failIfEventsMatch: 7 } as never })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(await db.events.readAll()).toEqual([]);
    expect(db.events.listStreams()).toEqual([]);
  });

  describe.each<[string, OpenOptions]>([
    ["sync", { durability: "sync" }],
    ["buffered, small segments", { durability: "buffered", segmentBytes: 96 * 1024, maxRecordBytes: 40 * 1024 }],
  ])("racing conditional appends (%s)", (_name, options) => {
    it("hundreds in flight, of every size class, with conflicting conditions, bad calls and retries among them: the model in call order decides each, and the log holds exactly the winners", async () => {
      const random = prng(testSeed());
      const db = await h.open(options);
      const maxPayload = (options.maxRecordBytes ?? 64 * 1024) - 1024;
      const TAGS = ["k:1", "k:2", "k:3", "k:4", "k:5"];
      await db.events.append("seed-1", [{ type: "Seeded", data: 0, tags: ["k:1"] }]);
      // The model: every event stored so far, in position order.
      const stored: { type: string; tags: string[] }[] = [{ type: "Seeded", tags: ["k:1"] }];
      const expectedOutcome: string[] = [];
      const calls: Promise<unknown>[] = [];
      const sent: { streamId: string; events: NewEvent[]; condition: AppendCondition }[] = [];
      const winners = new Map<number, number>(); // call → first position
      for (let k = 0; k < 300; k++) {
        const r = random();
        if (r < 0.05) {
          // A bad call among good ones: rejected alone.
          calls.push(db.events.append("bad-1", [{ type: "", data: 1 }], { condition: { failIfEventsMatch: "all" } }));
          expectedOutcome.push("INVALID_ARGUMENT");
          continue;
        }
        if (r < 0.12 && sent.length > 0) {
          // A retry of an earlier call: same ids, same condition.
          const j = Math.floor(random() * sent.length);
          const again = sent[j]!;
          calls.push(db.events.append(again.streamId, again.events, { condition: again.condition }));
          if (winners.has(j)) expectedOutcome.push(`ok@${winners.get(j)}`);
          else decide(again, sent.length);
          continue;
        }
        const tagged = TAGS.filter(() => random() < 0.3);
        const events: NewEvent[] = Array.from({ length: 1 + Math.floor(random() * 2) }, (_, i) => ({
          id: `c${k}-${i}`,
          type: random() < 0.5 ? "Claimed" : "Noted",
          data: patternBytes(drawSize(random, { maxPayload }, 20_000), k),
          tags: tagged,
        }));
        const watch = TAGS[Math.floor(random() * TAGS.length)]!;
        const condition: AppendCondition = { failIfEventsMatch: { items: [{ types: ["Claimed"], tags: [watch] }] }, after: random() < 0.5 ? undefined : Math.floor(random() * stored.length) - 1 };
        const call = { streamId: `s-${k % 7}`, events, condition };
        sent.push(call);
        calls.push(db.events.append(call.streamId, call.events, { condition }));
        decide(call, sent.length - 1);
      }

      function decide(call: { events: NewEvent[]; condition: AppendCondition }, index: number): void {
        const after = call.condition.after ?? -1;
        const item = (call.condition.failIfEventsMatch as { items: { types: string[]; tags: string[] }[] }).items[0]!;
        const conflict = stored.findIndex((e, p) => p > after && item.types.includes(e.type) && item.tags.every((t) => e.tags.includes(t)));
        if (conflict >= 0) {
          expectedOutcome.push("APPEND_CONDITION_FAILED");
          return;
        }
        winners.set(index, stored.length);
        expectedOutcome.push(`ok@${stored.length}`);
        for (const e of call.events) stored.push({ type: e.type, tags: e.tags ?? [] });
      }

      const outcomes = await Promise.all(
        calls.map((p) =>
          p.then(
            (r) => `ok@${(r as { firstPosition: number }).firstPosition}`,
            (e: { code?: string }) => e.code ?? "raw error",
          ),
        ),
      );
      expect(outcomes).toEqual(expectedOutcome);
      expect(outcomes.filter((o) => o === "APPEND_CONDITION_FAILED").length).toBeGreaterThan(20);
      const check = async (d: Database) => {
        const all = await d.events.readAll();
        expect(all.map((e) => `${e.type}:${e.tags.join(",")}`)).toEqual(stored.map((e) => `${e.type}:${e.tags.join(",")}`));
        expect(all.map((e) => e.position)).toEqual(stored.map((_, p) => p));
      };
      await check(db);
      await check(await h.reopen(db, options));
    }, 60_000);
  });
});
