/**
 * Every store through the payload-size contract: with 64 KiB segments (given
 * alone, so maxRecordBytes follows them) every size class of the engine below
 * the limit; with the defaults (16 MiB records), the large boundaries — the
 * 1 MiB scan chunk, the 8 MiB group-commit limit and the batch buffer's
 * doublings up to 16 MiB — for the two stores whose writes frame differently
 * (events in place, objects as head + content), and up to 256 KiB for the rest.
 */
import { open } from "../../engine/index.js";
import type { OpenOptions } from "../../engine/index.js";
import { PAYLOAD_STORES, payloadSizesContract } from "../contract/payload-sizes.contract.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const disk = { open: (dir: string, options?: OpenOptions) => open(dir, { durability: "buffered", ...options }) };

for (const store of PAYLOAD_STORES) {
  payloadSizesContract("64 KiB segments", disk, { segmentBytes: 64 * KiB, maxRecordBytes: 64 * KiB - 44 }, store, 64 * KiB - 2 * KiB);
  const large = store.name === "events" || store.name === "objects";
  payloadSizesContract("default limits", disk, { maxRecordBytes: 16 * MiB }, store, large ? 16 * MiB - 64 * KiB : 256 * KiB + 1);
}
