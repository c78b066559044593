// @ts-nocheck
import * as fs from "node:fs";
import { open } from "../../../engine/index.js";
function flaky(base: Record<string, unknown>, key: string, first: unknown, later: unknown): Record<string, unknown> {
  const o = { ...base }; let n = 0;
  Object.defineProperty(o, key, { enumerable: true, get: () => (n++ === 0 ? first : later) });
  return o;
}
test("flaky", async () => {
  const dir = fs.mkdtempSync("/dev/shm/flaky-");
  const db = await open(dir);
  const tries: [string, () => Promise<unknown>][] = [
    ["objects.putChunks", () => db.objects.putChunks([flaky({ timestamp: 1 }, "data", new Uint8Array([1]), Symbol("s"))])],
    ["cassettes.writeEntry", () => db.cassettes.writeEntry("/p", flaky({}, "a", 1, Symbol("s")))],
    ["recordings.save", () => db.recordings.save(flaky({ id: "r" }, "a", 1, Symbol("s")))],
    ["contexts.setContext", () => db.contexts.setContext("c", flaky({}, "a", 1, Symbol("s")), 1)],
    ["contexts.setDelta", () => db.contexts.setDelta("c", flaky({}, "a", 1, Symbol("s")), 1)],
    ["events.append", () => db.events.append("s", [flaky({ type: "T" }, "data", 1, Symbol("s"))])],
    ["events.append meta", () => db.events.append("s", [{ type: "T", data: 1, metadata: flaky({}, "a", 1, Symbol("s")) }])],
  ];
  for (const [name, f] of tries) {
    const r = await f().then((v) => `ok ${String(v).slice(0, 20)}`, (e) => `${e.constructor.name} ${e.code ?? ""} ${e.message}`);
    console.log(name, "->", r);
  }
  console.log("stats", await db.stats(), "verify", (await db.verify()).ok, "health", db.health());
  const after = await db.events.append("s", [{ type: "T", data: 2 }]).then(() => "ok", (e) => e.message);
  console.log("append after:", after, (await db.events.readAll()).length);
  await db.close();
  fs.rmSync(dir, { recursive: true });
});
