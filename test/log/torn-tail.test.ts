/**
 * A torn tail of the active segment (the bytes a crash left half-written, maybe
 * followed by zeros that the file system exposes after a crash) is cut at open:
 * open succeeds, every complete earlier record is kept, the torn record and every
 * record of its atomic group are gone, verify() is ok, and appends go on.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { open } from "../../engine/index.js";
import {
  FLAG_GROUP_END,
  activeSegment,
  appendBytes,
  copyDatabase,
  cutFile,
  deleteCheckpoint,
  hasCheckpoint,
  listSegments,
  readBytes,
  scanRecords,
  type ScannedRecord,
} from "../support/damage.js";

type Database = Awaited<ReturnType<typeof open>>;
type Recorded = Awaited<ReturnType<Database["events"]["readAll"]>>[number];

const SMALL = { segmentBytes: 4096, maxRecordBytes: 1024 };
const ONE_SEGMENT = { segmentBytes: 64 * 1024, maxRecordBytes: 1024 };
const STREAMS = ["alpha", "beta", "gamma"];

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seglog-torn-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function payload(i: number): { i: number; text: string; nested: { ok: boolean; list: number[] } } {
  // Letters only, so no stretch of the body is zeros by accident.
  let text = "";
  for (let k = 0; k < 80 + ((i * 37) % 120); k++) text += String.fromCharCode(97 + ((i * 7 + k * 13) % 26));
  return { i, text, nested: { ok: i % 2 === 0, list: [i, i + 1, i + 2] } };
}

function newEvent(i: number, prefix = "ev"): { id: string; type: string; data: unknown; metadata: Record<string, unknown>; tags: string[] } {
  return { id: `${prefix}-${i}`, type: "Happened", data: payload(i), metadata: { n: i }, tags: [`t${i % 3}`] };
}

/**
 * Cuts `file` at `cutAt` (inside `record`) and optionally appends zeros. If the
 * zeros happen to rebuild the record byte for byte (its last bytes were zeros), a
 * different filler is used: the case must leave a damaged record behind.
 */
function tearTail(file: string, record: ScannedRecord, cutAt: number, zeros: boolean): void {
  const original = Buffer.from(readBytes(file, record.offset, record.end - record.offset));
  expect(cutAt).toBeGreaterThan(record.offset);
  expect(cutAt).toBeLessThan(record.end);
  cutFile(file, cutAt);
  if (!zeros) return;
  appendBytes(file, Buffer.alloc(3000, 0));
  if (readBytes(file, record.offset, original.length).equals(original)) {
    cutFile(file, cutAt);
    appendBytes(file, Buffer.alloc(3000, 0xee));
  }
}

async function withDb<T>(dir: string, options: object, f: (db: Database) => Promise<T>): Promise<T> {
  const db = await open(dir, options);
  try {
    return await f(db);
  } finally {
    await db.close();
  }
}

function checkPositions(events: Recorded[]): void {
  for (let i = 1; i < events.length; i++) expect(events[i]!.position).toBeGreaterThan(events[i - 1]!.position);
}

describe("torn tail of the active segment", () => {
  let template: string;
  let written: Recorded[];

  beforeAll(async () => {
    template = tempDir();
    written = await withDb(template, SMALL, async (db) => {
      let i = 0;
      for (; i < 40; i++) await db.events.append(STREAMS[i % 3]!, [newEvent(i)]);
      // The active segment must hold at least two records, so that the cut leaves a
      // complete record before the torn one in the same file.
      while ((await scanRecords(activeSegment(template))).length < 2) {
        await db.events.append(STREAMS[i % 3]!, [newEvent(i)]);
        i++;
      }
      return db.events.readAll();
    });
    expect(listSegments(template).length).toBeGreaterThan(2);
    expect(hasCheckpoint(template)).toBe(true);
  });

  const cuts: { where: string; at: (r: ScannedRecord) => number }[] = [
    { where: "in the middle of the last record's frame header", at: (r) => r.offset + 6 },
    { where: "in the middle of the last record's body", at: (r) => r.bodyStart + Math.floor(r.bodyLength / 2) },
    { where: "one byte short of the last record's end", at: (r) => r.end - 1 },
  ];

  for (const cut of cuts) {
    for (const zeros of [false, true]) {
      for (const checkpoint of ["kept", "deleted"] as const) {
        const situation = `when the active segment is torn ${cut.where}${zeros ? " and followed by zeros" : ""} (checkpoint ${checkpoint})`;
        test(`${situation}, open cuts it, keeps every earlier event, and appends go on across a reopen`, async () => {
          const dir = tempDir();
          copyDatabase(template, dir);
          const file = activeSegment(dir);
          const records = await scanRecords(file);
          const last = records[records.length - 1]!;
          const torn = written[written.length - 1]!;
          expect(last.body.includes(Buffer.from(torn.id))).toBe(true);
          tearTail(file, last, cut.at(last), zeros);
          if (checkpoint === "deleted") deleteCheckpoint(dir);

          const kept = written.slice(0, -1);
          const retried = await withDb(dir, SMALL, async (db) => {
            expect(await db.events.readAll()).toEqual(kept);
            for (const s of STREAMS) expect(await db.events.readStream(s)).toEqual(kept.filter((e) => e.streamId === s));
            expect(db.events.streamVersion(torn.streamId)).toBe(torn.version - 1);
            const report = await db.verify();
            expect(report.problems).toEqual([]);
            expect(report.ok).toBe(true);
            // The writer retries the lost append, then goes on.
            const again = await db.events.append(torn.streamId, [newEvent(Number(torn.id.slice(3)))], { expectedVersion: torn.version - 1 });
            expect(again.firstVersion).toBe(torn.version);
            expect(again.firstPosition).toBeGreaterThan(kept[kept.length - 1]!.position);
            await db.events.append("after", [newEvent(1, "after")], { expectedVersion: "no_stream" });
            return db.events.readAll();
          });
          expect(retried.slice(0, -2)).toEqual(kept);
          expect(retried.slice(-2).map((e) => [e.id, e.streamId, e.version])).toEqual([
            [torn.id, torn.streamId, torn.version],
            ["after-1", "after", 0],
          ]);
          checkPositions(retried);

          await withDb(dir, SMALL, async (db) => {
            expect(await db.events.readAll()).toEqual(retried);
            expect((await db.verify()).ok).toBe(true);
          });
        });
      }
    }
  }
});

describe("torn atomic append at the tail", () => {
  interface Template {
    dir: string;
    before: Recorded[];
    all: Recorded[];
    group: { streamId: string; events: ReturnType<typeof newEvent>[]; expectedVersion: number }[];
  }
  const templates: Record<"append" | "appendMany", Template> = {} as never;

  beforeAll(async () => {
    for (const kind of ["append", "appendMany"] as const) {
      const dir = tempDir();
      const t = await withDb(dir, ONE_SEGMENT, async (db) => {
        for (let i = 0; i < 10; i++) await db.events.append(i % 2 === 0 ? "x" : "y", [newEvent(i)]);
        const before = await db.events.readAll();
        const g = (i: number): ReturnType<typeof newEvent> => newEvent(100 + i, "grp");
        const group =
          kind === "append"
            ? [{ streamId: "x", events: [g(0), g(1), g(2), g(3), g(4)], expectedVersion: 4 }]
            : [
                { streamId: "x", events: [g(0), g(1)], expectedVersion: 4 },
                { streamId: "y", events: [g(2), g(3), g(4)], expectedVersion: 4 },
              ];
        if (kind === "append") await db.events.append("x", group[0]!.events, { expectedVersion: 4 });
        else await db.events.appendMany(group);
        return { dir, before, all: await db.events.readAll(), group };
      });
      // Precondition on the layout: one segment, whose last five records are the
      // group, flagged as one atomic group (only the last has the group-end bit).
      expect(listSegments(dir)).toHaveLength(1);
      const records = (await scanRecords(activeSegment(dir))).slice(-5);
      expect(records.map((r) => r.flags & FLAG_GROUP_END)).toEqual([0, 0, 0, 0, 1]);
      records.forEach((r, i) => expect(r.body.includes(Buffer.from(`grp-${100 + i}`))).toBe(true));
      templates[kind] = t;
    }
  });

  const cuts: { where: string; at: (group: ScannedRecord[]) => number; zeros: boolean }[] = [
    { where: "in the middle of its last record's body", at: (g) => g[4]!.bodyStart + Math.floor(g[4]!.bodyLength / 2), zeros: false },
    { where: "right after its third record (three whole records, no group end)", at: (g) => g[2]!.end, zeros: false },
    { where: "right after its fourth record, followed by zeros", at: (g) => g[3]!.end, zeros: true },
    { where: "in its last record's frame header, followed by zeros", at: (g) => g[4]!.offset + 5, zeros: true },
  ];

  for (const kind of ["append", "appendMany"] as const) {
    for (const cut of cuts) {
      for (const checkpoint of ["kept", "deleted"] as const) {
        test(`when a five-event ${kind} is cut ${cut.where} (checkpoint ${checkpoint}), the whole append disappears and a retry writes it again`, async () => {
          const t = templates[kind];
          const dir = tempDir();
          copyDatabase(t.dir, dir);
          const file = activeSegment(dir);
          const group = (await scanRecords(file)).slice(-5);
          const at = cut.at(group);
          cutFile(file, at);
          if (cut.zeros) appendBytes(file, Buffer.alloc(3000, 0));
          if (checkpoint === "deleted") deleteCheckpoint(dir);

          await withDb(dir, ONE_SEGMENT, async (db) => {
            expect(await db.events.readAll()).toEqual(t.before);
            expect(await db.events.readStream("x")).toEqual(t.before.filter((e) => e.streamId === "x"));
            expect(await db.events.readStream("y")).toEqual(t.before.filter((e) => e.streamId === "y"));
            expect(db.events.streamVersion("x")).toBe(4);
            expect(db.events.streamVersion("y")).toBe(4);
            const report = await db.verify();
            expect(report.problems).toEqual([]);
            expect(report.ok).toBe(true);
            // The same ids at the same place are new again: nothing of them is stored.
            if (kind === "append") await db.events.append("x", t.group[0]!.events, { expectedVersion: 4 });
            else await db.events.appendMany(t.group);
          });

          await withDb(dir, ONE_SEGMENT, async (db) => {
            const all = await db.events.readAll();
            checkPositions(all);
            const strip = (e: Recorded): unknown[] => [e.id, e.streamId, e.version, e.type, e.data, e.metadata, e.tags];
            expect(all.map(strip)).toEqual(t.all.map(strip));
            expect(all.slice(0, t.before.length)).toEqual(t.before);
            expect((await db.verify()).ok).toBe(true);
          });
        });
      }
    }
  }
});
