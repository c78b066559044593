/** How commands open a database: a missing directory is an error, never created. */
import { SeglogError } from "../errors.js";
import { NodeFileSystem } from "../io/node-file-system.js";
import { open } from "../database.js";
import type { Database } from "../types.js";

export async function openExisting(dir: string, options: { readOnly: boolean }): Promise<Database> {
  if (!new NodeFileSystem().isDirectory(dir)) {
    throw new SeglogError("NOT_FOUND", `no database directory at ${dir}`);
  }
  return open(dir, { readOnly: options.readOnly });
}

export function parseInteger(value: string, name: string): number {
  const n = Number(value);
  if (!/^-?[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 0) {
    throw new SeglogError("INVALID_ARGUMENT", `${name} must be an integer >= 0, got "${value}"`, { argument: name });
  }
  return n;
}
