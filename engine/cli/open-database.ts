/**
 * How commands open a database. Only `serve` (and `--create`) may create one:
 * every other command refuses a path that holds no seglog database, before
 * writing anything, so pointing the CLI at the wrong folder is harmless.
 */
import { SeglogError } from "../errors.js";
import { NodeFileSystem } from "../io/node-file-system.js";
import { open } from "../database.js";
import type { Database } from "../types.js";

const SEGMENT_FILE = /^\d{20}\.seg$/;

/** True when `dir` holds at least one segment file: every database has one from its first open. */
export function holdsDatabase(dir: string): boolean {
  return new NodeFileSystem().list(dir).some((name) => SEGMENT_FILE.test(name));
}

/** Throws INVALID_ARGUMENT when `dir` exists and is a file; false when it does not exist. */
export function existingDirectory(dir: string): boolean {
  const fs = new NodeFileSystem();
  if (!fs.exists(dir)) return false;
  if (!fs.isDirectory(dir)) throw new SeglogError("INVALID_ARGUMENT", `${dir} is a file, not a database directory`, { argument: "dir" });
  return true;
}

/** Throws NOT_FOUND (missing, or not a database) or INVALID_ARGUMENT (a file). */
export function checkDatabaseDirectory(dir: string): void {
  if (!existingDirectory(dir)) throw new SeglogError("NOT_FOUND", `no database directory at ${dir}`);
  if (!holdsDatabase(dir)) throw new SeglogError("NOT_FOUND", `${dir} holds no seglog database (no segment files); nothing was written`);
}

export async function openExisting(dir: string, options: { readOnly: boolean }): Promise<Database> {
  checkDatabaseDirectory(dir);
  return open(dir, { readOnly: options.readOnly });
}

export function parseInteger(value: string, name: string): number {
  const n = Number(value);
  if (!/^-?[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 0) {
    throw new SeglogError("INVALID_ARGUMENT", `${name} must be an integer >= 0, got "${value}"`, { argument: name });
  }
  return n;
}
