/**
 * Emmett's async processors (reactors and projectors) on seglog: each
 * processor gets a subscription of its own (catch-up, then live) starting
 * right after its stored checkpoint, and handles one message at a time; the
 * reactor stores the checkpoint after each message (checkpoints.ts).
 *
 * As with Emmett's other consumers, `start()` resolves when the consumer
 * stops (stop(), close(), or every processor said STOP) and rejects with the
 * first handler failure, after stopping the others.
 */
import { projector, reactor, type AnyEvent, type AnyMessage, type MessageConsumer, type MessageProcessor, type ProjectorOptions, type ReactorOptions, type ReadEventMetadataWithGlobalPosition } from "@event-driven-io/emmett";
import { randomUUID } from "node:crypto";
import type { Database, Subscription } from "../../types.js";
import { seglogCheckpointer, type SeglogProcessorContext } from "./checkpoints.js";
import { toReadEvent } from "./read-event.js";
import { seglogPositionOf } from "./positions.js";

type Processor = MessageProcessor<AnyMessage, ReadEventMetadataWithGlobalPosition, SeglogProcessorContext>;

export interface SeglogConsumerOptions {
  consumerId?: string;
  processors?: Processor[];
}

export type SeglogConsumer = MessageConsumer & {
  /** Adds a reactor whose checkpoint is stored in seglog (unless `checkpoints` is given). */
  reactor<M extends AnyMessage = AnyMessage>(options: ReactorOptions<M, ReadEventMetadataWithGlobalPosition, SeglogProcessorContext>): Processor;
  /** Adds a projector whose checkpoint is stored in seglog (unless `checkpoints` is given). */
  projector<E extends AnyEvent = AnyEvent>(options: ProjectorOptions<E, ReadEventMetadataWithGlobalPosition, SeglogProcessorContext>): Processor;
};

export function seglogReactor<M extends AnyMessage = AnyMessage>(options: ReactorOptions<M, ReadEventMetadataWithGlobalPosition, SeglogProcessorContext>): Processor {
  return reactor({ ...options, checkpoints: options.checkpoints ?? seglogCheckpointer<M>() } as never) as unknown as Processor;
}

export function seglogProjector<E extends AnyEvent = AnyEvent>(options: ProjectorOptions<E, ReadEventMetadataWithGlobalPosition, SeglogProcessorContext>): Processor {
  return projector({ ...options, checkpoints: options.checkpoints ?? seglogCheckpointer<E>() } as never) as unknown as Processor;
}

export function consumerOn(database: () => Promise<Database>, options: SeglogConsumerOptions = {}): SeglogConsumer {
  const processors: Processor[] = [...(options.processors ?? [])];
  const subscriptions = new Set<Subscription>();
  let running: Promise<void> | undefined;
  let stopping = false;

  const runProcessor = async (db: Database, processor: Processor): Promise<void> => {
    const context: SeglogProcessorContext = { seglog: db };
    const startFrom = await processor.start(context);
    if (stopping) return;
    const subscription = db.events.subscribe(subscribeFrom(startFrom));
    subscriptions.add(subscription);
    try {
      for await (const event of subscription) {
        if (stopping || !processor.isActive) break;
        const result = await processor.handle([toReadEvent(event)], context);
        if (result !== undefined && result.type === "STOP") break;
        if (!processor.isActive) break;
      }
    } finally {
      subscriptions.delete(subscription);
      subscription.close();
    }
  };

  const stop = async (): Promise<void> => {
    stopping = true;
    for (const subscription of subscriptions) subscription.close();
    await running?.catch(() => undefined);
  };

  const consumer: SeglogConsumer = {
    consumerId: options.consumerId ?? randomUUID(),
    get isRunning() {
      return running !== undefined && !stopping;
    },
    processors,
    start(): Promise<void> {
      if (running !== undefined) return running;
      stopping = false;
      running = (async () => {
        const db = await database();
        const loops = processors.map((p) =>
          runProcessor(db, p).catch(async (err: unknown) => {
            // One failing handler stops the consumer: the others end at a message boundary.
            stopping = true;
            for (const subscription of subscriptions) subscription.close();
            throw err;
          }),
        );
        const outcomes = await Promise.allSettled(loops);
        const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
        if (failed !== undefined) throw failed.reason;
      })().finally(() => {
        running = undefined;
        stopping = false;
      });
      return running;
    },
    stop,
    async close(): Promise<void> {
      await stop();
      const db = await database();
      for (const p of processors) await p.close({ seglog: db });
    },
    reactor(reactorOptions) {
      const p = seglogReactor(reactorOptions);
      processors.push(p);
      return p;
    },
    projector(projectorOptions) {
      const p = seglogProjector(projectorOptions);
      processors.push(p);
      return p;
    },
  };
  return consumer;
}

/** Where a processor's subscription starts: seglog's `from` is exclusive, as an Emmett checkpoint is. */
function subscribeFrom(startFrom: Awaited<ReturnType<Processor["start"]>>): { from?: number | "end" } {
  if (startFrom === undefined || startFrom === "BEGINNING") return {};
  if (startFrom === "END") return { from: "end" };
  const last = startFrom.lastCheckpoint as bigint;
  return last <= 0n ? {} : { from: seglogPositionOf(last, "lastCheckpoint") };
}
