/** `seglog stats <dir> [--json]`: read-only, so it works beside a running writer. Per store: counts and bytes. */
import type { Command } from "commander";
import { NodeFileSystem } from "../io/node-file-system.js";
import { readReplicationState } from "../replication/replication-state.js";
import { openExisting } from "./open-database.js";
import { out } from "./output.js";

export function registerStats(program: Command): void {
  program
    .command("stats")
    .description("print the database's statistics, per store")
    .argument("<dir>", "database directory")
    .option("--json", "print as JSON")
    .action(async (dir: string, options: { json?: boolean }) => {
      const db = await openExisting(dir, { readOnly: true });
      try {
        const { stores, ...totals } = await db.stats();
        // What the last writer that forwarded recorded (seglog/replication), as of its last save.
        const state = readReplicationState(new NodeFileSystem(), db.dir);
        const replication =
          state === undefined
            ? undefined
            : { stream: state.stream, lastForwardedPosition: state.position, lagEvents: Math.max(0, totals.lastPosition - state.position), asOf: new Date(state.updatedAt).toISOString(), holdSegment: state.holdSegment };
        if (options.json) {
          out(`${JSON.stringify({ ...totals, stores, ...(replication === undefined ? {} : { replication }) })}\n`);
          return;
        }
        const lines: [string, string][] = Object.entries(totals).map(([k, v]) => [k, String(v)]);
        for (const [store, usage] of Object.entries(stores)) {
          lines.push([store, Object.entries(usage).map(([k, v]) => `${v} ${k}`).join(", ")]);
        }
        if (replication !== undefined) {
          lines.push(["replication", `stream ${replication.stream}: forwarded through position ${replication.lastForwardedPosition}, ${replication.lagEvents} events behind, as of ${replication.asOf}`]);
        }
        const width = Math.max(...lines.map(([k]) => k.length));
        for (const [key, value] of lines) if (!out(`${key.padEnd(width)}  ${value}\n`)) return;
      } finally {
        await db.close();
      }
    });
}
