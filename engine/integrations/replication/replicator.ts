/**
 * The forwarder: one per database, it reads the event store's durable records in
 * log order (record-feed.ts) and publishes them into one JetStream stream.
 *
 * Exactly once, in order: every message carries a message id made of the
 * database's identity and the record's key (JetStream drops a repeat), and the
 * stream sequence it expects to follow (JetStream refuses it if anything else
 * was appended meanwhile). After any failure the forwarder reads the stream's
 * last message again, finds that record in the local log (same key, same bytes)
 * and goes on after it; when the local log does not hold it — the stream is
 * ahead, or another database wrote it — it stops: REPLICATION_CONFLICT.
 *
 * Publishes are pipelined (WINDOWS_IN_FLIGHT windows of WINDOW records), each
 * expecting its own sequence, so one failure makes every later one fail too and
 * nothing can be stored out of order.
 */
import { jetstream, jetstreamManager, JetStreamApiError, type JetStreamClient, type JetStreamManager, type PubAck } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { ReplicationHost } from "../../database.js";
import { SeglogError } from "../../errors.js";
import { RecordFeed, type FeedKey, type FeedRecord } from "../../replication/record-feed.js";
import { newIdentity, readReplicationState, writeReplicationState, type ReplicationState } from "../../replication/replication-state.js";
import { messagesOf, parseMessage, partSize, type OutgoingMessage } from "./messages.js";

/** Records read and published per window; their publishes are in flight together. */
const WINDOW = 512;
/** Windows published before the oldest one's answers are awaited. */
const WINDOWS_IN_FLIGHT = 4;
const STATE_WRITE_INTERVAL_MS = 1000;
const RETRY_MS = [100, 250, 500, 1000, 2000];

export interface ReplicationOptions {
  /** NATS server URL(s), e.g. "nats://127.0.0.1:4222". */
  servers: string | string[];
  /** The JetStream stream; created (subjects `<subjectPrefix>.>`) when missing. */
  stream: string;
  /** Subject prefix of the messages (default "seglog.<stream>"). */
  subjectPrefix?: string;
  /** "local" (default): writes answer at the local fsync; "replicated": once JetStream has them too. */
  ack?: "local" | "replicated";
  /** Replicas of a stream this call creates (default 3: a majority survives one server lost). */
  replicas?: number;
  /** How long one publish may wait for JetStream's answer before it is retried (ms, default 5000). */
  publishTimeoutMs?: number;
}

export interface ReplicationStatus {
  state: "forwarding" | "retrying" | "stopped" | "closed";
  connected: boolean;
  /** Position of the last event JetStream acknowledged (-1: none yet). */
  lastForwardedPosition: number;
  /** Events committed here and not yet acknowledged by JetStream. */
  lagEvents: number;
  /** How long the oldest record not yet acknowledged has waited (0 when none waits). */
  lagMs: number;
  /** Messages JetStream acknowledged since this handle started. */
  forwardedMessages: number;
  lastError: string | undefined;
}

export interface Replication {
  status(): ReplicationStatus;
  /** Stops forwarding (what is in flight completes or is retried by the next start). */
  close(): Promise<void>;
}

interface Window {
  messages: { msg: OutgoingMessage; record: FeedRecord; last: boolean }[];
  settled: Promise<PromiseSettledResult<PubAck>[]>;
  /** Where the feed stood after this window's records: reached once they are all acknowledged. */
  readTo: { segment: number; offset: number };
}

interface Waiter {
  segment: number;
  offset: number;
  done: () => void;
  fail: (err: unknown) => void;
}

export class Replicator implements Replication {
  private nc!: NatsConnection;
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  private feed!: RecordFeed;
  /** Remaining parts of a split record that the stream holds only some of. */
  private carry: { record: FeedRecord; firstPart: number } | undefined;
  /** The sequence the next published message follows. */
  private nextSeq = 0;
  private windows: Window[] = [];
  private acked: FeedKey = { position: -1, index: 0 };
  /** Where every record before has been acknowledged. */
  private ackedAt = { segment: 0, offset: 0 };
  private waitingSince: number | undefined;
  private waiters: Waiter[] = [];
  private state: ReplicationStatus["state"] = "forwarding";
  private lastError: string | undefined;
  private forwarded = 0;
  private closed = false;
  private connected = true;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private saved: ReplicationState;
  private savedAt = 0;
  private saving: Promise<void> = Promise.resolve();
  private readonly prefix: string;
  private maxPart = 0;
  private readonly onDurable = () => this.wake?.();

  private constructor(
    private readonly host: ReplicationHost,
    private readonly options: ReplicationOptions,
    identity: string,
  ) {
    this.prefix = options.subjectPrefix ?? `seglog.${options.stream}`;
    this.saved = { identity, stream: options.stream, holdSegment: 0, position: -1, index: 0, updatedAt: 0 };
  }

  static async start(host: ReplicationHost, options: ReplicationOptions): Promise<Replicator> {
    if (host.readOnly) throw new SeglogError("READ_ONLY", "replication forwards from the writer; this database is open read-only");
    const previous = readReplicationState(host.fs, host.dir);
    const r = new Replicator(host, options, previous?.identity ?? newIdentity());
    try {
      r.nc = await connect({ servers: options.servers, name: "seglog-replication", maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    } catch (err) {
      throw new SeglogError("IO_ERROR", `cannot reach NATS at ${String(options.servers)}: ${(err as Error).message}`, { cause: err });
    }
    try {
      r.jsm = await jetstreamManager(r.nc, { checkAPI: false });
      r.js = jetstream(r.nc, { timeout: options.publishTimeoutMs ?? 5000 });
      r.maxPart = partSize(r.nc.info?.max_payload ?? 1024 * 1024);
      await r.ensureStream();
      await r.resync();
      // The hold goes to disk before anything is forwarded: compaction must not fold what follows.
      await r.saveState(true);
    } catch (err) {
      await r.nc.close().catch(() => undefined);
      throw err;
    }
    void r.watchConnection();
    host.log.durableListeners.add(r.onDurable);
    host.onClose(() => r.close());
    if (options.ack === "replicated") host.setReplicationAck(() => r.acknowledged());
    r.running = r.run();
    return r;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  status(): ReplicationStatus {
    const last = this.host.positions.lastPosition;
    return {
      state: this.state,
      connected: !this.closed && this.connected && !this.nc.isClosed(),
      lastForwardedPosition: this.acked.position,
      lagEvents: Math.max(0, last - this.acked.position),
      lagMs: this.waitingSince === undefined ? 0 : Date.now() - this.waitingSince,
      forwardedMessages: this.forwarded,
      lastError: this.lastError,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return this.running;
    this.closed = true;
    this.state = "closed";
    this.host.log.durableListeners.delete(this.onDurable);
    if (this.options.ack === "replicated") this.host.setReplicationAck(undefined);
    this.wake?.();
    await this.running;
    // The last acknowledged key, for `seglog stats` and the next start's hold.
    await this.saveState(true).catch(() => undefined);
    this.failWaiters(new SeglogError("NOT_REPLICATED", "replication was closed before JetStream acknowledged this write (it is stored and durable locally)"));
    await this.saving.catch(() => undefined);
    await this.nc.close().catch(() => undefined);
  }

  private async watchConnection(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect") this.connected = false;
      else if (s.type === "reconnect") this.connected = true;
    }
  }

  /** Resolves once JetStream holds every record committed before the call. */
  private acknowledged(): Promise<void> {
    const active = this.host.log.active;
    const target = { segment: active.number, offset: active.committedEnd };
    if (this.reached(target)) return Promise.resolve();
    // A write whose commit lands after close() began asks too (it took the hook before): no round will come to release it.
    if (this.closed) return Promise.reject(new SeglogError("NOT_REPLICATED", "replication was closed before JetStream acknowledged this write (it is stored and durable locally)"));
    if (this.state === "stopped") return Promise.reject(new SeglogError("NOT_REPLICATED", `stored and durable locally, but replication has stopped: ${this.lastError}`));
    return new Promise((done, fail) => {
      this.waiters.push({ ...target, done, fail });
      this.wake?.();
    });
  }

  private reached(target: { segment: number; offset: number }): boolean {
    const at = this.ackedAt;
    return at.segment > target.segment || (at.segment === target.segment && at.offset >= target.offset);
  }

  private async run(): Promise<void> {
    let failures = 0;
    let needResync = false;
    while (!this.closed) {
      try {
        if (needResync) {
          await this.resync();
          needResync = false;
        }
        const progressed = await this.forwardRound();
        failures = 0;
        if (!this.closed) this.state = "forwarding";
        if (!progressed) await this.idle();
      } catch (err) {
        if (this.closed) break;
        this.lastError = (err as Error)?.message ?? String(err);
        if (err instanceof SeglogError && (err.code === "REPLICATION_CONFLICT" || err.code === "CORRUPTION")) {
          this.state = "stopped";
          this.failWaiters(new SeglogError("NOT_REPLICATED", `stored and durable locally, but replication has stopped: ${this.lastError}`));
          return;
        }
        this.state = "retrying";
        needResync = true;
        await this.sleep(RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)]!);
      }
    }
  }

  /**
   * Keeps up to WINDOWS_IN_FLIGHT windows of durable records published, then takes
   * the answers of the oldest; false when there was nothing to send.
   */
  private async forwardRound(): Promise<boolean> {
    while (this.windows.length < WINDOWS_IN_FLIGHT) {
      const next = this.publishWindow();
      if (next === undefined) break;
      this.windows.push(next);
    }
    const oldest = this.windows.shift();
    if (oldest === undefined) {
      this.ackedAt = this.feed.at;
      this.waitingSince = undefined;
      this.releaseWaiters();
      return false;
    }
    const results = await oldest.settled;
    let failure: unknown;
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (r.status === "rejected") {
        failure = r.reason;
        break;
      }
      this.forwarded++;
      const sent = oldest.messages[i]!;
      if (sent.last) this.acked = sent.record.key;
    }
    if (failure !== undefined) {
      // Every later window expected this one's sequences: let them settle, then resync decides.
      const later = this.windows;
      this.windows = [];
      await Promise.all(later.map((w) => w.settled));
      throw this.explain(failure);
    }
    this.ackedAt = oldest.readTo;
    if (this.windows.length === 0) this.waitingSince = undefined;
    this.releaseWaiters();
    await this.saveState(false);
    return true;
  }

  /** Publishes the next records (and the rest of a split record), each expecting the sequence before it. */
  private publishWindow(): Window | undefined {
    const messages: Window["messages"] = [];
    if (this.carry !== undefined) {
      const { record, firstPart } = this.carry;
      const parts = messagesOf(record, this.prefix, this.saved.identity, this.maxPart, firstPart);
      parts.forEach((msg, i) => messages.push({ msg, record, last: i === parts.length - 1 }));
      this.carry = undefined;
    }
    for (const record of this.feed.next(WINDOW)) {
      const parts = messagesOf(record, this.prefix, this.saved.identity, this.maxPart);
      parts.forEach((msg, i) => messages.push({ msg, record, last: i === parts.length - 1 }));
    }
    if (messages.length === 0) return undefined;
    this.waitingSince ??= Date.now();
    const base = this.nextSeq;
    this.nextSeq += messages.length;
    const sent = messages.map(({ msg }, i) =>
      this.js.publish(msg.subject, msg.payload, { msgID: msg.msgID, headers: msg.headers, expect: { lastSequence: base + i, streamName: this.options.stream } }),
    );
    return { messages, settled: Promise.allSettled(sent), readTo: this.feed.at };
  }

  /** Finds where the stream ends in the local log; sets feed, sequence and acked key. */
  private async resync(): Promise<void> {
    const info = await this.jsm.streams.info(this.options.stream);
    const lastSeq = info.state.last_seq;
    this.carry = undefined;
    if (lastSeq === 0 || info.state.messages === 0) {
      this.feed = RecordFeed.fromStart(this.host.log);
      this.acked = { position: -1, index: 0 };
    } else {
      const stored = await this.jsm.streams.getMessage(this.options.stream, { seq: lastSeq });
      if (stored === null) throw new Error(`message ${lastSeq} of stream ${this.options.stream} is gone`);
      const last = parseMessage(stored.header, stored.data, lastSeq);
      const offset = (last.part - 1) * this.maxPartFor(last);
      const { feed, record } = RecordFeed.after(this.host.log, this.host.positions, last.key, (body) =>
        last.parts === 1 ? Buffer.compare(body, last.payload) === 0 : Buffer.compare(body.subarray(offset, offset + last.payload.length), last.payload) === 0,
      );
      this.feed = feed;
      this.acked = last.key;
      if (last.part < last.parts) this.carry = { record, firstPart: last.part + 1 };
    }
    this.nextSeq = lastSeq;
    this.windows = [];
    this.ackedAt = this.feed.at;
  }

  /** The part size the stored message was cut with (every part but the last is full). */
  private maxPartFor(last: { part: number; parts: number; payload: Uint8Array }): number {
    return last.part < last.parts ? last.payload.length : this.maxPart;
  }

  private async ensureStream(): Promise<void> {
    try {
      await this.jsm.streams.info(this.options.stream);
      return;
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== 10059) throw this.explain(err);
    }
    await this.jsm.streams.add({ name: this.options.stream, subjects: [`${this.prefix}.>`], num_replicas: this.options.replicas ?? 3 });
  }

  /** The hold segment and last key, to disk: at once when the hold moves, else at most once a second. */
  private async saveState(force: boolean): Promise<void> {
    const hold = this.feed.at.segment;
    const now = Date.now();
    const moved = hold !== this.saved.holdSegment;
    if (!force && !moved && now - this.savedAt < STATE_WRITE_INTERVAL_MS) return;
    // A hold only moves forward once everything before it was acknowledged.
    this.saved = { ...this.saved, holdSegment: Math.min(hold, this.ackedAt.segment), position: this.acked.position, index: this.acked.index, updatedAt: now };
    this.savedAt = now;
    const state = this.saved;
    // One write at a time; a failed one does not stop the next.
    this.saving = this.saving.catch(() => undefined).then(() => writeReplicationState(this.host.fs, this.host.dir, state));
    if (force || moved) await this.saving;
  }

  private releaseWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.reached(w)) w.done();
      else still.push(w);
    }
    this.waiters = still;
  }

  private failWaiters(err: SeglogError): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.fail(err);
  }

  /** Waits for a commit, an fsync, a waiter, or close. */
  private idle(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((done) => {
      this.wake = () => {
        this.wake = undefined;
        done();
      };
      void this.host.signal.wait().then(() => this.wake?.());
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((done) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        done();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        done();
      };
    });
  }

  /** A refusal JetStream gives when another writer appended: the next resync decides whether it is ours. */
  private explain(err: unknown): unknown {
    if (err instanceof JetStreamApiError && err.code === 10071) return new Error(`JetStream refused the expected sequence (someone else appended): ${err.message}`);
    return err;
  }
}
