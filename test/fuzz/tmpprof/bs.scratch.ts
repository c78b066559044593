// @ts-nocheck
import * as fs from "node:fs";
import * as path from "node:path";
import { open } from "../../../engine/index.js";
import { scanRecords, listSegments } from "../../support/damage.js";
test("bs", async () => {
  const dir = fs.mkdtempSync("/dev/shm/bs-");
  const opts = { segmentBytes: 4096, maxRecordBytes: 1024 };
  let db = await open(dir, opts);
  await db.streams.create("s", { contentType: "application/octet-stream" });
  for (let i = 0; i < 3; i++) await db.streams.append("s", Buffer.alloc(100, 65 + i));
  await db.close();
  // damage: flip a byte in the body of the second chunk record (type 81)
  const seg = listSegments(dir)[0]!;
  const recs = (await scanRecords(seg)).filter((r) => r.type === 81);
  console.log(recs.map((r) => [r.offset, r.bodyLength]));
  fs.rmSync(path.join(dir, "checkpoint.ckpt"));
  const buf = fs.readFileSync(seg); buf[recs[1]!.bodyStart + 50] ^= 1; fs.writeFileSync(seg, buf);
  db = await open(dir, opts);
  const r = await db.streams.read("s").then((x) => ({ len: x.data.length, data: Buffer.from(x.data).toString("latin1").replace(/A+/, (m) => `A*${m.length}`).replace(/C+/, (m) => `C*${m.length}`) }), (e) => e.code);
  console.log("read:", r);
  const m = await db.streams.readMessages("s").then((x) => x.messages.map((mm) => [mm.data.length, mm.data[0], mm.offset]), (e) => e.code);
  console.log("readMessages:", m);
  console.log("verify:", await db.verify());
  await db.close();
  // damage the first chunk instead
  fs.rmSync(dir, { recursive: true });
});
