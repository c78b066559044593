// @ts-nocheck
import * as fs from "node:fs";
import { open } from "../../../engine/index.js";
test("surrogate", async () => {
  const dir = fs.mkdtempSync("/dev/shm/sur-");
  let db = await open(dir);
  const r = await db.events.append("a\uD800", [{ type: "T\uDC00", data: { k: "v\uD800" }, id: "id\uD800" }]);
  console.log("append", r, "version", db.events.streamVersion("a\uD800"), db.events.listStreams().map((s) => [...s].map((c) => c.charCodeAt(0).toString(16))));
  const back = await db.events.readStream("a\uD800");
  console.log("read back", JSON.stringify(back.map((e) => [e.streamId, e.type, e.id, e.data])));
  // idempotent retry with the same id
  const again = await db.events.append("a\uD800", [{ type: "T", data: 1, id: "id\uD800" }]).catch((e) => e.code);
  console.log("retry same id:", again);
  await db.close();
  db = await open(dir);
  console.log("after reopen: version of a\\uD800 =", db.events.streamVersion("a\uD800"), "streams:", JSON.stringify(db.events.listStreams()), "version of a\\uFFFD =", db.events.streamVersion("a\uFFFD"));
  await db.close();
  fs.rmSync(dir, { recursive: true });
});
