/**
 * `seglog serve <dir> [--port 4437] [--host 127.0.0.1] [--long-poll-timeout MS] [--body-budget BYTES]`:
 * the Durable Streams HTTP protocol over db.streams (engine/server/).
 *
 * Holds the writer lock for as long as it runs. <dir> is created when missing
 * (it is the database being served), but its parent must exist. SIGINT and
 * SIGTERM shut down gracefully: stop accepting, answer what is in flight, then
 * close the database (fsync, checkpoint, release the lock) and exit 0.
 */
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { open } from "../database.js";
import { SeglogError } from "../errors.js";
import { NodeFileSystem } from "../io/node-file-system.js";
import { DEFAULT_BODY_BUDGET_BYTES, DEFAULT_HOST, DEFAULT_PORT, StreamServer } from "../server/stream-server.js";
import { parseInteger } from "./open-database.js";

interface ServeOptions {
  port: string;
  host: string;
  longPollTimeout?: string;
  bodyBudget?: string;
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("serve byte streams over the Durable Streams HTTP protocol")
    .argument("<dir>", "database directory (created when missing)")
    .option("--port <n>", "TCP port (0: any free port)", String(DEFAULT_PORT))
    .option("--host <address>", "address to listen on", DEFAULT_HOST)
    .option("--long-poll-timeout <ms>", "how long a long-poll read waits for data")
    .option("--body-budget <bytes>", `bytes of request bodies held at once across all requests; beyond it 503 (default ${DEFAULT_BODY_BUDGET_BYTES})`)
    .action(async (dir: string, options: ServeOptions) => {
      const port = parseInteger(options.port, "--port");
      if (port > 65535) throw new SeglogError("INVALID_ARGUMENT", `--port must be at most 65535, got ${port}`, { argument: "--port" });
      const longPollMs = options.longPollTimeout === undefined ? undefined : parseInteger(options.longPollTimeout, "--long-poll-timeout");
      const bodyBudgetBytes = options.bodyBudget === undefined ? undefined : parseInteger(options.bodyBudget, "--body-budget");
      const parent = dirname(resolve(dir));
      if (!new NodeFileSystem().isDirectory(parent)) throw new SeglogError("NOT_FOUND", `no directory ${parent} to hold the database ${dir}`);
      const db = await open(dir);
      const server = new StreamServer(db.streams, {
        host: options.host,
        port,
        ...(longPollMs === undefined ? {} : { longPollMs }),
        ...(bodyBudgetBytes === undefined ? {} : { bodyBudgetBytes }),
      });
      let url: string;
      try {
        url = await server.listen();
      } catch (err) {
        await db.close();
        throw err;
      }
      process.stdout.write(`seglog serving ${db.dir} at ${url}/v1/stream/\n`);
      const signal = await new Promise<NodeJS.Signals>((done) => {
        process.once("SIGINT", done);
        process.once("SIGTERM", done);
      });
      process.stdout.write(`seglog: ${signal}, shutting down\n`);
      await server.close();
      await db.close();
    });
}
