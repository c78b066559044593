/**
 * TTL and expiry, on an injected clock: a TTL slides with reads and appends,
 * getMetadata does not move it, an absolute expiry never moves, and an expired
 * id reads as NOT_FOUND and can be created again holding only new data.
 */
import { open } from "../../../engine/index.js";
import type { OpenOptions } from "../../../engine/index.js";
import { manualClock, readAll } from "../../contract/byte-stream-store.contract.js";
import { rejectsWith, throwsWith, useDatabases } from "../../contract/event-store.contract.js";

const h = useDatabases({ open: (dir: string, options?: OpenOptions) => open(dir, options) });

describe("byte stream TTL and expiry", () => {
  it("when a TTL passes without reads or appends, the stream is NOT_FOUND; getMetadata does not renew it", async () => {
    const clock = manualClock();
    const db = await h.open({ clock: clock.now });
    await db.streams.create("s", { ttlSeconds: 10 });
    clock.advance(9_000);
    db.streams.getMetadata("s");
    clock.advance(1_000);
    throwsWith(() => db.streams.getMetadata("s"), "NOT_FOUND");
    await rejectsWith(() => db.streams.append("s", "x"), "NOT_FOUND");
    expect(db.streams.list()).toEqual([]);
  });

  it("when the stream is read or appended to, its TTL starts again from then", async () => {
    const clock = manualClock();
    const db = await h.open({ clock: clock.now });
    await db.streams.create("s", { ttlSeconds: 10 });
    clock.advance(8_000);
    await db.streams.append("s", "a");
    clock.advance(8_000);
    await db.streams.read("s");
    clock.advance(8_000);
    db.streams.touch("s");
    clock.advance(9_999);
    expect(await readAll(db, "s")).toBe("a");
  });

  it("when an absolute expiry passes, reads and appends before it did not extend it", async () => {
    const clock = manualClock();
    const db = await h.open({ clock: clock.now });
    await db.streams.create("s", { expiresAt: clock.now() + 5_000 });
    clock.advance(4_000);
    await db.streams.append("s", "a");
    await db.streams.read("s");
    clock.advance(1_000);
    await rejectsWith(() => db.streams.read("s"), "NOT_FOUND");
  });

  it("when an expired id is created again, it holds only the new data, also after a reopen", async () => {
    const clock = manualClock();
    const db = await h.open({ clock: clock.now });
    await db.streams.create("s", { ttlSeconds: 1 });
    await db.streams.append("s", "old");
    clock.advance(2_000);
    await db.streams.create("s", { contentType: "text/plain" });
    await db.streams.append("s", "new");
    expect(await readAll(db, "s")).toBe("new");
    const again = await h.reopen(db, { clock: clock.now });
    expect(await readAll(again, "s")).toBe("new");
    expect(again.streams.getMetadata("s").ttlSeconds).toBeUndefined();
  });

  it("when a fork outlives its source's TTL, the fork keeps reading", async () => {
    const clock = manualClock();
    const db = await h.open({ clock: clock.now });
    await db.streams.create("src", { ttlSeconds: 2 });
    await db.streams.append("src", "data");
    await db.streams.ensure("fork", { fork: { from: "src" }, ttlSeconds: 2 });
    clock.advance(1_500);
    await db.streams.read("fork");
    clock.advance(1_000);
    throwsWith(() => db.streams.getMetadata("src"), "NOT_FOUND");
    expect(await readAll(db, "fork")).toBe("data");
  });

  it("when an expired stream is never touched again, later creates still sweep it away (its bytes become garbage)", async () => {
    const clock = manualClock();
    const db = await h.open({ clock: clock.now });
    await db.streams.create("short", { ttlSeconds: 1 });
    await db.streams.append("short", "x".repeat(500));
    clock.advance(2_000);
    expect((await db.stats()).garbageBytes).toBe(0);
    for (let i = 0; i < 3; i++) await db.streams.create(`other-${i}`);
    expect((await db.stats()).garbageBytes).toBeGreaterThan(500);
  });

  it("when a read renews the TTL and the database is closed cleanly, the renewal holds after a reopen", async () => {
    const clock = manualClock();
    let db = await h.open({ clock: clock.now });
    await db.streams.create("s", { ttlSeconds: 10 });
    await db.streams.append("s", "a");
    db = await h.reopen(db, { clock: clock.now });
    // Nothing is written from here on: only the checkpoint can carry the renewal.
    clock.advance(8_000);
    expect(await readAll(db, "s")).toBe("a");
    db = await h.reopen(db, { clock: clock.now });
    clock.advance(8_000);
    expect(await readAll(db, "s")).toBe("a");
    clock.advance(10_000);
    throwsWith(() => db.streams.getMetadata("s"), "NOT_FOUND");
  });
});
