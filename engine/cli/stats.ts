/** `seglog stats <dir> [--json]`: read-only, so it works beside a running writer. */
import type { Command } from "commander";
import { openExisting } from "./open-database.js";

export function registerStats(program: Command): void {
  program
    .command("stats")
    .description("print the database's statistics")
    .argument("<dir>", "database directory")
    .option("--json", "print as JSON")
    .action(async (dir: string, options: { json?: boolean }) => {
      const db = await openExisting(dir, { readOnly: true });
      try {
        const stats = await db.stats();
        if (options.json) {
          process.stdout.write(`${JSON.stringify(stats)}\n`);
          return;
        }
        const width = Math.max(...Object.keys(stats).map((k) => k.length));
        for (const [key, value] of Object.entries(stats)) process.stdout.write(`${key.padEnd(width)}  ${value}\n`);
      } finally {
        await db.close();
      }
    });
}
