/**
 * The two HTTP servers the HTTP benchmarks compare, each started in a child
 * process of its own on a fresh directory: `seglog serve` and the Durable
 * Streams reference server, @durable-streams/server, in file-backed mode (it
 * fsyncs every append, as seglog's default "sync" durability does).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

export interface Subject {
  name: string;
  /** Starts the server; resolves with its process and the URL streams live under. */
  start(dir: string, extraArgs?: string[]): Promise<{ child: ChildProcess; base: string }>;
}

export const SUBJECTS: Subject[] = [
  { name: "seglog serve", start: (dir, extraArgs = []) => launch(["dist/engine/cli/main.js", "serve", join(dir, "db"), "--port", "0", ...extraArgs]) },
  {
    name: "@durable-streams/server (file-backed)",
    start: (dir) =>
      launch([
        "--input-type=module",
        "-e",
        `import { DurableStreamTestServer } from "@durable-streams/server";
         const server = new DurableStreamTestServer({ port: 0, dataDir: ${JSON.stringify(join(dir, "ref"))} });
         const url = await server.start();
         console.log("at " + url + "/v1/stream/");
         process.on("SIGTERM", async () => { await server.stop(); process.exit(0); });`,
      ]),
  },
];

function launch(args: string[]): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      out += chunk;
      const m = /at (http:\/\/\S+\/v1\/stream)\//.exec(out);
      if (m !== null) resolve({ child, base: m[1]! });
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
  });
}
