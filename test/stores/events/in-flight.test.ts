/**
 * Calls that arrive while earlier ones are still in flight (not awaited):
 * each is decided against the writer's view in call order — the view that
 * counts every append framed before it — and a call that fails takes back
 * only what it framed itself.
 */
import { open } from "../../../engine/index.js";
import { useDatabases } from "../../contract/event-store.contract.js";

const h = useDatabases({ open });
const big = (n: number) => new Uint8Array(n).fill(7);

async function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "ok",
    (e: { code?: string }) => e.code ?? "raw error",
  );
}

describe("calls in flight", () => {
  it("when an appendMany fails on a record over the limit beside an append in flight, a no_stream append to that stream still conflicts", async () => {
    const db = await h.open({ maxRecordBytes: 64 * 1024 });
    const first = db.events.append("a", [{ type: "first", data: 1 }], { expectedVersion: "no_stream" });
    const many = db.events.appendMany([
      { streamId: "a", events: [{ type: "many", data: 2 }] },
      { streamId: "b", events: [{ type: "huge", data: big(70 * 1024) }] },
    ]);
    const second = db.events.append("a", [{ type: "second", data: 3 }], { expectedVersion: "no_stream" });
    expect(await Promise.all([outcome(first), outcome(many), outcome(second)])).toEqual(["ok", "TOO_LARGE", "WRONG_EXPECTED_VERSION"]);
    const third = await db.events.append("a", [{ type: "third", data: 4 }], { expectedVersion: 0 });
    expect(third.firstVersion).toBe(1);
    expect((await db.events.readAll()).map((e) => `${e.streamId}@${e.version}:${e.type}`)).toEqual(["a@0:first", "a@1:third"]);
    expect(db.events.streamVersion("b")).toBe(-1);
    expect(db.events.listStreams()).toEqual(["a"]);
  });

  it("when an appendMany fails after framing an earlier item, positions and versions of appends in flight stay as they were", async () => {
    const db = await h.open({ maxRecordBytes: 64 * 1024 });
    const calls = [
      db.events.append("x", [{ type: "T", data: 0 }]),
      db.events.appendMany([
        { streamId: "x", events: [{ type: "T", data: "lost" }] },
        { streamId: "y", events: [{ type: "T", data: "lost" }] },
        { streamId: "z", events: [{ type: "T", data: big(70 * 1024) }] },
      ]),
      db.events.append("x", [{ type: "T", data: 1 }], { expectedVersion: 0 }),
      db.events.append("y", [{ type: "T", data: 0 }], { expectedVersion: "no_stream" }),
    ];
    expect(await Promise.all(calls.map(outcome))).toEqual(["ok", "TOO_LARGE", "ok", "ok"]);
    const all = await db.events.readAll();
    expect(all.map((e) => `${e.streamId}@${e.version}=${String(e.data)}`)).toEqual(["x@0=0", "x@1=1", "y@0=0"]);
    expect(all.map((e) => e.position)).toEqual([0, 1, 2]);
  });

  for (const [first, retry] of [["any", "any"], ["no_stream", "any"], ["any", "no_stream"], ["no_stream", "no_stream"]] as const) {
    it(`when an append with ids (${first}) is retried (${retry}) before it commits, the retry returns its result and the events are stored once`, async () => {
      const db = await h.open();
      const events = [{ id: "e1", type: "T", data: 1 }, { id: "e2", type: "T", data: 2 }];
      const a = db.events.append("s", events, { expectedVersion: first });
      const b = db.events.append("s", events, { expectedVersion: retry });
      const [ra, rb] = await Promise.all([a, b]);
      expect(rb).toEqual(ra);
      expect((await db.events.readStream("s")).map((e) => e.id)).toEqual(["e1", "e2"]);
      // And after the original committed, the same retry is still a duplicate.
      expect(await db.events.append("s", events, { expectedVersion: retry })).toEqual(ra);
    });
  }

  it("when an appendMany is retried while in flight, the retry returns the original results and nothing is stored twice", async () => {
    const db = await h.open();
    const items = [
      { streamId: "p", events: [{ id: "p1", type: "T", data: 1 }], expectedVersion: "no_stream" as const },
      { streamId: "q", events: [{ id: "q1", type: "T", data: 2 }, { id: "q2", type: "T", data: 3 }] },
    ];
    const [a, b] = await Promise.all([db.events.appendMany(items), db.events.appendMany(items)]);
    expect(b).toEqual(a);
    expect((await db.events.readAll()).map((e) => e.id)).toEqual(["p1", "q1", "q2"]);
  });

  it("when a retry in flight only partly matches the append it repeats, it fails with WRONG_EXPECTED_VERSION and changes nothing", async () => {
    const db = await h.open();
    const a = db.events.append("s", [{ id: "e1", type: "T", data: 1 }]);
    const b = db.events.append("s", [{ id: "e1", type: "T", data: 1 }, { id: "e9", type: "T", data: 9 }]);
    expect(await Promise.all([outcome(a), outcome(b)])).toEqual(["ok", "WRONG_EXPECTED_VERSION"]);
    expect((await db.events.readStream("s")).map((e) => e.id)).toEqual(["e1"]);
  });

  it("when appends with the same ids go to another stream in flight, they are new events there", async () => {
    const db = await h.open();
    const events = [{ id: "same", type: "T", data: 1 }];
    const [a, b] = await Promise.all([db.events.append("s", events), db.events.append("t", events)]);
    expect([a.streamId, a.firstVersion, b.streamId, b.firstVersion]).toEqual(["s", 0, "t", 0]);
    expect(b.firstPosition).toBe(a.firstPosition + 1);
  });
});
