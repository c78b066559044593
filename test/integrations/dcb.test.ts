/**
 * seglog/dcb against @dcb-es/event-store's own MemoryEventStore: the examples
 * of dcb.events (course capacity across two tags, unique username, invoice
 * numbers without gaps, opt-in token) run through the library's
 * buildDecisionModel on both stores, with equal results; reads with
 * after/backwards/limit agree; subscribe ends on its AbortSignal.
 */
import {
  AppendConditionError,
  buildDecisionModel,
  MemoryEventStore,
  Query,
  SequencePosition,
  Tags,
  type DcbEvent,
  type EventHandlerWithState,
  type EventStore,
  type SequencedEvent,
} from "@dcb-es/event-store";
import { open } from "../../engine/index.js";
import { getSeglogDcbEventStore, type SeglogDcbEventStore } from "../../engine/integrations/dcb/index.js";
import { useDatabases } from "../contract/event-store.contract.js";

const h = useDatabases({ open });

const event = (type: string, tags: Record<string, string>, data: unknown = {}, metadata?: unknown): DcbEvent => ({ type, tags: Tags.fromObj(tags), data, metadata });

async function readAll(store: EventStore, query = Query.all(), options?: Parameters<EventStore["read"]>[1]): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.read(query, options)) out.push(line(e));
  return out;
}

function line(e: SequencedEvent): string {
  return `${e.position.toString()} ${e.event.type} [${e.event.tags.values.join(" ")}] ${JSON.stringify(e.event.data)} ${JSON.stringify(e.event.metadata) ?? "undefined"}`;
}

async function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(
    (v) => `ok ${String(v)}`,
    (e: Error & { commandIndex?: number }) => (e instanceof AppendConditionError ? `AppendConditionError ${e.commandIndex ?? "-"}` : `${e.name}: ${e.message}`),
  );
}

// ---- the dcb.events examples, written once against the EventStore interface ----

/** Course subscriptions: a course's capacity and a student's limit of 2 courses, one decision across two tags. */
async function courseSubscriptions(store: EventStore): Promise<string[]> {
  const log: string[] = [];
  await store.append({ events: [event("CourseDefined", { course: "c1" }, { capacity: 2 }), event("CourseDefined", { course: "c2" }, { capacity: 5 }), event("CourseDefined", { course: "c3" }, { capacity: 5 })] });
  const subscribe = async (course: string, student: string): Promise<string> => {
    const courseHandler: EventHandlerWithState<DcbEvent, { exists: boolean; capacity: number; subscribers: number }> = {
      tagFilter: Tags.fromObj({ course }),
      init: { exists: false, capacity: 0, subscribers: 0 },
      when: {
        CourseDefined: (e, s) => ({ ...s, exists: true, capacity: (e.event.data as { capacity: number }).capacity }),
        StudentSubscribed: (_e, s) => ({ ...s, subscribers: s.subscribers + 1 }),
      },
    };
    const studentHandler: EventHandlerWithState<DcbEvent, number> = {
      tagFilter: Tags.fromObj({ student }),
      init: 0,
      when: { StudentSubscribed: (_e, n) => n + 1 },
    };
    const { state, appendCondition } = await buildDecisionModel(store, { course: courseHandler, student: studentHandler });
    if (!state.course.exists) return "no such course";
    if (state.course.subscribers >= state.course.capacity) return "course full";
    if (state.student >= 2) return "student limit";
    return outcome(store.append({ events: event("StudentSubscribed", { course, student }), condition: appendCondition }));
  };
  log.push(await subscribe("c1", "s1"), await subscribe("c1", "s2"), await subscribe("c1", "s3"), await subscribe("c9", "s1"));
  log.push(await subscribe("c2", "s1"), await subscribe("c3", "s1"));
  // Two decisions taken on the same state: the second append's boundary moved.
  const model = await buildDecisionModel(store, {
    course: { tagFilter: Tags.fromObj({ course: "c3" }), init: 0, when: { StudentSubscribed: (_e: unknown, n: number) => n + 1 } } as EventHandlerWithState<DcbEvent, number>,
  });
  log.push(await outcome(store.append({ events: event("StudentSubscribed", { course: "c3", student: "s7" }), condition: model.appendCondition })));
  log.push(await outcome(store.append({ events: event("StudentSubscribed", { course: "c3", student: "s8" }), condition: model.appendCondition })));
  log.push(...(await readAll(store)));
  return log;
}

/** Unique username: a condition with no `after` fails on any earlier claim. */
async function uniqueUsername(store: EventStore): Promise<string[]> {
  const claim = (user: string, name: string) =>
    outcome(store.append({ events: event("UsernameClaimed", { username: name, user }), condition: { failIfEventsMatch: Query.fromItems([{ types: ["UsernameClaimed"], tags: Tags.fromObj({ username: name }) }]) } }));
  return [await claim("u1", "ann"), await claim("u2", "ann"), await claim("u2", "bob"), ...(await readAll(store))];
}

/** Invoice numbers without gaps: the next number comes from the last InvoiceCreated; a stale decision fails and retries. */
async function invoiceNumbers(store: EventStore): Promise<string[]> {
  const decide = async () => {
    const query = Query.fromItems([{ types: ["InvoiceCreated"], tags: Tags.fromObj({ kind: "invoice" }) }]);
    let next = 1;
    let after = SequencePosition.initial();
    for await (const e of store.read(query, { backwards: true, limit: 1 })) {
      next = (e.event.data as { number: number }).number + 1;
      after = e.position;
    }
    return { next, condition: { failIfEventsMatch: query, after } };
  };
  const log: string[] = [];
  for (let i = 0; i < 3; i++) {
    const d = await decide();
    log.push(await outcome(store.append({ events: event("InvoiceCreated", { kind: "invoice", invoice: `i${d.next}` }, { number: d.next }), condition: d.condition })));
  }
  const a = await decide();
  const b = await decide();
  log.push(await outcome(store.append({ events: event("InvoiceCreated", { kind: "invoice", invoice: `i${a.next}` }, { number: a.next }), condition: a.condition })));
  log.push(await outcome(store.append({ events: event("InvoiceCreated", { kind: "invoice", invoice: `i${b.next}` }, { number: b.next }), condition: b.condition })));
  const retry = await decide();
  log.push(await outcome(store.append({ events: event("InvoiceCreated", { kind: "invoice", invoice: `i${retry.next}` }, { number: retry.next }), condition: retry.condition })));
  log.push(...(await readAll(store, Query.fromItems([{ types: ["InvoiceCreated"] }]))));
  return log;
}

/** Opt-in token: confirmable once, and only after it was issued. */
async function optInToken(store: EventStore): Promise<string[]> {
  const confirm = async (token: string) => {
    const handler: EventHandlerWithState<DcbEvent, "none" | "issued" | "used"> = {
      tagFilter: Tags.fromObj({ token }),
      init: "none",
      when: { TokenIssued: () => "issued", TokenUsed: () => "used" },
    };
    const { state, appendCondition } = await buildDecisionModel(store, { token: handler });
    if (state.token !== "issued") return `cannot confirm: ${state.token}`;
    return outcome(store.append({ events: event("TokenUsed", { token }), condition: appendCondition }));
  };
  const log: string[] = [];
  log.push(await confirm("t1"));
  log.push(await outcome(store.append({ events: event("TokenIssued", { token: "t1" }, { email: "a@b" }, { by: "signup" }) })));
  log.push(await confirm("t1"), await confirm("t1"));
  // Several commands in one call, each with its own condition: atomic, and the failing one named.
  const issued = Query.fromItems([{ types: ["TokenIssued"], tags: Tags.fromObj({ token: "t2" }) }]);
  const used = Query.fromItems([{ types: ["TokenUsed"], tags: Tags.fromObj({ token: "t1" }) }]);
  log.push(await outcome(store.append([{ events: event("TokenIssued", { token: "t2" }), condition: { failIfEventsMatch: issued } }, { events: event("TokenUsed", { token: "t1" }), condition: { failIfEventsMatch: used } }])));
  log.push(await outcome(store.append([{ events: [event("TokenIssued", { token: "t2" }, "raw string metadata", ["m", 1])], condition: { failIfEventsMatch: issued } }, { events: [] }])));
  log.push(...(await readAll(store)));
  return log;
}

const scenarios: [string, (store: EventStore) => Promise<string[]>][] = [
  ["course capacity and a student limit across two tags", courseSubscriptions],
  ["unique username with no after", uniqueUsername],
  ["invoice numbers without gaps", invoiceNumbers],
  ["opt-in token, and several commands in one append", optInToken],
];

describe("seglog/dcb", () => {
  it("is an EventStore of @dcb-es/event-store (a typed assignment that compiles)", async () => {
    const db = await h.open();
    const store: EventStore = getSeglogDcbEventStore(db);
    expect(typeof store.append).toBe("function");
  });

  describe.each(scenarios)("%s", (_name, scenario) => {
    it("gives the same outcomes and the same events as MemoryEventStore, on a sync and on a buffered database with small segments", async () => {
      const expected = await scenario(new MemoryEventStore());
      expect(expected.some((line) => line.startsWith("AppendConditionError") || line.startsWith("cannot") || line.startsWith("course full"))).toBe(true);
      const sync = getSeglogDcbEventStore(await h.open({ durability: "sync" }));
      expect(await scenario(sync)).toEqual(expected);
      const db = await h.open({ durability: "buffered", segmentBytes: 64 * 1024, maxRecordBytes: 16 * 1024 }, `${h.dir}-small`);
      expect(await scenario(getSeglogDcbEventStore(db))).toEqual(expected);
      await db.close();
    });
  });

  it("reads with after, backwards and limit as MemoryEventStore does, also after reopen", async () => {
    const memory = new MemoryEventStore();
    let db = await h.open();
    let store = getSeglogDcbEventStore(db);
    const batches = [
      [event("A", { x: "1" }), event("B", { x: "1", y: "2" })],
      [event("A", { y: "2" }, [1, 2])],
      [event("C", { x: "1" }, null), event("A", { x: "1", y: "2" }, "s")],
    ];
    for (const events of batches) {
      await memory.append({ events });
      await store.append({ events });
    }
    const queries = [Query.all(), Query.fromItems([{ types: ["A"] }]), Query.fromItems([{ types: ["A", "B"], tags: Tags.fromObj({ x: "1" }) }, { types: ["C"] }])];
    const optionSets = [undefined, { backwards: true }, { limit: 2 }, { after: SequencePosition.fromString("2") }, { after: SequencePosition.fromString("3"), backwards: true }, { after: SequencePosition.fromString("1"), backwards: true, limit: 1 }, { limit: 0 }];
    const compare = async () => {
      for (const q of queries) for (const o of optionSets) expect(await readAll(store, q, o)).toEqual(await readAll(memory, q, o));
    };
    await compare();
    db = await h.reopen(db);
    store = getSeglogDcbEventStore(db);
    await compare();
  });

  it("subscribe delivers matching events after `after`, live, and ends when its signal aborts", async () => {
    const store: SeglogDcbEventStore = getSeglogDcbEventStore({ dir: h.dir });
    await store.append({ events: [event("A", { k: "1" }), event("B", { k: "1" })] });
    const controller = new AbortController();
    const got: string[] = [];
    const done = (async () => {
      for await (const e of store.subscribe(Query.fromItems([{ types: ["A"] }]), { after: SequencePosition.fromString("1"), signal: controller.signal })) {
        got.push(`${e.position.toString()} ${e.event.type}`);
        if (got.length === 2) controller.abort();
      }
    })();
    await store.append({ events: [event("B", { k: "2" }), event("A", { k: "2" })] });
    await store.append({ events: event("A", { k: "3" }) });
    await done;
    expect(got).toEqual(["4 A", "5 A"]);
    await store.close();
    // close() closed the database it opened: the directory opens again.
    const db = await h.open();
    expect((await db.events.readStream("dcb")).length).toBe(5);
  });

  it("bad commands are errors before anything is written: an invalid condition, no events", async () => {
    const db = await h.open();
    const store = getSeglogDcbEventStore(db);
    await expect(store.append({ events: event("A", { k: "1" }), condition: { failIfEventsMatch: Query.all() } })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(store.append({ events: [] })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(store.append({ events: event("A", { k: "1" }), condition: { failIfEventsMatch: Query.fromItems([{ types: ["A"] }]) } })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(await db.events.readAll()).toEqual([]);
  });
});
