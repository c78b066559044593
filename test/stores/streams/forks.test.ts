/**
 * Forks: a stream that starts as a prefix of another (docs/api.md leaves their
 * shape to us; this is ours, see ByteStreamCreateOptions.fork). The fork shares
 * its source's records, so these tests also check that deletes, reopens and
 * replays keep exactly the records forks still need.
 */
import { open } from "../../../engine/index.js";
import type { OpenOptions } from "../../../engine/index.js";
import { acrossReopens, readAll, START } from "../../contract/byte-stream-store.contract.js";
import { rejectsWith, throwsWith, useDatabases } from "../../contract/event-store.contract.js";

const h = useDatabases({ open: (dir: string, options?: OpenOptions) => open(dir, options) });

describe("byte stream forks", () => {
  it("when a stream is forked at an offset, the fork holds the prefix and goes on independently of its source", async () => {
    const db = await h.open();
    await db.streams.create("src", { contentType: "text/plain" });
    const mid = await db.streams.append("src", "first");
    await db.streams.append("src", "second");
    const { info } = await db.streams.ensure("fork", { fork: { from: "src", offset: mid } });
    expect(info).toMatchObject({ contentType: "text/plain", offset: mid });
    await db.streams.append("src", "-src");
    await db.streams.append("fork", "-fork");
    expect(await readAll(db, "src")).toBe("firstsecond-src");
    expect(await readAll(db, "fork")).toBe("first-fork");
    expect(await readAll(db, "fork", mid)).toBe("-fork");
  });

  it("when no offset is given the fork starts at the source's tail; the start offset forks nothing", async () => {
    const db = await h.open();
    await db.streams.create("src");
    await db.streams.append("src", "abc");
    await db.streams.ensure("all", { fork: { from: "src" } });
    await db.streams.ensure("none", { fork: { from: "src", offset: START } });
    expect(await readAll(db, "all")).toBe("abc");
    expect(await readAll(db, "none")).toBe("");
  });

  it("when a sub-offset is given, the fork takes that many bytes (or JSON messages) of the append at the offset", async () => {
    const db = await h.open();
    await db.streams.create("bin", { contentType: "text/plain" });
    const anchor = await db.streams.append("bin", "first");
    await db.streams.append("bin", "second");
    await db.streams.ensure("b3", { fork: { from: "bin", offset: anchor, subOffset: 3 } });
    expect(await readAll(db, "b3")).toBe("firstsec");
    await db.streams.append("b3", "OND");
    expect(await readAll(db, "b3")).toBe("firstsecOND");
    await db.streams.ensure("b3b1", { fork: { from: "b3", offset: anchor, subOffset: 1 } });
    expect(await readAll(db, "b3b1")).toBe("firsts");
    await rejectsWith(() => db.streams.ensure("over", { fork: { from: "bin", offset: anchor, subOffset: 7 } }), "INVALID_ARGUMENT");
    await rejectsWith(() => db.streams.ensure("noOffset", { fork: { from: "bin", subOffset: 1 } }), "INVALID_ARGUMENT");

    await db.streams.ensure("json", { contentType: "application/json", data: '[{"a":1},{"b":2},{"c":3}]' });
    await db.streams.ensure("j2", { fork: { from: "json", offset: START, subOffset: 2 } });
    expect(JSON.parse(await readAll(db, "j2"))).toEqual([{ a: 1 }, { b: 2 }]);
    await rejectsWith(() => db.streams.ensure("j4", { fork: { from: "json", offset: START, subOffset: 4 } }), "INVALID_ARGUMENT");
  });

  it("when a fork is created again with the same source and point it is ok; another point or content type is refused", async () => {
    const db = await h.open();
    await db.streams.create("src", { contentType: "text/plain" });
    await db.streams.append("src", "hello");
    const fork = { from: "src", offset: START, subOffset: 2 };
    expect((await db.streams.ensure("f", { fork })).created).toBe(true);
    expect((await db.streams.ensure("f", { fork })).created).toBe(false);
    await rejectsWith(() => db.streams.ensure("f", { fork: { ...fork, subOffset: 3 } }), "ALREADY_EXISTS");
    await rejectsWith(() => db.streams.ensure("g", { contentType: "application/json", fork }), "INVALID_ARGUMENT");
    await rejectsWith(() => db.streams.ensure("h", { fork: { from: "missing" } }), "NOT_FOUND");
  });

  it("when a fork gives no TTL it inherits its source's; its own TTL wins", async () => {
    const db = await h.open();
    await db.streams.create("src", { ttlSeconds: 3600 });
    await db.streams.ensure("inherits", { fork: { from: "src" } });
    await db.streams.ensure("own", { fork: { from: "src" }, ttlSeconds: 7200 });
    expect(db.streams.getMetadata("inherits").ttlSeconds).toBe(3600);
    expect(db.streams.getMetadata("own").ttlSeconds).toBe(7200);
  });

  it("when a source with a live fork is deleted it is soft-deleted: STREAM_DELETED, the id stays taken, the fork still reads", async () => {
    const db = await h.open();
    await db.streams.create("src");
    await db.streams.append("src", "kept");
    await db.streams.ensure("fork", { fork: { from: "src" } });
    await db.streams.delete("src");
    throwsWith(() => db.streams.getMetadata("src"), "STREAM_DELETED");
    await rejectsWith(() => db.streams.read("src"), "STREAM_DELETED");
    await rejectsWith(() => db.streams.append("src", "x"), "STREAM_DELETED");
    await rejectsWith(() => db.streams.delete("src"), "STREAM_DELETED");
    await rejectsWith(() => db.streams.create("src"), "STREAM_DELETED");
    await rejectsWith(() => db.streams.ensure("fork2", { fork: { from: "src" } }), "STREAM_DELETED");
    expect(await readAll(db, "fork")).toBe("kept");
    await db.streams.delete("fork");
    throwsWith(() => db.streams.getMetadata("src"), "NOT_FOUND");
    await db.streams.create("src");
    expect(await readAll(db, "src")).toBe("");
  });

  it("when the middle of a chain is deleted, the last fork keeps every byte across reopens, and the chain goes when the last fork does", async () => {
    const db = await h.open();
    await db.streams.create("l0");
    await db.streams.append("l0", "A");
    await db.streams.ensure("l1", { fork: { from: "l0" } });
    await db.streams.append("l1", "B");
    await db.streams.ensure("l2", { fork: { from: "l1" } });
    await db.streams.append("l2", "C");
    await db.streams.delete("l0");
    await db.streams.delete("l1");
    const last = await acrossReopens(h, db, async (again) => {
      expect(await readAll(again, "l2")).toBe("ABC");
      throwsWith(() => again.streams.getMetadata("l0"), "STREAM_DELETED");
      throwsWith(() => again.streams.getMetadata("l1"), "STREAM_DELETED");
      expect((await again.verify()).ok).toBe(true);
    });
    await last.streams.delete("l2");
    for (const id of ["l0", "l1", "l2"]) throwsWith(() => last.streams.getMetadata(id), "NOT_FOUND");
    expect(await last.stats()).toMatchObject({ garbageBytes: expect.any(Number) });
    expect((await last.stats()).garbageBytes).toBeGreaterThan(0);
  });
});
