/**
 * Runs the shared event-store contract against the disk engine: once with the
 * default options (sync durability, large segments) and once with buffered
 * writes and 4 KiB segments, so that every rule is also checked across segment
 * rolls. Options a test passes itself win over the variant's.
 */
import { open } from "../../../engine/index.js";
import type { OpenOptions } from "../../../engine/index.js";
import { eventStoreContract, useDatabases } from "../../contract/event-store.contract.js";

eventStoreContract("disk, default options", { open: (dir: string, options?: OpenOptions) => open(dir, options) });

eventStoreContract("disk, buffered, 4 KiB segments", {
  open: (dir: string, options?: OpenOptions) =>
    open(dir, { durability: "buffered", segmentBytes: 4096, maxRecordBytes: 1024, ...options }),
});

describe("event store on disk", () => {
  const h = useDatabases({ open: (dir: string, options?: OpenOptions) => open(dir, options) });

  it("when an event has no data, it is stored like one with data: undefined and reads back as undefined, also after a reopen", async () => {
    let db = await h.open();
    await db.events.append("no-data", [{ type: "Pinged" }, { type: "Pinged", data: undefined }]);
    const read = async (): Promise<unknown[]> => (await db.events.readStream("no-data")).map((e) => [e.type, "data" in e, e.data]);
    expect(await read()).toEqual([
      ["Pinged", true, undefined],
      ["Pinged", true, undefined],
    ]);
    db = await h.reopen(db);
    expect(await read()).toEqual([
      ["Pinged", true, undefined],
      ["Pinged", true, undefined],
    ]);
  });

  it("when events carry bytes (alone, nested, in metadata; small and large), each read hands back its own plain Uint8Array copies that later reads never change", async () => {
    const db = await h.open({ segmentBytes: 64 * 1024 });
    const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, k) => (seed * 31 + k * 7) & 0xff);
    const shapes = (i: number): { data: unknown; metadata: Record<string, unknown> } => ({
      data: i % 3 === 0 ? bytes(200, i) : i % 3 === 1 ? { nested: [bytes(10, i), { deeper: bytes(5000, i) }] } : [bytes(0, i), "text", bytes(4096, i)],
      metadata: { blob: bytes(17, i) },
    });
    for (let i = 0; i < 300; i++) await db.events.append(`b${i % 7}`, [{ type: "T", ...shapes(i) }]);
    const first = await db.events.readStream("b0");
    const firstAll = await db.events.readAll({ count: 50 });
    // Many more reads reuse every read buffer and cached block in between.
    for (let round = 0; round < 3; round++) for (let s = 0; s < 7; s++) await db.events.readStream(`b${s}`);
    for await (const _e of db.events.iterateAll()) void _e;
    expect(first.map((e) => [e.data, e.metadata])).toEqual(first.map((e) => [shapes(e.position).data, shapes(e.position).metadata]));
    expect(firstAll.map((e) => e.data)).toEqual(firstAll.map((e) => shapes(e.position).data));
    const plain = first[0]!.data as Uint8Array;
    expect(plain.constructor).toBe(Uint8Array);
    // Writing into what a read returned changes nothing stored or read by anyone else.
    plain.fill(0);
    expect((await db.events.readStream("b0"))[0]!.data).toEqual(bytes(200, 0));
  });
});
