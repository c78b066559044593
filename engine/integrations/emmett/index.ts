/**
 * `seglog/emmett`: seglog as an Emmett event store, with async processors
 * whose checkpoints live in seglog. Needs `@event-driven-io/emmett` (an
 * optional peer dependency of seglog).
 */
export { getSeglogEventStore } from "./event-store.js";
export type { SeglogEventStore, SeglogEventStoreSource, SeglogReadEvent, SeglogReadEventMetadata } from "./event-store.js";
export { seglogProjector, seglogReactor } from "./consumer.js";
export type { SeglogConsumer, SeglogConsumerOptions } from "./consumer.js";
export { checkpointContextId, readCheckpoint, seglogCheckpointer } from "./checkpoints.js";
export type { SeglogProcessorContext } from "./checkpoints.js";
