/**
 * `seglog dump <dir> [--stream ID] [--from POS] [--count N] [--json] [--full]`:
 * events in global order, or one stream's with --stream (then --from is a
 * version). Streams through the iterators, so a dump of any size runs in flat
 * memory; stops quietly when the reader of a pipe goes away. Data longer than
 * a line's worth is shortened unless --full (--json lines are always whole).
 */
import type { Command } from "commander";
import { SeglogError } from "../errors.js";
import type { RecordedEvent } from "../types.js";
import { openExisting, parseInteger } from "./open-database.js";
import { out } from "./output.js";

/** Characters of data shown per event without --full. */
const SHOWN_DATA = 120;

interface DumpOptions {
  stream?: string;
  from?: string;
  count?: string;
  json?: boolean;
  full?: boolean;
}

export function registerDump(program: Command): void {
  program
    .command("dump")
    .description("print events in global order, or one stream's")
    .argument("<dir>", "database directory")
    .option("--stream <id>", "only this stream (STREAM_NOT_FOUND when it never existed)")
    .option("--from <n>", "first position, inclusive (a version with --stream)")
    .option("--count <n>", "at most this many events")
    .option("--json", "one RecordedEvent as JSON per line, data in full")
    .option("--full", `show all of each event's data (default: the first ${SHOWN_DATA} characters)`)
    .action(async (dir: string, options: DumpOptions) => {
      const from = options.from === undefined ? undefined : parseInteger(options.from, "--from");
      const count = options.count === undefined ? undefined : parseInteger(options.count, "--count");
      const db = await openExisting(dir, { readOnly: true });
      try {
        if (options.stream !== undefined && db.events.streamVersion(options.stream) < 0) {
          throw new SeglogError("STREAM_NOT_FOUND", `stream ${options.stream} does not exist`, { streamId: options.stream });
        }
        const read = { ...(from === undefined ? {} : { from }), ...(count === undefined ? {} : { count }) };
        const events = options.stream === undefined ? db.events.iterateAll(read) : db.events.iterateStream(options.stream, read);
        for await (const e of events) {
          if (!out(`${options.json ? JSON.stringify(e, jsonBytes) : line(e, options.full === true)}\n`)) break;
        }
      } finally {
        await db.close();
      }
    });
}

function line(e: RecordedEvent, full: boolean): string {
  let data = JSON.stringify(e.data, jsonBytes) ?? "undefined";
  if (!full && data.length > SHOWN_DATA) data = `${data.slice(0, SHOWN_DATA)}… (${data.length - SHOWN_DATA} more characters; --full shows all)`;
  return `#${e.position} ${e.streamId}@${e.version} ${e.type} ${new Date(e.timestamp).toISOString()} ${data}`;
}

/** Bytes print as base64 so every line stays valid JSON. */
function jsonBytes(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? { $bytes: Buffer.from(value).toString("base64") } : value;
}
