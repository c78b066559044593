/**
 * `seglog compact <dir> [--json]`: takes the writer lock (a running writer makes
 * it fail with LOCKED), shows a progress bar only when stderr is a terminal, and
 * prints the CompactionReport.
 */
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { openExisting } from "./open-database.js";
import { out } from "./output.js";

export function registerCompact(program: Command): void {
  program
    .command("compact")
    .description("rewrite sealed segments without garbage")
    .argument("<dir>", "database directory")
    .option("--json", "print the report as JSON")
    .action(async (dir: string, options: { json?: boolean }) => {
      const db = await openExisting(dir, { readOnly: false });
      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: "compacting [{bar}] {percentage}% {value}/{total} bytes" }, cliProgress.Presets.shades_classic) : undefined;
      try {
        let started = false;
        const report = await db.compact({
          onProgress: ({ done, total }) => {
            if (bar === undefined) return;
            if (!started) bar.start(total, done);
            started = true;
            bar.update(done);
          },
        });
        bar?.stop();
        if (options.json) {
          out(`${JSON.stringify(report)}\n`);
          return;
        }
        out(
          `compacted: ${report.bytesBefore} -> ${report.bytesAfter} bytes, ${report.recordsDropped} records dropped, ` +
            `${report.segmentsRewritten} segments rewritten in ${report.durationMs} ms\n`,
        );
      } finally {
        bar?.stop();
        await db.close();
      }
    });
}
