/**
 * `seglog serve <dir> [--port 4437] [--host 127.0.0.1] [--long-poll-timeout MS] [--memory-budget BYTES]`:
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
import { isLoopback } from "../server/access-token.js";
import { DEFAULT_MEMORY_BUDGET_BYTES, DEFAULT_HOST, DEFAULT_PORT, StreamServer } from "../server/stream-server.js";
import { parseInteger } from "./open-database.js";

interface ServeOptions {
  port: string;
  host: string;
  longPollTimeout?: string;
  memoryBudget?: string;
  authTokenFile?: string;
  auth: boolean;
  publicUrl?: string;
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("serve byte streams over the Durable Streams HTTP protocol")
    .argument("<dir>", "database directory (created when missing)")
    .option("--port <n>", "TCP port (0: any free port)", String(DEFAULT_PORT))
    .option("--host <address>", "address to listen on", DEFAULT_HOST)
    .option("--long-poll-timeout <ms>", "how long a long-poll read waits for data")
    .option("--auth-token-file <path>", "require Authorization: Bearer <the file's first line> on every request (also SEGLOG_AUTH_TOKEN)")
    .option("--no-auth", "serve a non-loopback address without a token (behind a proxy that authenticates)")
    .option("--public-url <url>", "the URL clients reach the server at, for Location headers (behind a proxy)")
    .option("--memory-budget <bytes>", `bytes held for clients at once: request bodies (beyond it 503) and SSE output queued for slow readers (beyond it the connection ends) (default ${DEFAULT_MEMORY_BUDGET_BYTES})`)
    .action(async (dir: string, options: ServeOptions) => {
      const port = parseInteger(options.port, "--port");
      if (port > 65535) throw new SeglogError("INVALID_ARGUMENT", `--port must be at most 65535, got ${port}`, { argument: "--port" });
      const longPollMs = options.longPollTimeout === undefined ? undefined : parseInteger(options.longPollTimeout, "--long-poll-timeout");
      const memoryBudgetBytes = options.memoryBudget === undefined ? undefined : parseInteger(options.memoryBudget, "--memory-budget");
      const accessToken = readAccessToken(options.authTokenFile);
      if (accessToken === undefined && options.auth && !isLoopback(options.host)) {
        throw new SeglogError("INVALID_ARGUMENT", `--host ${options.host} is reachable from other machines: give --auth-token-file (or SEGLOG_AUTH_TOKEN), or --no-auth when a proxy in front authenticates`, {
          argument: "--host",
        });
      }
      const parent = dirname(resolve(dir));
      if (!new NodeFileSystem().isDirectory(parent)) throw new SeglogError("NOT_FOUND", `no directory ${parent} to hold the database ${dir}`);
      const db = await open(dir);
      const server = new StreamServer(db.streams, {
        host: options.host,
        port,
        ...(longPollMs === undefined ? {} : { longPollMs }),
        ...(memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes }),
        ...(accessToken === undefined ? {} : { accessToken }),
        ...(options.publicUrl === undefined ? {} : { publicUrl: checkPublicUrl(options.publicUrl) }),
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

/** The token from a file (its first line) or SEGLOG_AUTH_TOKEN; never from the command line, where `ps` shows it. */
function readAccessToken(file: string | undefined): string | undefined {
  let token: string | undefined;
  if (file !== undefined) {
    try {
      token = new TextDecoder().decode(new NodeFileSystem().readFile(file)).split(/\r?\n/)[0]!.trim();
    } catch (err) {
      throw new SeglogError("NOT_FOUND", `cannot read the token file ${file}: ${(err as Error).message}`, { argument: "--auth-token-file" });
    }
  } else token = process.env.SEGLOG_AUTH_TOKEN?.trim();
  if (token === undefined) return undefined;
  if (token.length < 16) throw new SeglogError("INVALID_ARGUMENT", "the access token must be at least 16 characters", { argument: "--auth-token-file" });
  return token;
}

function checkPublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SeglogError("INVALID_ARGUMENT", `--public-url must be an absolute http(s) URL, got "${value}"`, { argument: "--public-url" });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new SeglogError("INVALID_ARGUMENT", `--public-url must be http or https, got "${value}"`, { argument: "--public-url" });
  return url.origin;
}
