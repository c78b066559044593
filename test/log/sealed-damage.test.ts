/**
 * Damage in sealed (older) segments is not a torn tail: open still succeeds, the
 * damaged record reads as CORRUPTION, everything untouched stays readable and
 * verify() names the file and offset. A segment that cannot be interpreted at all
 * (a garbage header in the middle of the log, a format version from the future)
 * makes open reject with CORRUPTION, and that rejected open changes no file.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { open, SeglogError } from "../../engine/index.js";
import {
  copyDatabase,
  deleteCheckpoint,
  findRecord,
  flipByte,
  forgeHeaderVersion,
  hasCheckpoint,
  listSegments,
  overwrite,
  scanRecords,
} from "../support/damage.js";

type Database = Awaited<ReturnType<typeof open>>;
type Recorded = Awaited<ReturnType<Database["events"]["readAll"]>>[number];

const SMALL = { segmentBytes: 4096, maxRecordBytes: 1024 };
const STREAMS = ["red", "green", "blue"];

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seglog-sealed-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection, but the call resolved");
}

async function expectCorruption(p: Promise<unknown>): Promise<void> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(SeglogError);
  expect((err as SeglogError).code).toBe("CORRUPTION");
}

let template: string;
let written: Recorded[];

beforeAll(async () => {
  template = tempDir();
  const db = await open(template, SMALL);
  try {
    for (let i = 0; i < 72; i++) {
      const streamId = STREAMS[i % 3]!;
      // Zero-padded ids: no id is a substring of another, so each finds one record.
      const id = `${streamId}-${String(i).padStart(3, "0")}`;
      await db.events.append(streamId, [{ id, type: "Happened", data: { i, text: "x".repeat(100 + (i % 50)), list: [i, null, true] }, metadata: { i }, tags: ["t"] }]);
    }
    written = await db.events.readAll();
  } finally {
    await db.close();
  }
  expect(listSegments(template).length).toBeGreaterThanOrEqual(4);
  expect(hasCheckpoint(template)).toBe(true);
});

describe("a damaged record in a sealed segment", () => {
  for (const placement of ["first", "middle"] as const) for (const checkpoint of ["kept", "deleted"] as const) {
    test(`when an event body in the ${placement} record of a sealed segment has flipped bytes (checkpoint ${checkpoint}), open succeeds, that event reads as CORRUPTION, the rest reads and verify() names file and offset`, async () => {
      const dir = tempDir();
      copyDatabase(template, dir);
      const segments = listSegments(dir);
      // The victim is in the second segment: sealed, not the first, with later
      // events of its stream in later segments. Either the segment's first record
      // (nothing of the segment before it to index) or one with records on both sides.
      const inSecond = await scanRecords(segments[1]!);
      expect(inSecond.length).toBeGreaterThanOrEqual(3);
      const chosen = inSecond[placement === "first" ? 0 : Math.floor(inSecond.length / 2)]!;
      const target = written.find((e) => chosen.body.includes(Buffer.from(e.id)));
      expect(target).toBeDefined();
      const victim = target!;
      const others = STREAMS.filter((s) => s !== victim.streamId);
      expect(written.some((e) => e.streamId === victim.streamId && e.version > victim.version)).toBe(true);
      const record = await findRecord(dir, victim.id);
      expect(record.file).toBe(segments[1]);
      flipByte(record.file, record.bodyStart + Math.floor(record.bodyLength / 2), 0x5a);
      if (checkpoint === "deleted") deleteCheckpoint(dir);

      const db = await open(dir, SMALL);
      try {
        const victimEvents = written.filter((e) => e.streamId === victim.streamId);
        expect(db.events.streamVersion(victim.streamId)).toBe(victimEvents[victimEvents.length - 1]!.version);

        // Reads that cross the damaged record reject with CORRUPTION.
        await expectCorruption(db.events.readStream(victim.streamId));
        await expectCorruption(db.events.readAll());
        await expectCorruption(db.events.readAll({ direction: "backward" }));

        // Everything untouched stays readable.
        expect(await db.events.readStream(victim.streamId, { from: victim.version + 1 })).toEqual(victimEvents.filter((e) => e.version > victim.version));
        expect(await db.events.readStream(victim.streamId, { from: 0, count: victim.version })).toEqual(victimEvents.filter((e) => e.version < victim.version));
        for (const s of others) expect(await db.events.readStream(s)).toEqual(written.filter((e) => e.streamId === s));
        expect(await db.events.readAll({ from: victim.position + 1 })).toEqual(written.filter((e) => e.position > victim.position));
        expect(await db.events.readAll({ from: victim.position - 1, direction: "backward" })).toEqual(written.filter((e) => e.position < victim.position).reverse());

        const report = await db.verify();
        expect(report.ok).toBe(false);
        expect(report.problems.length).toBeGreaterThanOrEqual(1);
        const named = report.problems.filter((p) => {
          const offsets = (p.match(/\d+/g) ?? []).map(Number);
          return p.includes(path.basename(record.file)) && offsets.some((o) => o >= record.offset && o < record.end);
        });
        if (named.length === 0) throw new Error(`no problem names ${path.basename(record.file)} at an offset in [${record.offset}, ${record.end}): ${JSON.stringify(report.problems)}`);

        // The database still takes writes.
        const res = await db.events.append(others[0]!, [{ id: "late-1", type: "Late", data: { ok: true } }]);
        expect((await db.events.readStream(others[0]!, { from: res.firstVersion })).map((e) => e.id)).toEqual(["late-1"]);
      } finally {
        await db.close();
      }
    });
  }
});

describe("a segment that cannot be interpreted", () => {
  function snapshot(dir: string): Map<string, Buffer> {
    return new Map(listSegments(dir).map((f) => [f, fs.readFileSync(f)]));
  }

  async function expectOpenRejects(dir: string): Promise<void> {
    const before = snapshot(dir);
    await expectCorruption(open(dir, SMALL));
    // The rejected open changed no segment and left no lock behind: the same answer again.
    expect(snapshot(dir)).toEqual(before);
    await expectCorruption(open(dir, SMALL));
  }

  for (const checkpoint of ["kept", "deleted"] as const) {
    test(`when a segment in the middle of the log has a garbage header (checkpoint ${checkpoint}), open rejects with CORRUPTION`, async () => {
      const dir = tempDir();
      copyDatabase(template, dir);
      const garbage = Buffer.alloc(32);
      for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 97 + 13) & 0xff;
      overwrite(listSegments(dir)[1]!, 0, garbage);
      if (checkpoint === "deleted") deleteCheckpoint(dir);
      await expectOpenRejects(dir);
    });

    for (const which of ["first", "middle", "last"] as const) {
      test(`when the ${which} segment's header asks for reader format version 99 with a valid header checksum (checkpoint ${checkpoint}), open rejects with CORRUPTION`, async () => {
        const dir = tempDir();
        copyDatabase(template, dir);
        const segments = listSegments(dir);
        const file = which === "first" ? segments[0]! : which === "middle" ? segments[1]! : segments[segments.length - 1]!;
        await forgeHeaderVersion(file, 99);
        if (checkpoint === "deleted") deleteCheckpoint(dir);
        await expectOpenRejects(dir);
      });
    }
  }
});

describe("a damaged last event of a stream in a sealed segment", () => {
  let lonelyTemplate: string;

  beforeAll(async () => {
    lonelyTemplate = tempDir();
    const db = await open(lonelyTemplate, SMALL);
    try {
      for (let v = 0; v < 3; v++) await db.events.append("lonely", [{ id: `lonely-${v}`, type: "T", data: { v, text: "y".repeat(200) } }]);
      // Enough other events that "lonely" lies in sealed segments only.
      for (let i = 0; i < 60; i++) await db.events.append(`other-${i % 4}`, [{ id: `other-${String(i).padStart(3, "0")}`, type: "T", data: { i, text: "z".repeat(150) } }]);
    } finally {
      await db.close();
    }
    const last = await findRecord(lonelyTemplate, "lonely-2");
    expect(last.file).not.toBe(listSegments(lonelyTemplate).at(-1));
  });

  async function expectVersionKept(dir: string): Promise<void> {
    const db = await open(dir, SMALL);
    try {
      // Version 2 is lost to damage, but it existed: the stream never goes back to 1.
      expect(db.events.streamVersion("lonely")).toBe(2);
      await expectCorruption(db.events.readStream("lonely"));
      expect((await db.events.readStream("lonely", { count: 2 })).map((e) => e.id)).toEqual(["lonely-0", "lonely-1"]);
      const err = await rejection(db.events.append("lonely", [{ type: "T", data: 1 }], { expectedVersion: 1 }));
      expect(err).toMatchObject({ code: "WRONG_EXPECTED_VERSION", actual: 2 });
      const next = await db.events.append("lonely", [{ type: "T", data: "after" }]);
      expect(next.firstVersion).toBe(3);
      const positions = (await db.events.readAll({ direction: "backward", count: 1 }))[0]!;
      expect(positions.position).toBe(next.firstPosition);
      expect((await db.verify()).ok).toBe(false);
    } finally {
      await db.close();
    }
    // And again after a reopen that trusts the checkpoint close wrote.
    const again = await open(dir, SMALL);
    try {
      expect(again.events.streamVersion("lonely")).toBe(3);
    } finally {
      await again.close();
    }
  }

  test("when its data is damaged and the checkpoint is gone, open keeps its version from the envelope and the next append does not reuse it", async () => {
    const dir = tempDir();
    copyDatabase(lonelyTemplate, dir);
    const record = await findRecord(dir, "lonely-2");
    flipByte(record.file, record.bodyStart + record.body.indexOf(Buffer.from("yyyy")) + 10, 0x5a);
    deleteCheckpoint(dir);
    await expectVersionKept(dir);
  });

  test("when its stream id is damaged and the checkpoint no longer matches the segments, open keeps its version from the checkpoint", async () => {
    const dir = tempDir();
    copyDatabase(lonelyTemplate, dir);
    const record = await findRecord(dir, "lonely-2");
    flipByte(record.file, record.bodyStart + record.body.indexOf(Buffer.from("lonely")), 0x20);
    // A byte more in the sealed segment: the checkpoint's sizes no longer match, so open replays.
    fs.appendFileSync(record.file, Buffer.from([0]));
    expect(hasCheckpoint(dir)).toBe(true);
    await expectVersionKept(dir);
  });
});
