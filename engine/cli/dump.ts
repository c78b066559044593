/**
 * `seglog dump <dir> [--stream ID] [--from POS] [--count N] [--json]`: events in
 * global order, or one stream's with --stream (then --from is a version).
 * Streams through the iterators, so a dump of any size runs in flat memory.
 */
import type { Command } from "commander";
import type { RecordedEvent } from "../types.js";
import { openExisting, parseInteger } from "./open-database.js";

interface DumpOptions {
  stream?: string;
  from?: string;
  count?: string;
  json?: boolean;
}

export function registerDump(program: Command): void {
  program
    .command("dump")
    .description("print events in global order, or one stream's")
    .argument("<dir>", "database directory")
    .option("--stream <id>", "only this stream")
    .option("--from <n>", "first position (or version with --stream)")
    .option("--count <n>", "at most this many events")
    .option("--json", "one RecordedEvent as JSON per line")
    .action(async (dir: string, options: DumpOptions) => {
      const from = options.from === undefined ? undefined : parseInteger(options.from, "--from");
      const count = options.count === undefined ? undefined : parseInteger(options.count, "--count");
      const db = await openExisting(dir, { readOnly: true });
      try {
        const read = { ...(from === undefined ? {} : { from }), ...(count === undefined ? {} : { count }) };
        const events = options.stream === undefined ? db.events.iterateAll(read) : db.events.iterateStream(options.stream, read);
        for await (const e of events) process.stdout.write(`${options.json ? JSON.stringify(e, jsonBytes) : line(e)}\n`);
      } finally {
        await db.close();
      }
    });
}

function line(e: RecordedEvent): string {
  return `#${e.position} ${e.streamId}@${e.version} ${e.type} ${new Date(e.timestamp).toISOString()} ${JSON.stringify(e.data, jsonBytes)}`;
}

/** Bytes print as base64 so every line stays valid JSON. */
function jsonBytes(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? { $bytes: Buffer.from(value).toString("base64") } : value;
}
