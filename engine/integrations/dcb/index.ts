/**
 * `seglog/dcb`: seglog as an `EventStore` of `@dcb-es/event-store` (Dynamic
 * Consistency Boundaries). Needs `@dcb-es/event-store` 7.x (an optional peer
 * dependency of seglog).
 */
export { getSeglogDcbEventStore } from "./event-store.js";
export type { SeglogDcbEventStore, SeglogDcbEventStoreSource, SeglogDcbOptions } from "./event-store.js";
