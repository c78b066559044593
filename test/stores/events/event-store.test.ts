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
});
