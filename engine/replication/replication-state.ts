/**
 * REPLICATION: what a database that forwards its log keeps about it, one small
 * file rewritten atomically (temporary file, fsync, rename).
 *
 *   offset  size  field
 *   0       4     magic "SGRP"
 *   4       1     version = 1
 *   5       3     reserved, 0
 *   8       4     body length (u32 LE)
 *   12      n     body: msgpack map (below)
 *   12+n    4     xxHash32 of bytes [0, 12+n)
 *
 * Body: identity (32 hex digits, the database's name in message ids), stream
 * (the JetStream stream), holdSegment (compaction leaves this segment and later
 * ones as they are), position and index (the key of the last record JetStream
 * acknowledged), updatedAt (ms).
 *
 * The hold is why a resumed forwarder can trust the records after its last key:
 * compaction would otherwise fold stream operations that were not forwarded yet
 * into snapshots at the start of the log, where the forwarder no longer reads.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { SeglogError } from "../errors.js";
import { checksum } from "../format/checksum.js";
import { decode, encode } from "../format/codec.js";
import type { FileSystem } from "../io/file-system.js";

export const REPLICATION_FILE = "REPLICATION";
const MAGIC = 0x50524753; // "SGRP" little-endian
const VERSION = 1;

export interface ReplicationState {
  identity: string;
  stream: string;
  holdSegment: number;
  position: number;
  index: number;
  updatedAt: number;
}

export function newIdentity(): string {
  return randomBytes(16).toString("hex");
}

/** The state on disk; undefined when the database never forwarded. A damaged file is CORRUPTION. */
export function readReplicationState(fs: FileSystem, dir: string): ReplicationState | undefined {
  const path = join(dir, REPLICATION_FILE);
  if (!fs.exists(path)) return undefined;
  const bytes = fs.readFile(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const damaged = (why: string) => new SeglogError("CORRUPTION", `${path}: ${why}`, { file: path, offset: 0 });
  if (bytes.length < 16 || view.getUint32(0, true) !== MAGIC) throw damaged("not a replication state file");
  if (bytes[4]! > VERSION) throw damaged(`version ${bytes[4]} is newer than this seglog reads (${VERSION})`);
  const length = view.getUint32(8, true);
  if (bytes.length !== 16 + length || view.getUint32(12 + length, true) !== checksum(bytes.subarray(0, 12 + length))) throw damaged("checksum mismatch");
  const body = decode(bytes.subarray(12, 12 + length)) as Partial<ReplicationState>;
  if (typeof body.identity !== "string" || typeof body.holdSegment !== "number") throw damaged("body has the wrong shape");
  return {
    identity: body.identity,
    stream: String(body.stream ?? ""),
    holdSegment: body.holdSegment,
    position: Number(body.position ?? -1),
    index: Number(body.index ?? 0),
    updatedAt: Number(body.updatedAt ?? 0),
  };
}

export async function writeReplicationState(fs: FileSystem, dir: string, state: ReplicationState): Promise<void> {
  const body = encode({ ...state });
  const bytes = new Uint8Array(16 + body.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  bytes[4] = VERSION;
  view.setUint32(8, body.length, true);
  bytes.set(body, 12);
  view.setUint32(12 + body.length, checksum(bytes.subarray(0, 12 + body.length)), true);
  await fs.writeFileAtomic(join(dir, REPLICATION_FILE), bytes);
}
