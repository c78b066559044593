/**
 * seglog as an Emmett `EventStore`: `getSeglogEventStore(db)` or
 * `getSeglogEventStore({ dir, ...openOptions })` (the database is then opened on
 * first use and closed by `close()`).
 *
 * The store is a plain object of closures: Emmett's WrapEventStore spreads a
 * store into a new object, which would drop methods of a class.
 *
 * Where Emmett's own stores differ from one another, this adapter follows the
 * rule seglog enforces (docs/emmett.md lists each choice):
 *   - every expected-version form is checked, STREAM_EXISTS and
 *     STREAM_DOES_NOT_EXIST included, and a conflict reports the real current
 *     version;
 *   - `from` and `to` are inclusive stream positions and `maxCount` is exactly
 *     the most events returned;
 *   - a caller's `metadata.messageId` is the event id, so a retried append of
 *     the same events after the same version is stored once.
 */
import {
  downcastRecordedMessages,
  ExpectedVersionConflictError,
  upcastRecordedMessages,
  type AggregateStreamOptions,
  type AggregateStreamResultWithGlobalPosition,
  type AppendToStreamOptions,
  type AppendToStreamResultWithGlobalPosition,
  type Event,
  type EventStore,
  type ExpectedStreamVersion,
  type ReadStreamOptions,
  type ReadStreamResult,
} from "@event-driven-io/emmett";
import { open } from "../../database.js";
import { invalidArgument, SeglogError } from "../../errors.js";
import type { Database, NewEvent, OpenOptions } from "../../types.js";
import { consumerOn, type SeglogConsumer, type SeglogConsumerOptions } from "./consumer.js";
import { globalPositionOf, streamPositionOf, toExpectedVersion, toNumber } from "./positions.js";
import { toReadEvent, type SeglogReadEvent, type SeglogReadEventMetadata } from "./read-event.js";

export type { SeglogReadEvent, SeglogReadEventMetadata };


/** Metadata keys the store computes on read; a caller's values for them are not stored. */
const COMPUTED = ["messageId", "streamName", "streamPosition", "globalPosition"] as const;

export interface SeglogEventStore extends EventStore<SeglogReadEventMetadata> {
  appendToStream<E extends Event, P extends Event = E>(streamName: string, events: E[], options?: AppendToStreamOptions<bigint, E, P>): Promise<AppendToStreamResultWithGlobalPosition>;
  aggregateStream<State, E extends Event, P extends Event = E>(streamName: string, options: AggregateStreamOptions<State, E, SeglogReadEventMetadata, P>): Promise<AggregateStreamResultWithGlobalPosition<State>>;
  /** Async processors fed by seglog subscriptions, each with its checkpoint stored in seglog. */
  consumer(options?: SeglogConsumerOptions): SeglogConsumer;
  /** The database underneath (opened on first use when the store was given a directory). */
  database(): Promise<Database>;
  /** Closes the database if this store opened it; a database passed in stays open. */
  close(): Promise<void>;
}

export type SeglogEventStoreSource = Database | ({ dir: string } & OpenOptions);

export function getSeglogEventStore(source: SeglogEventStoreSource): SeglogEventStore {
  if (source === null || typeof source !== "object") throw invalidArgument("source", "must be a seglog database or { dir, ...openOptions }");
  // A Database has a `dir` too: what tells them apart is its stores.
  const owned = !("events" in source && typeof source.events === "object");
  if (owned && typeof (source as { dir?: unknown }).dir !== "string") throw invalidArgument("source.dir", "must be a directory path");
  let opening: Promise<Database> | undefined = owned ? undefined : Promise.resolve(source as Database);
  const database = (): Promise<Database> => {
    if (opening === undefined) {
      const { dir, ...options } = source as { dir: string } & OpenOptions;
      opening = open(dir, options);
    }
    return opening;
  };

  const readStream = async <E extends Event, P extends Event = E>(streamName: string, options?: ReadStreamOptions<bigint, E, P>): Promise<ReadStreamResult<E, SeglogReadEventMetadata>> => {
    const db = await database();
    checkStreamName(streamName);
    const current = streamPositionOf(db.events.streamVersion(streamName));
    const exists = db.events.streamExists(streamName);
    checkExpected(options?.expectedStreamVersion, current, exists);
    const from = options?.from === undefined ? 0 : Math.max(0, toNumber(options.from, "from") - 1);
    const to = options?.to === undefined ? Infinity : toNumber(options.to, "to") - 1;
    let count = options?.maxCount === undefined ? Infinity : toNumber(options.maxCount, "maxCount");
    // Versions are dense from `from` on (truncation only removes older ones), so
    // `to` bounds the count too; filtering on it covers a read that starts below a truncation.
    count = Math.min(count, to - from + 1);
    const recorded = exists && count > 0 ? await db.events.readStream(streamName, Number.isFinite(count) ? { from, count } : { from }) : [];
    const events = recorded.filter((e) => e.version <= to).map((e) => toReadEvent<E>(e));
    const upcast = options?.schema?.versioning;
    return {
      currentStreamVersion: current,
      events: upcast === undefined ? events : (upcastRecordedMessages(events as never, upcast as never) as unknown as SeglogReadEvent<E>[]),
      streamExists: exists,
    };
  };

  const store: SeglogEventStore = {
    readStream,

    async aggregateStream<State, E extends Event, P extends Event = E>(streamName: string, options: AggregateStreamOptions<State, E, SeglogReadEventMetadata, P>): Promise<AggregateStreamResultWithGlobalPosition<State>> {
      if (options === null || typeof options !== "object" || typeof options.evolve !== "function" || typeof options.initialState !== "function") {
        throw invalidArgument("options", "must have evolve and initialState functions");
      }
      const { evolve, initialState, read } = options;
      const result = await readStream<E, P>(streamName, read);
      let state = initialState();
      for (const event of result.events) state = (evolve as (s: State, e: SeglogReadEvent<E>) => State)(state, event);
      const last = result.events.at(-1);
      // A read cut short (time travel with `to`, or maxCount) describes the state as of its last event.
      const limited = read?.to !== undefined || read?.maxCount !== undefined;
      const currentStreamVersion = limited ? (last?.metadata.streamPosition ?? 0n) : result.currentStreamVersion;
      return result.streamExists && last !== undefined
        ? { currentStreamVersion, state, streamExists: true, lastEventGlobalPosition: last.metadata.globalPosition }
        : { currentStreamVersion, state, streamExists: false };
    },

    async appendToStream<E extends Event, P extends Event = E>(streamName: string, events: E[], options?: AppendToStreamOptions<bigint, E, P>): Promise<AppendToStreamResultWithGlobalPosition> {
      const db = await database();
      checkStreamName(streamName);
      if (!Array.isArray(events) || events.length === 0) throw invalidArgument("events", "must be a non-empty array");
      const expected = options?.expectedStreamVersion;
      const expectedVersion = toExpectedVersion(expected);
      const downcast = options?.schema?.versioning;
      const stored = downcast === undefined ? events : (downcastRecordedMessages(events as never, downcast as never) as unknown as Event[]);
      try {
        const r = await db.events.append(streamName, stored.map(toNewEvent), { expectedVersion });
        return {
          nextExpectedStreamVersion: streamPositionOf(r.lastVersion),
          createdNewStream: r.firstVersion === 0,
          lastEventGlobalPosition: globalPositionOf(r.lastPosition),
        };
      } catch (err) {
        if (err instanceof SeglogError && err.code === "WRONG_EXPECTED_VERSION") {
          throw new ExpectedVersionConflictError(streamPositionOf(err.actual ?? -1), expected ?? "NO_CONCURRENCY_CHECK");
        }
        throw err;
      }
    },

    async streamExists(streamName: string): Promise<boolean> {
      const db = await database();
      checkStreamName(streamName);
      return db.events.streamExists(streamName);
    },

    consumer: (options) => consumerOn(database, options),

    database,

    async close(): Promise<void> {
      if (owned && opening !== undefined) await (await opening).close();
    },
  };
  return store;
}

/** An Emmett event as seglog stores it: the caller's messageId becomes the event id. */
function toNewEvent(event: Event): NewEvent {
  if (event === null || typeof event !== "object") throw invalidArgument("events", "must hold event objects");
  const metadata = "metadata" in event && event.metadata !== undefined && event.metadata !== null ? { ...(event.metadata as Record<string, unknown>) } : undefined;
  const id = metadata?.messageId;
  if (id !== undefined && typeof id !== "string") throw invalidArgument("metadata.messageId", "must be a string");
  if (metadata !== undefined) for (const key of COMPUTED) delete metadata[key];
  return {
    type: event.type,
    data: event.data,
    ...(metadata === undefined || Object.keys(metadata).length === 0 ? {} : { metadata }),
    ...(id === undefined ? {} : { id }),
  };
}

function checkStreamName(streamName: string): void {
  if (typeof streamName !== "string" || streamName === "") throw invalidArgument("streamName", "must be a non-empty string");
}

function checkExpected(expected: ExpectedStreamVersion | undefined, current: bigint, exists: boolean): void {
  const seglog = toExpectedVersion(expected);
  const ok = seglog === "any" ? true : seglog === "stream_exists" ? exists : seglog === "no_stream" || seglog === -1 ? !exists : current === BigInt(seglog + 1);
  if (!ok) throw new ExpectedVersionConflictError(current, expected!);
}
