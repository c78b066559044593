/**
 * A throwaway PostgreSQL for the DCB benchmark: `initdb` into a temporary
 * directory, `postgres` on a free 127.0.0.1 port, removed again on stop. The
 * Debian package `postgresql` provides the binaries (/usr/lib/postgresql/<v>/bin);
 * when they are missing, `postgresBinaries()` says so and the bench leaves
 * PostgreSQL out rather than failing.
 *
 * PostgreSQL refuses to run as root: when this process is root, the server and
 * initdb run as the `postgres` user the package creates, in a directory it owns.
 *
 * Durability is PostgreSQL's default and is stated in the report: fsync on,
 * synchronous_commit on, wal_sync_method fdatasync — every commit is on disk
 * before it answers, as every seglog append under durability "sync" is.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "./free-ports.js";

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  version: string;
}

/** initdb and postgres from PATH or the newest /usr/lib/postgresql/<v>/bin; undefined when not installed. */
export function postgresBinaries(): PostgresBinaries | undefined {
  const dirs: string[] = [];
  const which = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" });
  if (which.status === 0 && which.stdout.trim() !== "") dirs.push(which.stdout.trim().replace(/\/initdb$/, ""));
  if (existsSync("/usr/lib/postgresql")) {
    const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
    for (const v of versions) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  }
  for (const dir of dirs) {
    const initdb = join(dir, "initdb");
    const postgres = join(dir, "postgres");
    if (!existsSync(initdb) || !existsSync(postgres)) continue;
    const v = spawnSync(postgres, ["--version"], { encoding: "utf8" });
    if (v.status === 0) return { initdb, postgres, version: v.stdout.trim() };
  }
  return undefined;
}

export class PostgresServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
    readonly version: string,
    readonly settings: Record<string, string>,
  ) {}

  /** The connection string for the `bench` superuser (trust authentication on loopback only). */
  get url(): string {
    return `postgres://bench@127.0.0.1:${this.port}/postgres`;
  }

  static async start(bin: PostgresBinaries, settings: Record<string, string> = {}): Promise<PostgresServer> {
    const dir = mkdtempSync(join(tmpdir(), "seglog-bench-pg-"));
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(dir, uidOf("postgres"), gidOf("postgres"));
    const run = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args]);
    const data = join(dir, "data");
    const [initCmd, initArgs] = run(bin.initdb, ["-D", data, "-U", "bench", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    const init = spawnSync(initCmd, initArgs, { encoding: "utf8" });
    if (init.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
    }
    const [port] = await freePorts(1);
    const all = { fsync: "on", synchronous_commit: "on", max_connections: "200", shared_buffers: "256MB", ...settings };
    const flags = Object.entries(all).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
    const [cmd, args] = run(bin.postgres, ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", ...flags]);
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    const server = new PostgresServer(child, dir, port!, bin.version, all);
    const deadline = Date.now() + 30_000;
    while (!(await accepts(port!))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await server.stop();
        throw new Error(`postgres did not start: ${log}`);
      }
      await new Promise((done) => setTimeout(done, 100));
    }
    return server;
  }

  /**
   * Fast shutdown (SIGINT to the postmaster, whose pid is the first line of
   * postmaster.pid: runuser, our child when root, does not pass signals on),
   * then the directory goes.
   */
  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((done) => this.child.once("exit", done));
      const pidFile = join(this.dir, "data", "postmaster.pid");
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").split("\n")[0]) : NaN;
      if (Number.isInteger(pid) && pid > 0) process.kill(pid, "SIGINT");
      else this.child.kill("SIGINT");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function uidOf(user: string): number {
  return Number(spawnSync("id", ["-u", user], { encoding: "utf8" }).stdout.trim());
}

function gidOf(user: string): number {
  return Number(spawnSync("id", ["-g", user], { encoding: "utf8" }).stdout.trim());
}
