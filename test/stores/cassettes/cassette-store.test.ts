/**
 * Runs the cassette-store contract against the disk engine: with the default
 * options, and with buffered writes and 4 KiB segments so that every rule is
 * also checked across segment rolls. Then what only the disk engine can show:
 * reading a cassette reads its own records and never scans the others'.
 */
import { open } from "../../../engine/database.js";
import type { EngineOptions as OpenOptions } from "../../../engine/options.js";
import { collect, useDatabases } from "../../contract/event-store.contract.js";
import { cassetteStoreContract, exchange } from "../../contract/cassette-store.contract.js";
import { ReadCountingFileSystem } from "../../support/read-counting-file-system.js";

const disk = { open: (dir: string, options?: OpenOptions) => open(dir, options) };

cassetteStoreContract("disk, default options", disk);

cassetteStoreContract("disk, buffered, 4 KiB segments", {
  open: (dir: string, options?: OpenOptions) => open(dir, { durability: "buffered", segmentBytes: 4096, maxRecordBytes: 1024, ...options }),
});

describe("cassette store on disk", () => {
  const h = useDatabases(disk);

  it("when a small cassette sits among a large one's entries, reading it reads a few KiB, not the large one's MiB", async () => {
    const db = await h.open({ durability: "buffered" });
    for (let n = 0; n < 300; n++) {
      await db.cassettes.writeEntry("large", exchange(n, "x".repeat(5000)));
      if (n % 100 === 50) await db.cassettes.writeEntry("small", exchange(n));
    }
    await db.close();
    const fs = new ReadCountingFileSystem();
    const again = await h.open({ fileSystem: fs });
    const before = fs.bytesRead;
    expect((await collect(again.cassettes.readEntries("small"))).map((e) => e.n)).toEqual([50, 150, 250]);
    // Three records, each read with at most one small read window.
    expect(fs.bytesRead - before).toBeLessThan(3 * 8192);
  });

  it("when a cassette is deleted during its iteration, the iteration ends", async () => {
    const db = await h.open();
    for (let n = 0; n < 5; n++) await db.cassettes.writeEntry("c", exchange(n));
    const seen: unknown[] = [];
    for await (const entry of db.cassettes.readEntries("c")) {
      seen.push(entry.n);
      if (seen.length === 2) await db.cassettes.delete("c");
    }
    expect(seen).toEqual([0, 1]);
  });
});
