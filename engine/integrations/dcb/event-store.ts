/**
 * seglog as an `EventStore` of `@dcb-es/event-store` (7.x):
 * `getSeglogDcbEventStore(db)` or `getSeglogDcbEventStore({ dir, ...openOptions })`
 * (the database is then opened on first use and closed by `close()`), so that
 * its `buildDecisionModel` and decision models run on seglog unchanged.
 *
 * Mapping (docs/dcb.md):
 *   - a SequencePosition is seglog's global position + 1 (the library counts
 *     from 1, its `initial()` 0 meaning "before the first event");
 *   - query items map one to one (types ORed, tags ANDed) onto db.events.query;
 *   - every event goes to one seglog stream, "dcb" unless `streamId` says
 *     otherwise: DCB has no streams, its boundaries are its conditions, and a
 *     stream derived from tags would be an arbitrary pick for an event with
 *     several; one stream keeps every adapter event readable with seglog's own
 *     stream reads too, in order;
 *   - `metadata` is kept under the key "dcb" of seglog's metadata object, so any
 *     value (a string, an array, undefined) reads back as it was given;
 *   - one call with several commands is one atomic seglog append carrying every
 *     command's condition; a failed one throws the library's AppendConditionError
 *     with its command index.
 */
import {
  AppendConditionError,
  SequencePosition,
  Tags,
  validateAppendCondition,
  type AppendCommand,
  type AppendCondition as DcbCondition,
  type DcbEvent,
  type EventStore,
  type Query,
  type ReadOptions,
  type SequencedEvent,
  type SubscribeOptions,
} from "@dcb-es/event-store";
import { open } from "../../database.js";
import { invalidArgument, SeglogError } from "../../errors.js";
import type { AppendCondition, Database, EventQuery, NewEvent, OpenOptions, RecordedEvent } from "../../types.js";

export type SeglogDcbEventStoreSource = Database | ({ dir: string } & OpenOptions);

export interface SeglogDcbOptions {
  /** The seglog stream the adapter's events go to (default "dcb"). */
  streamId?: string;
}

export interface SeglogDcbEventStore extends EventStore {
  /** The database underneath (opened on first use when the store was given a directory). */
  database(): Promise<Database>;
  /** Closes the database if this store opened it; a database passed in stays open. */
  close(): Promise<void>;
}

export function getSeglogDcbEventStore(source: SeglogDcbEventStoreSource, options: SeglogDcbOptions = {}): SeglogDcbEventStore {
  if (source === null || typeof source !== "object") throw invalidArgument("source", "must be a seglog database or { dir, ...openOptions }");
  const owned = !("events" in source && typeof source.events === "object");
  if (owned && typeof (source as { dir?: unknown }).dir !== "string") throw invalidArgument("source.dir", "must be a directory path");
  const streamId = options.streamId ?? "dcb";
  if (typeof streamId !== "string" || streamId.length === 0) throw invalidArgument("options.streamId", "must be a non-empty string");
  let opening: Promise<Database> | undefined = owned ? undefined : Promise.resolve(source as Database);
  const database = (): Promise<Database> => {
    if (opening === undefined) {
      const { dir, ...openOptions } = source as { dir: string } & OpenOptions;
      opening = open(dir, openOptions);
    }
    return opening;
  };

  return {
    database,

    async append(command: AppendCommand | AppendCommand[]): Promise<SequencePosition> {
      const commands = Array.isArray(command) ? command : [command];
      const events: NewEvent[] = [];
      const conditions: AppendCondition[] = [];
      const commandOf: number[] = [];
      commands.forEach((c, i) => {
        if (c === null || typeof c !== "object") throw invalidArgument(`command[${i}]`, "must be { events, condition? }");
        for (const e of Array.isArray(c.events) ? c.events : [c.events]) events.push(toNewEvent(e));
        if (c.condition !== undefined) {
          try {
            validateAppendCondition(c.condition);
          } catch (err) {
            throw new SeglogError("INVALID_ARGUMENT", `command[${i}].condition: ${(err as Error).message}`, { argument: `command[${i}].condition`, cause: err });
          }
          conditions.push({ failIfEventsMatch: toQuery(c.condition.failIfEventsMatch), after: c.condition.after === undefined ? undefined : toSeglog(c.condition.after) });
          commandOf.push(i);
        }
      });
      if (events.length === 0) throw invalidArgument("command", "holds no events: nothing to append");
      const db = await database();
      try {
        const result = await db.events.append(streamId, events, conditions.length === 0 ? undefined : { condition: conditions });
        return toSequence(result.lastPosition);
      } catch (err) {
        if (err instanceof SeglogError && err.code === "APPEND_CONDITION_FAILED") {
          const i = commandOf[err.conditionIndex ?? 0]!;
          throw new AppendConditionError(commands[i]!.condition as DcbCondition, commands.length > 1 ? i : undefined);
        }
        throw err;
      }
    },

    async *read(query: Query, options?: ReadOptions): AsyncGenerator<SequencedEvent> {
      const db = await database();
      const backward = options?.backwards === true;
      let from: number | undefined;
      if (options?.after !== undefined) {
        const after = toSeglog(options.after);
        from = backward ? after - 1 : after + 1;
        if (from < 0) return;
      }
      // Like MemoryEventStore, a limit of 0 (or none) reads everything.
      const limit = options?.limit !== undefined && options.limit > 0 ? options.limit : undefined;
      for await (const e of db.events.iterateQuery(toQuery(query), { from, direction: backward ? "backward" : "forward", limit })) yield toSequenced(e);
    },

    async *subscribe(query: Query, options?: SubscribeOptions): AsyncGenerator<SequencedEvent> {
      const signal = options?.signal;
      if (signal?.aborted === true) return;
      const db = await database();
      const subscription = db.events.subscribe({ query: toQuery(query), from: options?.after === undefined ? -1 : toSeglog(options.after) });
      const stop = () => subscription.close();
      signal?.addEventListener("abort", stop, { once: true });
      try {
        // An abort closes the subscription, which ends this loop.
        for await (const e of subscription) yield toSequenced(e);
      } finally {
        signal?.removeEventListener("abort", stop);
        subscription.close();
      }
    },

    async close(): Promise<void> {
      if (owned && opening !== undefined) await (await opening).close();
    },
  };
}

function toQuery(query: Query): EventQuery {
  if (query === null || typeof query !== "object" || typeof query.isAll !== "boolean") throw invalidArgument("query", "must be a Query of @dcb-es/event-store");
  if (query.isAll) return "all";
  return { items: query.items.map((item) => ({ types: item.types, tags: item.tags?.values })) };
}

function toNewEvent(e: DcbEvent): NewEvent {
  if (e === null || typeof e !== "object" || typeof e.type !== "string") throw invalidArgument("event", "must be a DcbEvent { type, tags, data, metadata }");
  const tags = e.tags === undefined ? undefined : e.tags.values;
  return { type: e.type, data: e.data, tags, metadata: e.metadata === undefined ? undefined : { dcb: e.metadata } };
}

function toSequenced(e: RecordedEvent): SequencedEvent {
  const metadata = "dcb" in e.metadata ? e.metadata.dcb : undefined;
  return { event: { type: e.type, tags: Tags.from(e.tags), data: e.data, metadata }, position: toSequence(e.position) };
}

function toSequence(position: number): SequencePosition {
  return SequencePosition.fromString(String(position + 1));
}

function toSeglog(position: SequencePosition): number {
  if (position === null || typeof position !== "object" || typeof position.toString !== "function") throw invalidArgument("position", "must be a SequencePosition");
  return Number(position.toString()) - 1;
}
