/** `seglog verify <dir>`: re-reads every record; exit 1 and one line per problem on damage. */
import type { Command } from "commander";
import { openExisting } from "./open-database.js";

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("check every record's checksum and every index entry")
    .argument("<dir>", "database directory")
    .action(async (dir: string) => {
      const db = await openExisting(dir, { readOnly: true });
      try {
        const report = await db.verify();
        if (report.ok) {
          process.stdout.write(`ok: ${report.records} records in ${report.segments} segments\n`);
          return;
        }
        for (const problem of report.problems) process.stdout.write(`${problem}\n`);
        process.stdout.write(`damaged: ${report.problems.length} problem(s) in ${report.records} readable records\n`);
        process.exitCode = 1;
      } finally {
        await db.close();
      }
    });
}
