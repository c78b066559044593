/**
 * A local NATS JetStream cluster for the replication tests and benchmark: three
 * nats-server processes on free 127.0.0.1 ports, their data in a directory of
 * their own, each a child of this process. The Debian package `nats-server`
 * (2.9) provides the binary; `.ci/run` installs it.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect as natsConnect } from "@nats-io/transport-node";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { freePorts } from "./free-ports.js";

/** The nats-server binary: $NATS_SERVER, else PATH, else where Debian puts it; undefined when missing. */
export function natsServerBinary(): string | undefined {
  const fromEnv = process.env.NATS_SERVER;
  if (fromEnv !== undefined && existsSync(fromEnv)) return fromEnv;
  const which = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" });
  const found = which.stdout.trim();
  if (which.status === 0 && found.length > 0) return found;
  return existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : undefined;
}

export interface NatsNode {
  name: string;
  clientPort: number;
  url: string;
  process: ChildProcess | undefined;
}

export class NatsCluster {
  private constructor(
    private readonly binary: string,
    private readonly dir: string,
    readonly nodes: NatsNode[],
    private readonly routePorts: number[],
  ) {}

  /** Starts `size` servers (1 runs without clustering) and waits until JetStream answers. */
  static async start(dir: string, size = 3): Promise<NatsCluster> {
    const binary = natsServerBinary();
    if (binary === undefined) throw new Error("nats-server is not installed (Debian: apt-get install nats-server)");
    const clientPorts = await freePorts(size);
    const routePorts = await freePorts(size);
    const nodes = clientPorts.map((port, i) => ({ name: `n${i + 1}`, clientPort: port, url: `nats://127.0.0.1:${port}`, process: undefined }));
    const cluster = new NatsCluster(binary, dir, nodes, routePorts);
    for (let i = 0; i < size; i++) cluster.startNode(i);
    await cluster.waitForPorts();
    return cluster;
  }

  /** Every node's URL, comma-separated, as `servers` takes it. */
  get servers(): string[] {
    return this.nodes.map((n) => n.url);
  }

  startNode(i: number): void {
    const node = this.nodes[i]!;
    const storeDir = join(this.dir, node.name);
    mkdirSync(storeDir, { recursive: true });
    const config = join(this.dir, `${node.name}.conf`);
    const lines = [
      `server_name: ${node.name}`,
      `listen: 127.0.0.1:${node.clientPort}`,
      `jetstream { store_dir: "${storeDir}", max_memory_store: 64MB, max_file_store: 4GB }`,
    ];
    if (this.nodes.length > 1) {
      const routes = this.routePorts.filter((_, k) => k !== i).map((p) => `nats-route://127.0.0.1:${p}`);
      lines.push(`cluster { name: seglog, listen: 127.0.0.1:${this.routePorts[i]}, routes: [${routes.join(", ")}] }`);
    }
    writeFileSync(config, lines.join("\n") + "\n");
    const child = spawn(this.binary, ["-c", config], { stdio: ["ignore", "ignore", "ignore"] });
    node.process = child;
    child.once("exit", () => {
      if (node.process === child) node.process = undefined;
    });
  }

  /** Waits until JetStream answers (a cluster first elects its meta leader). */
  async ready(timeoutMs = 30_000): Promise<void> {
    const nc = await natsConnect({ servers: this.servers });
    try {
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          await jsm.getAccountInfo();
          return;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    } finally {
      await nc.close();
    }
  }

  /** SIGKILL one node (as a machine failing). */
  async kill(i: number): Promise<void> {
    const child = this.nodes[i]!.process;
    if (child === undefined) return;
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGKILL");
    await exited;
  }

  async restart(i: number): Promise<void> {
    this.startNode(i);
    await this.waitForPorts();
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        const child = n.process;
        if (child === undefined) return;
        const exited = new Promise((done) => child.once("exit", done));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  private async waitForPorts(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (const node of this.nodes) {
      if (node.process === undefined) continue;
      while (!(await accepts(node.clientPort))) {
        if (Date.now() > deadline) throw new Error(`nats-server ${node.name} did not listen on ${node.clientPort}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
