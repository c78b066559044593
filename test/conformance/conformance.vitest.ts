/**
 * The public Durable Streams conformance suite
 * (@durable-streams/server-conformance-tests) against `seglog serve`: the BUILT
 * CLI (dist/, which `npm test` builds first) runs as a child process on a free
 * port over a fresh temporary directory, exactly as an operator would start it.
 * Runs under vitest (the suite is written for it); `npm test` runs it after jest.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runConformanceTests } from "@durable-streams/server-conformance-tests";
import { afterAll } from "vitest";

const CLI = join(process.cwd(), "dist", "engine", "cli", "main.js");
if (!existsSync(CLI)) throw new Error("dist/engine/cli/main.js is missing: run through `npm test`, which builds it first");

const dir = mkdtempSync(join(tmpdir(), "seglog-conformance-"));
const server = spawn(process.execPath, [CLI, "serve", join(dir, "db"), "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const baseUrl = await listeningUrl(server);

afterAll(async () => {
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  await exited;
  rmSync(dir, { recursive: true, force: true });
});

runConformanceTests({ baseUrl });

/** Waits for the line `seglog serving <dir> at http://host:port/v1/stream/` and returns http://host:port. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`seglog serve did not start; output: ${out}`)), 20_000);
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      out += chunk;
      const m = /at (http:\/\/[^\s/]+)\/v1\/stream\//.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => reject(new Error(`seglog serve exited with ${code}; output: ${out}`)));
  });
}
