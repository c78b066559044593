/**
 * seglog/replication: forward a database's event log into NATS JetStream, and
 * build a database back from it (docs/replication.md). Needs the optional
 * packages @nats-io/jetstream and @nats-io/transport-node.
 */
import { replicationHost } from "../../database.js";
import { SeglogError } from "../../errors.js";
import type { Database } from "../../types.js";
import { Replicator, type Replication, type ReplicationOptions } from "./replicator.js";

export type { Replication, ReplicationOptions, ReplicationStatus } from "./replicator.js";
export { restore, type RestoreOptions, type RestoreResult } from "./restore.js";

/**
 * Starts forwarding every durable record of `db.events` into the JetStream stream
 * `options.stream`, in log order, exactly once. Resolves once it knows where the
 * stream ends in the local log; rejects with REPLICATION_CONFLICT (changing
 * nothing) when the stream is ahead of this database or holds another history.
 */
export async function replicate(db: Database, options: ReplicationOptions): Promise<Replication> {
  const host = replicationHost(db);
  checkOptions(options);
  // One forwarder per database: two would race each other for the stream's sequence.
  const current = running.get(db);
  if (current !== undefined && !current.isClosed) throw new SeglogError("ALREADY_EXISTS", "this database is already replicating: close that replication first");
  running.set(db, { isClosed: false });
  try {
    const replicator = await Replicator.start(host, options);
    running.set(db, replicator);
    return replicator;
  } catch (err) {
    running.delete(db);
    throw err;
  }
}

/** The forwarder of each database (a placeholder while it starts). */
const running = new WeakMap<Database, { readonly isClosed: boolean }>();

function checkOptions(options: ReplicationOptions): ReplicationOptions {
  const bad = (argument: string, why: string) => new SeglogError("INVALID_ARGUMENT", `${argument} ${why}`, { argument });
  if (typeof options !== "object" || options === null) throw bad("options", "must be an object");
  const servers = Array.isArray(options.servers) ? options.servers : [options.servers];
  if (servers.length === 0 || servers.some((s) => typeof s !== "string" || s.length === 0)) throw bad("options.servers", "must be a NATS URL or a list of them");
  if (typeof options.stream !== "string" || !/^[A-Za-z0-9_-]+$/.test(options.stream)) throw bad("options.stream", "must be a JetStream stream name (letters, digits, _ and -)");
  if (options.subjectPrefix !== undefined && (typeof options.subjectPrefix !== "string" || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(options.subjectPrefix))) {
    throw bad("options.subjectPrefix", "must be subject tokens (letters, digits, _ and -) joined by dots");
  }
  if (options.ack !== undefined && options.ack !== "local" && options.ack !== "replicated") throw bad("options.ack", 'must be "local" or "replicated"');
  if (options.replicas !== undefined && (!Number.isInteger(options.replicas) || options.replicas < 1 || options.replicas > 5)) throw bad("options.replicas", "must be an integer from 1 to 5");
  if (options.publishTimeoutMs !== undefined && (!Number.isInteger(options.publishTimeoutMs) || options.publishTimeoutMs < 1)) throw bad("options.publishTimeoutMs", "must be a positive integer");
  return options;
}
