/**
 * Idempotent producers (id, epoch, seq): the dedup state is written in the same
 * record as the data it describes, so it holds across restarts exactly as far
 * as the data does.
 */
import { open } from "../../../engine/index.js";
import type { OpenOptions } from "../../../engine/index.js";
import { acrossReopens, readAll } from "../../contract/byte-stream-store.contract.js";
import { rejectsWith, useDatabases } from "../../contract/event-store.contract.js";

const h = useDatabases({ open: (dir: string, options?: OpenOptions) => open(dir, options) });
const p = (seq: number, epoch = 0, id = "p1") => ({ producer: { id, epoch, seq } });

describe("byte stream idempotent producers", () => {
  it("when a producer sends 0, 1, 2 they are appended; a retry of any of them writes nothing and reports the highest seq", async () => {
    const db = await h.open();
    await db.streams.create("s");
    for (let seq = 0; seq < 3; seq++) expect(await db.streams.write("s", `m${seq}`, p(seq))).toMatchObject({ duplicate: false, producer: { epoch: 0, seq } });
    const tail = db.streams.currentOffset("s");
    expect(await db.streams.write("s", "m1", p(1))).toEqual({ offset: tail, closed: false, duplicate: true, producer: { epoch: 0, seq: 2 } });
    expect(await readAll(db, "s")).toBe("m0m1m2");
  });

  it("when a producer skips a seq it is SEQ_CONFLICT with the expected and received seq", async () => {
    const db = await h.open();
    await db.streams.create("s");
    await rejectsWith(() => db.streams.write("s", "x", p(1)), "SEQ_CONFLICT");
    await db.streams.write("s", "a", p(0));
    const err = await rejectsWith(() => db.streams.write("s", "c", p(2)), "SEQ_CONFLICT");
    expect({ expected: err.expected, actual: err.actual }).toEqual({ expected: 1, actual: 2 });
  });

  it("when a newer epoch has written, the older epoch is fenced with WRONG_EXPECTED_VERSION; a new epoch must start at seq 0", async () => {
    const db = await h.open();
    await db.streams.create("s");
    await db.streams.write("s", "a", p(0, 0));
    await rejectsWith(() => db.streams.write("s", "b", p(5, 1)), "INVALID_ARGUMENT");
    await db.streams.write("s", "b", p(0, 1));
    const err = await rejectsWith(() => db.streams.write("s", "zombie", p(1, 0)), "WRONG_EXPECTED_VERSION");
    expect({ expected: err.expected, actual: err.actual }).toEqual({ expected: 0, actual: 1 });
    expect(await readAll(db, "s")).toBe("ab");
  });

  it("when producers interleave, each has its own sequence", async () => {
    const db = await h.open();
    await db.streams.create("s");
    await db.streams.write("s", "A0", p(0, 0, "A"));
    await db.streams.write("s", "B0", p(0, 0, "B"));
    await db.streams.write("s", "A1", p(1, 0, "A"));
    await db.streams.write("s", "B1", p(1, 0, "B"));
    expect(await readAll(db, "s")).toBe("A0B0A1B1");
  });

  it("when a retry arrives before the original is durable, it waits and then reports a duplicate", async () => {
    const db = await h.open();
    await db.streams.create("s");
    const [first, retry] = await Promise.all([db.streams.write("s", "once", p(0)), db.streams.write("s", "once", p(0))]);
    expect(first.duplicate).toBe(false);
    expect(retry).toMatchObject({ duplicate: true, offset: first.offset });
    expect(await readAll(db, "s")).toBe("once");
  });

  it("when the stream is closed by a producer, its retry is a duplicate and anyone else's write is STREAM_CLOSED", async () => {
    const db = await h.open();
    await db.streams.create("s");
    await db.streams.write("s", "final", { close: true, ...p(0) });
    expect(await db.streams.write("s", "other body", { close: true, ...p(0) })).toMatchObject({ duplicate: true, closed: true });
    await rejectsWith(() => db.streams.write("s", "x", { close: true, ...p(1) }), "STREAM_CLOSED");
    await rejectsWith(() => db.streams.write("s", "x", { close: true, ...p(0, 0, "other") }), "STREAM_CLOSED");
    await rejectsWith(() => db.streams.write("s", "x", p(0, 0, "late")), "STREAM_CLOSED");
    expect(await readAll(db, "s")).toBe("final");
  });

  it("when the database is reopened, producer state comes back: retries are still duplicates and gaps still conflict", async () => {
    const db = await h.open();
    await db.streams.create("s");
    await db.streams.write("s", "a", p(0));
    await db.streams.write("s", "b", p(1));
    await db.streams.write("s", "c", p(0, 0, "closer"));
    const last = await acrossReopens(h, db, async (again) => {
      expect((await again.streams.write("s", "b", p(1))).duplicate).toBe(true);
      await rejectsWith(() => again.streams.write("s", "d", p(3)), "SEQ_CONFLICT");
      expect(await readAll(again, "s")).toBe("abc");
    });
    await last.streams.write("s", "d", p(2));
    expect(await readAll(last, "s")).toBe("abcd");
  });

  it("when a fork is made, it does not inherit its source's producer state", async () => {
    const db = await h.open();
    await db.streams.create("src");
    await db.streams.write("src", "hello", p(0));
    await db.streams.ensure("fork", { fork: { from: "src", offset: "0000000000000000_0000000000000000", subOffset: 3 } });
    expect((await db.streams.write("fork", "LO", p(0))).duplicate).toBe(false);
    expect(await readAll(db, "fork")).toBe("helLO");
  });
});
