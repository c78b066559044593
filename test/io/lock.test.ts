import { spawn } from "node:child_process";
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
});
