/**
 * Runs the byte-stream contract against the disk engine: with the default
 * options, and with buffered writes and 4 KiB segments so that every rule is
 * also checked across segment rolls; and against the engine on the in-memory
 * file system. Options a test passes itself win.
 */
import { open } from "../../../engine/database.js";
import { MemoryFileSystem } from "../../support/memory-file-system.js";
import type { EngineOptions as OpenOptions } from "../../../engine/options.js";
import { byteStreamStoreContract } from "../../contract/byte-stream-store.contract.js";

byteStreamStoreContract("disk, default options", { open: (dir: string, options?: OpenOptions) => open(dir, options) });

byteStreamStoreContract("disk, buffered, 4 KiB segments", {
  open: (dir: string, options?: OpenOptions) => open(dir, { durability: "buffered", segmentBytes: 4096, maxRecordBytes: 1024, ...options }),
});

const memory = new MemoryFileSystem();
byteStreamStoreContract(
  "in-memory file system, 4 KiB segments",
  { open: (dir: string, options?: OpenOptions) => open(dir, { fileSystem: memory, segmentBytes: 4096, maxRecordBytes: 1024, ...options }) },
  { exists: (path) => memory.exists(path), remove: (path) => memory.remove(path) },
);
