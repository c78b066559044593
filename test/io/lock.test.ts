import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { open } from "../../engine/index.js";
import { useTempDir } from "../support/temp-dir.js";

const ENGINE = join(process.cwd(), "dist", "engine", "index.js");

describe("the writer lock", () => {
  const dir = useTempDir();

  it("when another live process holds the database, open is refused with LOCKED and a read-only open works", async () => {
    const script = `
      const { open } = await import(${JSON.stringify(ENGINE)});
      const db = await open(process.argv[1]);
      await db.events.append("held", [{ type: "T", data: 1 }]);
      console.log("holding");
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script, dir.path], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (d: Buffer) => d.toString().includes("holding") && resolve());
        child.on("exit", (code) => reject(new Error(`holder exited with ${code}`)));
      });
      await expect(open(dir.path)).rejects.toMatchObject({ code: "LOCKED" });
      const reader = await open(dir.path, { readOnly: true });
      expect((await reader.events.readStream("held")).map((e) => e.data)).toEqual([1]);
      await expect(reader.events.append("x", [{ type: "T", data: 1 }])).rejects.toMatchObject({ code: "READ_ONLY" });
      await reader.close();
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
    // The holder died without releasing: its lock is stale and is taken over.
    const db = await open(dir.path);
    expect(db.events.streamVersion("held")).toBe(0);
    await db.close();
  });

  it("when the same process opens a database twice, the second open is refused with LOCKED until the first closes", async () => {
    const first = await open(dir.path);
    await expect(open(dir.path)).rejects.toMatchObject({ code: "LOCKED" });
    await first.close();
    const second = await open(dir.path);
    await second.close();
  });

  it("when the directory is opened again through a symlink in the same process, the second open is refused with LOCKED", async () => {
    const first = await open(dir.path);
    const link = `${dir.path}-link`;
    symlinkSync(dir.path, link);
    try {
      await expect(open(link)).rejects.toMatchObject({ code: "LOCKED" });
      await first.events.append("s", [{ type: "A", data: 1 }]);
      await first.close();
      const second = await open(link);
      expect(second.events.streamVersion("s")).toBe(0);
      await second.close();
    } finally {
      spawnSync("rm", ["-f", link]);
    }
  });

  it("when LOCK names this very process but no open database holds it, it is a leftover and is taken over", async () => {
    writeFileSync(join(dir.path, "LOCK"), `${process.pid} 1\n`);
    const db = await open(dir.path);
    expect(readFileSync(join(dir.path, "LOCK"), "utf8").startsWith(`${process.pid} `)).toBe(true);
    await db.close();
  });

  it("when several processes take over one stale LOCK at the same moment, exactly one of them wins each time", async () => {
    const dead = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    const deadPid = Number(dead.stdout.trim());
    const script = `
      const { open } = await import(${JSON.stringify(ENGINE)});
      process.stdin.once("data", async () => {
        try {
          const db = await open(process.argv[1]);
          console.log("won");
          setTimeout(() => db.close().then(() => process.exit(0)), 1500);
        } catch (err) {
          console.log("lost " + err.code);
          process.exit(0);
        }
      });
      console.log("ready");
    `;
    for (let round = 0; round < 4; round++) {
      writeFileSync(join(dir.path, "LOCK"), `${deadPid} 1\n`);
      const children = Array.from({ length: 6 }, () => spawn(process.execPath, ["--input-type=module", "-e", script, dir.path], { stdio: ["pipe", "pipe", "inherit"] }));
      const outputs = children.map((c) => {
        let out = "";
        c.stdout!.on("data", (d: Buffer) => (out += d.toString()));
        return { child: c, text: () => out, exited: new Promise((r) => c.once("exit", r)) };
      });
      await Promise.all(outputs.map((o) => new Promise<void>((resolve) => {
        const check = () => (o.text().includes("ready") ? resolve() : setTimeout(check, 5));
        check();
      })));
      for (const c of children) c.stdin!.write("go\n");
      await Promise.all(outputs.map((o) => o.exited));
      const verdicts = outputs.map((o) => o.text().split("\n").find((l) => l === "won" || l.startsWith("lost")));
      expect(verdicts.filter((v) => v === "won")).toHaveLength(1);
      expect(verdicts.filter((v) => v === "lost LOCKED")).toHaveLength(5);
      expect(readdirSync(dir.path).filter((n) => n.startsWith("LOCK"))).toEqual([]);
    }
  }, 60000);
});
