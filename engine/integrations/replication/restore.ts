/**
 * restore(): a new database from a replication stream. Reads every message in
 * stream order, rejoins split records, writes each record's bytes back as the
 * original stored them (log-import.ts), then opens the result once so that open's
 * own replay builds and checks the indexes. Positions (gaps included), versions,
 * ids, timestamps, deletes, truncations and retention come back as they were,
 * because they are in those bytes.
 *
 * An atomic group the stream holds only part of (the forwarder stopped inside
 * it) is left out whole, and the result says so.
 */
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { open } from "../../database.js";
import { SeglogError } from "../../errors.js";
import { NodeFileSystem } from "../../io/node-file-system.js";
import { LogImport } from "../../replication/log-import.js";
import { compareKeys, type FeedKey } from "../../replication/record-feed.js";
import { parseMessage } from "./messages.js";

export interface RestoreOptions {
  servers: string | string[];
  stream: string;
  /** Segment size of the new database (default: seglog's default). */
  segmentBytes?: number;
  onProgress?: (p: { done: number; total: number }) => void;
}

export interface RestoreResult {
  /** Records written (events, stream operations, compaction records). */
  records: number;
  /** Messages read from the stream. */
  messages: number;
  /** Highest event position restored (-1: none). */
  lastPosition: number;
  /** Records left out because their atomic group was cut off at the end of the stream. */
  droppedRecords: number;
}

export async function restore(dir: string, options: RestoreOptions): Promise<RestoreResult> {
  if (typeof dir !== "string" || dir.length === 0) throw new SeglogError("INVALID_ARGUMENT", "dir must be a non-empty path", { argument: "dir" });
  if (typeof options?.stream !== "string" || options.stream.length === 0) throw new SeglogError("INVALID_ARGUMENT", "options.stream must be a stream name", { argument: "options.stream" });
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: options.servers, name: "seglog-restore" });
  } catch (err) {
    throw new SeglogError("IO_ERROR", `cannot reach NATS at ${String(options.servers)}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const info = await jsm.streams.info(options.stream).catch((err: unknown) => {
      throw new SeglogError("NOT_FOUND", `no JetStream stream ${options.stream}: ${(err as Error).message}`, { cause: err });
    });
    const total = { messages: info.state.messages, lastSeq: info.state.last_seq };
    const target = await LogImport.create(new NodeFileSystem(), dir, { segmentBytes: options.segmentBytes });
    let result: RestoreResult;
    try {
      result = await copyStream(nc, jsm, options, total, target);
      await target.finish();
    } catch (err) {
      target.abandon();
      throw err;
    }
    // The first open replays the whole log: that is the check that it reads back.
    const db = await open(dir, { segmentBytes: options.segmentBytes });
    result.lastPosition = (await db.stats()).lastPosition;
    await db.close();
    return result;
  } finally {
    await nc.close().catch(() => undefined);
  }
}

async function copyStream(nc: NatsConnection, jsm: JetStreamManager, options: RestoreOptions, total: { messages: number; lastSeq: number }, target: LogImport): Promise<RestoreResult> {
  const result: RestoreResult = { records: 0, messages: 0, lastPosition: -1, droppedRecords: 0 };
  options.onProgress?.({ done: 0, total: total.messages });
  if (total.messages === 0) return result;
  const js = jetstream(nc);
  // An ephemeral pull consumer from the first message, acks not needed: a read, not a work queue.
  const ci = await jsm.consumers.add(options.stream, { ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, inactive_threshold: 60_000_000_000 });
  const consumer = await js.consumers.get(options.stream, ci.name);
  let last: FeedKey | undefined;
  let parts: Uint8Array[] = [];
  let groupRecords = 0;
  let seq = 0;
  try {
    while (seq < total.lastSeq) {
      // Never more than remain: a fetch asking for more waits out its expiry.
      const batch = await consumer.fetch({ max_messages: Math.min(1000, total.lastSeq - seq), expires: 5000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        result.messages++;
        seq = m.seq;
        const part = parseMessage(m.headers, m.data, m.seq);
        if (part.part === 1) {
          if (last !== undefined && compareKeys(part.key, last) <= 0) {
            throw new SeglogError("CORRUPTION", `replication stream message ${m.seq}: record ${part.key.position}.${part.key.index} does not follow ${last.position}.${last.index}`);
          }
          parts = [];
        } else if (parts.length !== part.part - 1 || last === undefined || compareKeys(part.key, last) !== 0) {
          throw new SeglogError("CORRUPTION", `replication stream message ${m.seq}: part ${part.part} of a record whose earlier parts are missing`);
        }
        last = part.key;
        parts.push(part.payload);
        if (part.part === part.parts) {
          await target.add(part.type, part.flags, parts.length === 1 ? parts[0]! : Buffer.concat(parts));
          groupRecords = target.inGroup ? groupRecords + 1 : 0;
          result.records++;
          parts = [];
        }
        if (seq >= total.lastSeq) break;
      }
      options.onProgress?.({ done: result.messages, total: total.messages });
      if (got === 0 && seq < total.lastSeq) throw new SeglogError("IO_ERROR", `the replication stream stopped delivering at message ${seq} of ${total.lastSeq}`);
    }
  } finally {
    await jsm.consumers.delete(options.stream, ci.name).catch(() => undefined);
  }
  if (target.inGroup) {
    result.droppedRecords = groupRecords;
    result.records -= groupRecords;
  }
  return result;
}
