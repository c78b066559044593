import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
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

  it("stats, verify, dump and compact refuse a folder that holds no database, with exit 2, and write nothing there", async () => {
    const folder = join(dir.path, "app");
    mkdirSync(folder);
    writeFileSync(join(folder, "index.js"), "console.log(1)\n");
    const empty = join(dir.path, "empty");
    mkdirSync(empty);
    for (const target of [folder, empty]) {
      for (const args of [["stats", target], ["verify", target], ["dump", target], ["compact", target]]) {
        const r = seglog(...args);
        expectOneLineError(r);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/holds no seglog database/);
      }
    }
    expect(readdirSync(folder)).toEqual(["index.js"]);
    expect(readdirSync(empty)).toEqual([]);
    // A file given as the directory is INVALID_ARGUMENT, as in the library.
    const file = join(folder, "index.js");
    expect(seglog("stats", file).stderr).toMatch(/^seglog: INVALID_ARGUMENT: .* is a file/);
  });

  it("serve refuses a folder holding other files unless --create, and a port in use before it touches the directory", async () => {
    const folder = join(dir.path, "app");
    mkdirSync(folder);
    writeFileSync(join(folder, "keep.txt"), "mine");
    const refused = seglog("serve", folder, "--port", "0");
    expectOneLineError(refused);
    expect(refused.stderr).toMatch(/--create/);
    expect(readdirSync(folder)).toEqual(["keep.txt"]);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    try {
      const port = String((blocker.address() as AddressInfo).port);
      const fresh = join(dir.path, "fresh");
      const busy = seglog("serve", fresh, "--port", port);
      expectOneLineError(busy);
      expect(busy.stderr).toMatch(/port is in use/);
      expect(existsSync(fresh)).toBe(false);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it("when the reader of its output goes away (| head), dump and stats stop quietly with exit 0", async () => {
    const db = await open(dir.path, { durability: "buffered" });
    for (let i = 0; i < 40; i++) await db.events.appendMany(Array.from({ length: 250 }, (_, k) => ({ streamId: `p${k}`, events: [{ type: "T", data: { i, pad: "z".repeat(200) } }] })));
    await db.close();
    for (const args of [["dump", dir.path], ["dump", dir.path, "--json"], ["stats", dir.path]]) {
      const r = spawnSync("bash", ["-c", `node ${JSON.stringify(BIN)} ${args.map((a) => JSON.stringify(a)).join(" ")} | head -2; echo "exit=\${PIPESTATUS[0]}"`], { encoding: "utf8", timeout: 60_000 });
      const lines = r.stdout.trim().split("\n");
      expect(lines).toHaveLength(3);
      expect(lines[2]).toBe("exit=0");
      expect(r.stderr).toBe("");
    }
  });

  it("--version prints the package version, a bare seglog prints the help, and verify --json prints the report", async () => {
    await seed();
    const version = seglog("--version");
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(process.cwd(), "package.json"), "utf8")).version);
    const bare = seglog();
    expect(bare.code).toBe(0);
    for (const command of ["compact", "stats", "verify", "dump", "serve"]) expect(bare.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    const verify = seglog("verify", dir.path, "--json");
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, problems: [], segments: expect.any(Number) });
    expect(seglog("verify", dir.path).stdout).toMatch(/^ok: \d+ records in \d+ segments?$/m);
    expect(seglog("serve", "--help").stdout).toMatch(/--long-poll-timeout <ms>[\s\S]*default\s+3000/);
  });

  it("dump of a stream that never existed is STREAM_NOT_FOUND with a non-zero exit, and long data is shortened unless --full", async () => {
    const db = await open(dir.path);
    await db.events.append("long", [{ type: "T", data: { text: "q".repeat(500) } }]);
    await db.close();
    const missing = seglog("dump", dir.path, "--stream", "nope");
    expectOneLineError(missing);
    expect(missing.stderr).toMatch(/STREAM_NOT_FOUND/);
    const short = seglog("dump", dir.path);
    expect(short.stdout).toMatch(/… \(\d+ more characters; --full shows all\)$/m);
    expect(short.stdout.length).toBeLessThan(300);
    const full = seglog("dump", dir.path, "--full");
    expect(full.stdout).toContain("q".repeat(500));
  });

  it("stats reports every store: counts and bytes", async () => {
    const db = await open(dir.path);
    await db.events.append("e", [{ type: "T", data: 1 }]);
    await db.objects.put(new Uint8Array(2000));
    await db.streams.create("b", { contentType: "text/plain" });
    await db.streams.append("b", new TextEncoder().encode("hello"));
    await db.contexts.setContext("c", { a: 1 }, 1);
    await db.contexts.setDelta("c", { b: 2 }, 2);
    await db.close();
    const json = JSON.parse(seglog("stats", dir.path, "--json").stdout) as { stores: Record<string, Record<string, number>>; diskBytes: number };
    expect(json.stores.events).toMatchObject({ streams: 1, events: 1 });
    expect(json.stores.objects).toMatchObject({ objects: 1 });
    expect(json.stores.objects!.bytes).toBeGreaterThan(2000);
    expect(json.stores.streams).toMatchObject({ streams: 1 });
    expect(json.stores.contexts).toMatchObject({ contexts: 1, deltas: 1 });
    const total = Object.values(json.stores).reduce((n, u) => n + u.bytes!, 0);
    expect(total).toBeLessThanOrEqual(json.diskBytes);
    const text = seglog("stats", dir.path).stdout;
    expect(text).toMatch(/^objects\s+1 objects, \d+ bytes$/m);
    expect(text).toMatch(/^contexts\s+1 contexts, 1 deltas, \d+ bytes$/m);
  });
});
