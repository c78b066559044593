/**
 * `seglog verify <dir> [--json]`: re-reads every record; exit 1 and one line per
 * problem on damage. A progress bar on stderr when it is a terminal.
 */
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { openExisting } from "./open-database.js";
import { out } from "./output.js";

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("check every record's checksum and every index entry")
    .argument("<dir>", "database directory")
    .option("--json", "print the report as JSON")
    .action(async (dir: string, options: { json?: boolean }) => {
      const db = await openExisting(dir, { readOnly: true });
      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: "verifying [{bar}] {percentage}% {value}/{total} bytes" }, cliProgress.Presets.shades_classic) : undefined;
      try {
        let started = false;
        const report = await db.verify({
          onProgress: ({ done, total }) => {
            if (bar === undefined) return;
            if (!started) bar.start(total, done);
            started = true;
            bar.update(done);
          },
        });
        bar?.stop();
        if (!report.ok) process.exitCode = 1;
        if (options.json) {
          out(`${JSON.stringify(report)}\n`);
          return;
        }
        if (report.ok) {
          out(`ok: ${report.records} records in ${report.segments} segment${report.segments === 1 ? "" : "s"}\n`);
          return;
        }
        for (const problem of report.problems) if (!out(`${problem}\n`)) return;
        out(`damaged: ${report.problems.length} problem(s) in ${report.records} readable records\n`);
      } finally {
        bar?.stop();
        await db.close();
      }
    });
}
