/** The public surface of seglog (docs/api.md) and nothing else. */
export { open } from "./database.js";
export { SeglogError } from "./errors.js";
export type { ErrorCode } from "./errors.js";
export type * from "./types.js";
