/**
 * Payload sizes, the same for every store: a write of every size class (0 and
 * 1 byte, both sides of every buffer and block boundary the engine has, see
 * test/support/size-classes.ts) issued all at once reads back byte for byte,
 * live and after a reopen; and at the record limit, a payload whose record
 * (the frame's body: envelope and payload) is maxRecordBytes − 1 and exactly
 * maxRecordBytes is stored, one byte more is TOO_LARGE and writes nothing.
 */
import type { Database } from "../../engine/index.js";
import type { EngineOptions as OpenOptions } from "../../engine/options.js";
import { boundarySizes, patternBytes } from "../support/size-classes.js";
import { rejectsWith, useDatabases, type DatabaseFactory } from "./event-store.contract.js";

/** One store's way to write a payload under a key and read it back. */
export interface PayloadStore {
  name: string;
  /** What must exist before a write under `key` (outside what the write's record measures). */
  prepare?(db: Database, key: string): Promise<unknown>;
  write(db: Database, key: string, payload: Uint8Array): Promise<unknown>;
  read(db: Database, key: string): Promise<Uint8Array | undefined>;
}

const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

const bytesOf = (v: unknown): Uint8Array | undefined => (v instanceof Uint8Array ? v : undefined);

export const PAYLOAD_STORES: PayloadStore[] = [
  {
    name: "events",
    write: (db, key, p) => db.events.append(key, [{ id: `id-${key.padStart(12, "0")}`, type: "T", data: p }]),
    read: async (db, key) => bytesOf((await db.events.readStream(key))[0]?.data),
  },
  {
    name: "objects",
    write: async (db, _key, p) => db.objects.put(p),
    read: async (db, key) => db.objects.get(key).catch(() => undefined),
  },
  {
    name: "cassettes",
    write: (db, key, p) => db.cassettes.writeEntry(`/${key}`, { body: p }),
    read: async (db, key) => {
      for await (const e of db.cassettes.readEntries(`/${key}`)) return bytesOf(e.body);
      return undefined;
    },
  },
  {
    name: "recordings",
    write: (db, key, p) => db.recordings.save({ id: key, events: [p] }),
    read: async (db, key) => bytesOf((await db.recordings.get(key))?.events?.[0]),
  },
  {
    name: "contexts",
    write: (db, key, p) => db.contexts.setContext(key, { blob: p }, 1),
    read: async (db, key) => bytesOf((await db.contexts.getContext(key).catch(() => undefined))?.context.blob),
  },
  {
    name: "streams",
    prepare: (db, key) => db.streams.create(key),
    // The stream store has no empty append: its empty payload is the stream alone, read back as nothing.
    write: async (db, key, p) => (p.length === 0 ? undefined : db.streams.append(key, p)),
    read: async (db, key) => (await db.streams.read(key).catch(() => undefined))?.data,
  },
];

/** Bytes the log grew by, without the headers of segments the write started. */
async function frameBytes(db: Database, write: () => Promise<unknown>): Promise<number> {
  const before = await db.stats();
  await write();
  const after = await db.stats();
  return after.diskBytes - before.diskBytes - 32 * (after.segments - before.segments);
}

export function payloadSizesContract(name: string, factory: DatabaseFactory, options: OpenOptions & { maxRecordBytes: number }, store: PayloadStore, sweepUpTo: number): void {
  describe(`${store.name} payload sizes (${name})`, () => {
    const h = useDatabases(factory);
    const clock = () => 1_700_000_000_000;

    it(`when payloads of every size class up to ${sweepUpTo} bytes are written at once, each reads back byte for byte, also after a reopen`, async () => {
      let db = await h.open({ ...options, clock });
      const sizes = boundarySizes({ maxPayload: sweepUpTo, segmentBytes: options.segmentBytes });
      const payloads = sizes.map((n, i) => patternBytes(n, i + 1));
      for (const i of payloads.keys()) await store.prepare?.(db, `k${i}`);
      const keys = await Promise.all(payloads.map((p, i) => store.write(db, `k${i}`, p).then((r) => (store.name === "objects" ? (r as string) : `k${i}`))));
      const check = async () => {
        for (const [i, p] of payloads.entries()) {
          const got = await store.read(db, keys[i]!);
          if (!same(got ?? (p.length === 0 ? new Uint8Array(0) : undefined), p)) throw new Error(`${store.name}: the payload of ${p.length} bytes does not read back (got ${got?.length} bytes)`);
        }
      };
      await check();
      db = await h.reopen(db, { ...options, clock });
      await check();
      expect((await db.verify()).ok).toBe(true);
    }, 120_000);

    it("when the record is maxRecordBytes − 1 or exactly maxRecordBytes it is stored; one byte more is TOO_LARGE and writes nothing", async () => {
      const db = await h.open({ ...options, clock });
      const max = options.maxRecordBytes;
      // The record's own bytes around the payload, measured at a size of the same encoding class.
      const probe = max > 140_000 ? 70_000 : 1_000;
      for (const key of ["probe-a", "probe-b", "probe-c", "probe-d"]) await store.prepare?.(db, key);
      const overhead = (await frameBytes(db, () => store.write(db, "probe-a", patternBytes(probe, 1)))) - probe;
      // The 12-byte frame header is not part of the record the limit bounds.
      const exact = max + 12 - overhead;
      expect(await frameBytes(db, () => store.write(db, "probe-b", patternBytes(exact - 1, 2)))).toBe(max + 12 - 1);
      const payload = patternBytes(exact, 3);
      let key = "probe-c";
      expect(await frameBytes(db, async () => (key = (await store.write(db, key, payload)) as string))).toBe(max + 12);
      if (store.name !== "objects") key = "probe-c";
      expect(same(await store.read(db, key), payload)).toBe(true);
      const before = await db.stats();
      await rejectsWith(() => store.write(db, "probe-d", patternBytes(exact + 1, 4)), "TOO_LARGE");
      expect(await db.stats()).toEqual(before);
      if (store.name !== "objects") expect((await store.read(db, "probe-d"))?.length ?? 0).toBe(0);
      expect((await db.verify()).ok).toBe(true);
    }, 120_000);
  });
}
