/**
 * Runs the recording-store contract against the disk engine: with the default
 * options, and with buffered writes and 4 KiB segments so that every rule is
 * also checked across segment rolls. Then what only the disk engine can show:
 * listSummaries answers from memory and reads no recording from disk.
 */
import { open } from "../../../engine/database.js";
import type { Database } from "../../../engine/index.js";
import type { EngineOptions as OpenOptions } from "../../../engine/options.js";
import { useDatabases } from "../../contract/event-store.contract.js";
import { recording, recordingStoreContract } from "../../contract/recording-store.contract.js";
import { reopenWithoutCheckpoint } from "../../contract/reopen.js";
import { ReadCountingFileSystem } from "../../support/read-counting-file-system.js";

const disk = { open: (dir: string, options?: OpenOptions) => open(dir, options) };

recordingStoreContract("disk, default options", disk);

recordingStoreContract("disk, buffered, 4 KiB segments", {
  open: (dir: string, options?: OpenOptions) => open(dir, { durability: "buffered", segmentBytes: 4096, maxRecordBytes: 1024, ...options }),
});

describe("recording store on disk", () => {
  const h = useDatabases(disk);

  async function summariesReadNothing(db: Database, fs: ReadCountingFileSystem): Promise<void> {
    const before = fs.bytesRead;
    const summaries = await db.recordings.listSummaries();
    expect(summaries.length).toBe(40);
    expect(summaries[0]).toMatchObject({ id: "r39", eventCount: 239 });
    expect(fs.bytesRead - before).toBe(0);
  }

  it("when summaries are listed, not one byte of any recording is read from disk, before or after a reopen", async () => {
    const fs = new ReadCountingFileSystem();
    const db = await h.open({ fileSystem: fs, durability: "buffered" });
    for (let i = 0; i < 40; i++) await db.recordings.save(recording(`r${i}`, 200 + i));
    await summariesReadNothing(db, fs);
    const fromCheckpoint = await h.reopen(db, { fileSystem: fs });
    await summariesReadNothing(fromCheckpoint, fs);
    const replayed = await reopenWithoutCheckpoint(h, fromCheckpoint, { fileSystem: fs });
    await summariesReadNothing(replayed, fs);
  });
});
