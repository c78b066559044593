// @ts-nocheck
import * as fs from "node:fs";
import * as util from "node:util";
import { open } from "../../../engine/index.js";
test("roundtrip", async () => {
  const dir = fs.mkdtempSync("/dev/shm/rt-");
  const db = await open(dir);
  const values = {
    map: new Map([[1, 2]]), set: new Set([1]), classInstance: new (class P { x = 1 })(), sparse: [, 1], undefinedField: { a: undefined },
    undef: undefined, negZero: -0, nan: NaN, inf: Infinity, bigint: 5n, bigBig: 2n ** 63n, f64: new Float64Array([1.5]), u16: new Uint16Array([1]),
    invalidDate: new Date(NaN), boxed: new String("x"), symbolKey: { [Symbol("k")]: 1, a: 1 }, nullProto: Object.assign(Object.create(null), { a: 1 }),
    protoKey: JSON.parse('{"__proto__": {"x": 1}}'), buffer: Buffer.from([1, 2]), arrayBuffer: new ArrayBuffer(2), dataView: new DataView(new ArrayBuffer(2)),
    regexp: /a/g, error: new Error("e"), arrayProps: Object.assign([1], { p: 2 }), nestedUndefinedInArray: [undefined], weakmap: new WeakMap(), promise: Promise.resolve(1),
    bigNumber: 2 ** 64, longString: "x".repeat(10),
  };
  for (const [name, v] of Object.entries(values)) {
    const r = await db.events.append("rt", [{ type: "T", data: v }]).then(async (res) => {
      const [e] = await db.events.readStream("rt", { from: res.firstVersion });
      const same = util.isDeepStrictEqual(e.data, v);
      return same ? "ok, same" : `ACCEPTED, reads back as ${util.inspect(e.data)}`;
    }, (e) => `rejected ${e.code}`);
    console.log(`${name.padEnd(24)} ${util.inspect(v).slice(0, 40).padEnd(42)} ${r}`);
  }
  await db.close();
  fs.rmSync(dir, { recursive: true });
});
