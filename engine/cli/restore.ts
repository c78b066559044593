/**
 * `seglog restore <dir> --from-nats <url> --stream <name>`: a new database from
 * a replication stream (seglog/replication). <dir> must not hold a database. A
 * progress bar on stderr when it is a terminal.
 */
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { out } from "./output.js";

export function registerRestore(program: Command): void {
  program
    .command("restore")
    .description("build a new database from a NATS JetStream replication stream")
    .argument("<dir>", "directory of the new database (must not hold one)")
    .requiredOption("--from-nats <url>", "NATS server URL(s), comma-separated")
    .requiredOption("--stream <name>", "the JetStream stream replication wrote")
    .action(async (dir: string, options: { fromNats: string; stream: string }) => {
      // Loaded here: the NATS clients are optional packages, needed by this command only.
      const { restore } = await import("../integrations/replication/index.js");
      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: "restoring [{bar}] {percentage}% {value}/{total} messages" }, cliProgress.Presets.shades_classic) : undefined;
      let started = false;
      try {
        const result = await restore(dir, {
          servers: options.fromNats.split(","),
          stream: options.stream,
          onProgress: ({ done, total }) => {
            if (bar === undefined) return;
            if (!started) bar.start(total, done);
            started = true;
            bar.update(done);
          },
        });
        bar?.stop();
        const dropped = result.droppedRecords > 0 ? `; ${result.droppedRecords} records of an atomic group the stream holds only part of were left out` : "";
        out(`restored ${result.records} records from ${result.messages} messages into ${dir}; last position ${result.lastPosition}${dropped}\n`);
      } finally {
        bar?.stop();
      }
    });
}
