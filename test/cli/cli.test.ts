import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { open } from "../../engine/index.js";
import { useTempDir } from "../support/temp-dir.js";

const BIN = join(process.cwd(), "dist", "engine", "cli", "main.js");

function seglog(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** One line, no stack trace. */
function expectOneLineError(r: { code: number; stdout: string; stderr: string }): void {
  expect(r.code).not.toBe(0);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("the seglog command line", () => {
  const dir = useTempDir();

  async function seed(): Promise<void> {
    const db = await open(dir.path, { segmentBytes: 8192, maxRecordBytes: 1024 });
    for (let i = 0; i < 30; i++) await db.events.append(`s${i % 3}`, [{ type: "T", data: { i, bytes: new Uint8Array([i]) } }]);
    await db.events.deleteStream("s2");
    await db.close();
  }

  it("stats prints every statistic, and --json prints them as one JSON object", async () => {
    await seed();
    const text = seglog("stats", dir.path);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^events\s+20$/m);
    expect(text.stdout).toMatch(/^streams\s+2$/m);
    const json = seglog("stats", dir.path, "--json");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ events: 20, streams: 2, lastPosition: 29 });
  });

  it("dump prints events in global order, one stream's with --stream, honours --from and --count, and --json gives one RecordedEvent per line", async () => {
    await seed();
    const all = seglog("dump", dir.path, "--json");
    expect(all.code).toBe(0);
    const events = all.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(events).toHaveLength(20);
    expect(events[0]).toMatchObject({ position: 0, streamId: "s0", version: 0, type: "T", data: { i: 0 } });
    const stream = seglog("dump", dir.path, "--stream", "s1", "--from", "3", "--count", "2", "--json");
    expect(stream.stdout.trim().split("\n").map((l) => JSON.parse(l).version)).toEqual([3, 4]);
    const positions = seglog("dump", dir.path, "--from", "10", "--count", "3");
    expect(positions.stdout.trim().split("\n").map((l) => l.split(" ")[0])).toEqual(["#10", "#12", "#13"]);
  });

  it("verify exits 0 on a healthy database and 1 with the file and offset of each damaged record", async () => {
    await seed();
    expect(seglog("verify", dir.path)).toMatchObject({ code: 0 });
    const first = join(dir.path, readdirSync(dir.path).filter((n) => n.endsWith(".seg")).sort()[0]!);
    const bytes = readFileSync(first);
    bytes[32 + 12 + 5] ^= 0xff; // inside the first record's body
    writeFileSync(first, bytes);
    const r = seglog("verify", dir.path);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${first} offset 32`);
  });

  it("compact rewrites the database and prints its report, as JSON with --json", async () => {
    await seed();
    const r = seglog("compact", dir.path, "--json");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.recordsDropped).toBeGreaterThanOrEqual(10);
    expect(report.bytesAfter).toBeLessThan(report.bytesBefore);
    const text = seglog("compact", dir.path);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^compacted: \d+ -> \d+ bytes/);
    expect(seglog("verify", dir.path).code).toBe(0);
  });

  it("compact on a database another writer holds fails with one line naming LOCKED, while stats, verify and dump still work", async () => {
    await seed();
    const db = await open(dir.path);
    try {
      expectOneLineError(seglog("compact", dir.path));
      expect(seglog("compact", dir.path).stderr).toContain("LOCKED");
      expect(seglog("stats", dir.path).code).toBe(0);
      expect(seglog("verify", dir.path).code).toBe(0);
      expect(seglog("dump", dir.path, "--count", "1").code).toBe(0);
    } finally {
      await db.close();
    }
  });

  it("an unknown command, a missing directory or a bad argument exits non-zero with one line", async () => {
    await seed();
    expectOneLineError(seglog("frobnicate", dir.path));
    expectOneLineError(seglog("stats", join(dir.path, "missing")));
    expectOneLineError(seglog("compact", join(dir.path, "missing")));
    expectOneLineError(seglog("dump", dir.path, "--count", "many"));
    expectOneLineError(seglog("dump", dir.path, "--from", "-3"));
    expectOneLineError(seglog("stats"));
    expectOneLineError(seglog("stats", dir.path, "--bogus"));
  });
});
