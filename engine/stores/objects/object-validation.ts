/** Argument checks of the object store (see ../arguments.ts for the shared ones). */
import { invalidArgument } from "../../errors.js";
import { checkTime } from "../arguments.js";
import type { Chunk } from "./object-codec.js";

/** An array of { timestamp: finite number, data: Uint8Array }; other fields are not stored. */
export function checkChunks(value: unknown, name: string): Chunk[] {
  if (!Array.isArray(value)) throw invalidArgument(name, "must be an array of { timestamp, data }");
  for (let i = 0; i < value.length; i++) {
    const chunk = value[i] as Partial<Chunk> | null;
    if (typeof chunk !== "object" || chunk === null || Array.isArray(chunk)) throw invalidArgument(`${name}[${i}]`, "must be an object { timestamp, data }");
    checkTime(chunk.timestamp, `${name}[${i}].timestamp`);
    if (!(chunk.data instanceof Uint8Array)) throw invalidArgument(`${name}[${i}].data`, "must be a Uint8Array");
  }
  return value as Chunk[];
}
