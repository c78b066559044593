/** A seglog event as Emmett reads it: its id, stream and 1-based positions in the metadata, over the caller's own. */
import type { Event, ReadEvent, ReadEventMetadataWithGlobalPosition } from "@event-driven-io/emmett";
import type { RecordedEvent } from "../../types.js";
import { globalPositionOf, streamPositionOf } from "./positions.js";

export type SeglogReadEventMetadata = ReadEventMetadataWithGlobalPosition;
export type SeglogReadEvent<E extends Event = Event> = ReadEvent<E, SeglogReadEventMetadata>;

export function toReadEvent<E extends Event>(e: RecordedEvent): SeglogReadEvent<E> {
  return {
    type: e.type,
    data: e.data,
    kind: "Event",
    metadata: {
      ...e.metadata,
      messageId: e.id,
      streamName: e.streamId,
      streamPosition: streamPositionOf(e.version),
      globalPosition: globalPositionOf(e.position),
    },
  } as unknown as SeglogReadEvent<E>;
}
