#!/usr/bin/env node
/**
 * The `seglog` command line. Each command lives in its own file and registers
 * itself here. Every failure ends as one line on stderr and a non-zero exit:
 * operators read messages, not stack traces.
 */
import { Command, CommanderError } from "commander";
import { fileURLToPath } from "node:url";
import { SeglogError } from "../errors.js";
import { NodeFileSystem } from "../io/node-file-system.js";
import { registerCompact } from "./compact.js";
import { registerDump } from "./dump.js";
import { registerRestore } from "./restore.js";
import { registerServe } from "./serve.js";
import { registerStats } from "./stats.js";
import { registerVerify } from "./verify.js";

const program = new Command("seglog")
  .description("inspect, verify, compact and serve a seglog database")
  .version(packageVersion(), "-V, --version", "print the version")
  .exitOverride()
  .showHelpAfterError(false)
  .configureOutput({ writeErr: (text) => process.stderr.write(text.split("\n")[0]!.trim() ? `${text.split("\n")[0]}\n` : "") });

registerCompact(program);
registerStats(program);
registerVerify(program);
registerDump(program);
registerServe(program);
registerRestore(program);

try {
  // A bare `seglog` shows what it can do rather than a usage line.
  if (process.argv.length <= 2) program.outputHelp();
  else await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = exitCodeOf(err);
}

/** The version in the package.json three levels up (dist/engine/cli/ → the package root). */
function packageVersion(): string {
  const bytes = new NodeFileSystem().readFile(fileURLToPath(new URL("../../../package.json", import.meta.url)));
  const manifest = JSON.parse(new TextDecoder().decode(bytes)) as { version: string };
  return manifest.version;
}

function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed its one-line message; help and version exit 0.
    return err.exitCode === 0 ? 0 : 2;
  }
  const message = err instanceof SeglogError ? `seglog: ${err.code}: ${err.message}` : `seglog: ${(err as Error)?.message ?? String(err)}`;
  process.stderr.write(`${message.split("\n")[0]}\n`);
  return 2;
}
