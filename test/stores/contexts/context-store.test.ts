/**
 * Runs the context-store contract against the disk engine: with the default
 * options, and with buffered writes and 4 KiB segments so that every rule is
 * also checked across segment rolls. Then what only the disk engine can show:
 * list filters run on the index, so a page reads only its own records.
 */
import { open } from "../../../engine/database.js";
import type { EngineOptions as OpenOptions } from "../../../engine/options.js";
import { contextStoreContract } from "../../contract/context-store.contract.js";
import { useDatabases } from "../../contract/event-store.contract.js";
import { ReadCountingFileSystem } from "../../support/read-counting-file-system.js";

const disk = { open: (dir: string, options?: OpenOptions) => open(dir, options) };

contextStoreContract("disk, default options", disk);

contextStoreContract("disk, buffered, 4 KiB segments", {
  open: (dir: string, options?: OpenOptions) => open(dir, { durability: "buffered", segmentBytes: 4096, maxRecordBytes: 1024, ...options }),
});

describe("context store on disk", () => {
  const h = useDatabases(disk);

  it("when a filtered page of deltas is listed, only the page's records are read from disk", async () => {
    let now = 0;
    const db = await h.open({ durability: "buffered", clock: () => now });
    for (let i = 0; i < 200; i++) {
      now = i;
      await db.contexts.setDelta(`ctx-${i % 10}`, { pad: "x".repeat(20_000), i }, i);
    }
    await db.close();
    const fs = new ReadCountingFileSystem();
    const again = await h.open({ fileSystem: fs, clock: () => now });
    const before = fs.bytesRead;
    const page = await again.contexts.listDeltas({ insertedAfter: 100, offset: 5, limit: 2 });
    expect(page.map((d) => [d.contextId, d.version])).toEqual([["ctx-0", 160], ["ctx-0", 170]]);
    expect(fs.bytesRead - before).toBeLessThan(3 * 20_000);
  });
});
