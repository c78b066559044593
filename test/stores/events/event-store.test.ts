/**
 * Runs the shared event-store contract against the disk engine: once with the
 * default options (sync durability, large segments) and once with buffered
 * writes and 4 KiB segments, so that every rule is also checked across segment
 * rolls. Options a test passes itself win over the variant's.
 */
import { open } from "../../../engine/index.js";
import type { OpenOptions } from "../../../engine/index.js";
import { eventStoreContract } from "../../contract/event-store.contract.js";

eventStoreContract("disk, default options", { open: (dir: string, options?: OpenOptions) => open(dir, options) });

eventStoreContract("disk, buffered, 4 KiB segments", {
  open: (dir: string, options?: OpenOptions) =>
    open(dir, { durability: "buffered", segmentBytes: 4096, maxRecordBytes: 1024, ...options }),
});
