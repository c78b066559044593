/**
 * `seglog serve <dir> [--port 4437] [--host 127.0.0.1] [--long-poll-timeout MS] [--memory-budget BYTES]`:
 * the Durable Streams HTTP protocol over db.streams (engine/server/).
 *
 * Holds the writer lock for as long as it runs. <dir> is created when missing
 * or empty (it is the database being served; its parent must exist); a folder
 * holding other files but no database is refused unless --create says to put
 * one there. The port is checked before the directory is touched. SIGINT and
 * SIGTERM shut down gracefully: stop accepting, answer what is in flight, then
 * close the database (fsync, checkpoint, release the lock) and exit 0.
 */
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { open } from "../database.js";
import { SeglogError } from "../errors.js";
import { NodeFileSystem } from "../io/node-file-system.js";
import { isLoopback } from "../server/access-token.js";
import { DEFAULT_MEMORY_BUDGET_BYTES, DEFAULT_HOST, DEFAULT_PORT, StreamServer } from "../server/stream-server.js";
import { existingDirectory, holdsDatabase, parseInteger } from "./open-database.js";

interface ServeOptions {
  port: string;
  host: string;
  longPollTimeout?: string;
  memoryBudget?: string;
  authTokenFile?: string;
  auth: boolean;
  publicUrl?: string;
  create?: boolean;
  replicate?: string;
  replicateStream: string;
  replicateAck: string;
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("serve byte streams over the Durable Streams HTTP protocol")
    .argument("<dir>", "database directory (created when missing)")
    .option("--port <n>", "TCP port (0: any free port)", String(DEFAULT_PORT))
    .option("--host <address>", "address to listen on", DEFAULT_HOST)
    .option("--long-poll-timeout <ms>", "how long a long-poll read waits for data (default 3000)")
    .option("--create", "create the database even in a folder that already holds other files")
    .option("--auth-token-file <path>", "require Authorization: Bearer <the file's first line> on every request (also SEGLOG_AUTH_TOKEN)")
    .option("--no-auth", "serve a non-loopback address without a token (behind a proxy that authenticates)")
    .option("--public-url <url>", "the URL clients reach the server at, for Location headers (behind a proxy)")
    .option("--memory-budget <bytes>", `bytes held for clients at once: request bodies (beyond it 503) and SSE output queued for slow readers (beyond it the connection ends) (default ${DEFAULT_MEMORY_BUDGET_BYTES})`)
    .option("--replicate <url>", "forward the event store into NATS JetStream at this URL (comma-separated for a cluster)")
    .option("--replicate-stream <name>", "the JetStream stream to forward into", "seglog")
    .option("--replicate-ack <mode>", 'local (writes answer at the local fsync) or replicated (once JetStream has them)', "local")
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
      checkServedDirectory(dir, options.create === true);
      // A port in use fails here, before the database directory is created or locked.
      await checkPortFree(options.host, port);
      // Every fsync on a worker: one on the event loop would hold every client as long as the disk takes.
      const db = await open(dir, { fsyncOnWorker: true });
      if (options.replicate !== undefined) {
        try {
          // Loaded here: the NATS clients are optional packages.
          const { replicate } = await import("../integrations/replication/index.js");
          await replicate(db, { servers: options.replicate.split(","), stream: options.replicateStream, ack: options.replicateAck as "local" | "replicated" });
        } catch (err) {
          await db.close();
          throw err;
        }
      }
      const server = new StreamServer(db.streams, {
        host: options.host,
        port,
        ...(longPollMs === undefined ? {} : { longPollMs }),
        ...(memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes }),
        ...(accessToken === undefined ? {} : { accessToken }),
        ...(options.publicUrl === undefined ? {} : { publicUrl: checkPublicUrl(options.publicUrl) }),
        // The process is the server's: its resident memory is what the budget bounds.
        watchResidentMemory: true,
      });
      let url: string;
      try {
        url = await server.listen();
      } catch (err) {
        await db.close();
        throw err;
      }
      process.stdout.write(`seglog serving ${db.dir} at ${url}/v1/stream/\n`);
      if (options.replicate !== undefined) process.stdout.write(`seglog forwarding events to stream ${options.replicateStream} at ${options.replicate}\n`);
      const signal = await new Promise<NodeJS.Signals>((done) => {
        process.once("SIGINT", done);
        process.once("SIGTERM", done);
      });
      process.stdout.write(`seglog: ${signal}, shutting down\n`);
      await server.close();
      await db.close();
    });
}

function checkServedDirectory(dir: string, create: boolean): void {
  const fs = new NodeFileSystem();
  const parent = dirname(resolve(dir));
  if (!fs.isDirectory(parent)) throw new SeglogError("NOT_FOUND", `no directory ${parent} to hold the database ${dir}`);
  if (!existingDirectory(dir)) return;
  if (create || holdsDatabase(dir) || fs.list(dir).length === 0) return;
  throw new SeglogError("INVALID_ARGUMENT", `${dir} holds other files and no seglog database: give --create to make one there, or choose an empty or new directory`, { argument: "dir" });
}

/** Binds and releases the port: EADDRINUSE (or EACCES) now rather than after the database is opened. */
function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) =>
      fail(new SeglogError("INVALID_ARGUMENT", `cannot listen on ${host}:${port}: ${err.code === "EADDRINUSE" ? "the port is in use" : err.message}`, { argument: "--port", cause: err })),
    );
    probe.listen(port, host, () => probe.close(() => done()));
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
