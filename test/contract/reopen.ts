/**
 * Persistence checks shared by the object, cassette, recording and context
 * contracts: a database's state must come back the same after a reopen that
 * restores the checkpoint, and after one that has no checkpoint and rebuilds
 * every index by replaying the whole log.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "../../engine/index.js";
import type { EngineOptions as OpenOptions } from "../../engine/options.js";
import type { DatabaseHarness } from "./event-store.contract.js";

/** The file open reads to skip replaying the log (engine/format/constants.ts CHECKPOINT_FILE). */
const CHECKPOINT_FILE = "checkpoint.ckpt";

/**
 * Runs `check` on `db`, then closes it and runs `check` after a reopen from the
 * checkpoint, and again after a reopen with the checkpoint deleted. Returns the
 * last database (open; the harness closes it after the test).
 */
export async function checkAcrossReopen(
  h: DatabaseHarness,
  db: Database,
  check: (db: Database, how: string) => Promise<void>,
  options?: OpenOptions,
): Promise<Database> {
  await labelled("before reopen", () => check(db, "before reopen"));
  const fromCheckpoint = await h.reopen(db, options);
  await labelled("after reopen from the checkpoint", () => check(fromCheckpoint, "after reopen from the checkpoint"));
  await fromCheckpoint.close();
  const checkpoint = join(db.dir, CHECKPOINT_FILE);
  expect(existsSync(checkpoint)).toBe(true);
  rmSync(checkpoint);
  const replayed = await h.open(options, db.dir);
  await labelled("after a full replay of the log", () => check(replayed, "after a full replay of the log"));
  return replayed;
}

/** Prefixes a failure's message with the step it happened in. */
async function labelled(step: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (err instanceof Error) err.message = `${step}: ${err.message}`;
    throw err;
  }
}

/** Closes `db` and opens its directory with the checkpoint deleted, so every index comes from the log. */
export async function reopenWithoutCheckpoint(h: DatabaseHarness, db: Database, options?: OpenOptions): Promise<Database> {
  await db.close();
  rmSync(join(db.dir, CHECKPOINT_FILE), { force: true });
  return h.open(options, db.dir);
}

export async function diskBytes(db: Database): Promise<number> {
  return (await db.stats()).diskBytes;
}
