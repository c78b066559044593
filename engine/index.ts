/** The public surface of seglog (docs/api.md) and nothing else. */
import { open as openEngine } from "./database.js";
import type { Database, OpenOptions } from "./types.js";

/**
 * Opens (creating when missing) the database in `dir`. Resolves once the log
 * is recovered: a torn tail is cut, older damage is reported by `verify()`.
 * Fails with LOCKED when another writer holds the directory.
 */
export function open(dir: string, options?: OpenOptions): Promise<Database> {
  // Only the public options reach the engine: its test hooks are not part of the API.
  if (options !== null && typeof options === "object" && "fileSystem" in options) {
    const { fileSystem: _ignored, ...publicOptions } = options as OpenOptions & { fileSystem?: unknown };
    return openEngine(dir, publicOptions);
  }
  return openEngine(dir, options);
}
export { SeglogError } from "./errors.js";
export type { ErrorCode } from "./errors.js";
export type * from "./types.js";
