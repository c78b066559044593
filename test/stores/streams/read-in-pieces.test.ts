/**
 * readInPieces answers what read answers — the same bytes, offset, hasMore and
 * closed — and hands a message larger than the budget out in pieces of at most
 * pieceBytes, read and checksummed on the way: binary and JSON streams, messages
 * on both sides of the budget, piece sizes that do and do not divide them, a
 * fork cut inside a large message, a closed stream; a damaged large record
 * throws CORRUPTION from the iteration and never completes as data.
 */
import { open, SeglogError, type Database } from "../../../engine/index.js";
import { findRecord, flipByte } from "../../support/damage.js";
import { patternBytes } from "../../support/size-classes.js";
import { useTempDir } from "../../support/temp-dir.js";

const tmp = useTempDir();
const BUDGET = 64 * 1024;

function joined(pieces: Iterable<Uint8Array>, pieceBytes: number): Buffer {
  const all: Uint8Array[] = [];
  for (const p of pieces) {
    expect(p.length).toBeLessThanOrEqual(Math.max(pieceBytes, 1));
    all.push(p);
  }
  return Buffer.concat(all);
}

async function same(db: Database, id: string, offset: string | undefined, pieceBytes: number): Promise<void> {
  const whole = await db.streams.read(id, offset, { maxBytes: BUDGET });
  const inPieces = await db.streams.readInPieces(id, offset, { maxBytes: BUDGET, pieceBytes });
  const bytes = joined(inPieces.pieces, Math.max(pieceBytes, whole.data.length <= BUDGET ? whole.data.length : 1));
  expect([id, offset, pieceBytes, bytes.length, inPieces.length, inPieces.offset, inPieces.hasMore, inPieces.closed]).toEqual([
    id,
    offset,
    pieceBytes,
    whole.data.length,
    whole.data.length,
    whole.offset,
    whole.hasMore,
    whole.closed,
  ]);
  expect(Buffer.compare(bytes, whole.data)).toBe(0);
  // Read into the caller's memory: larger than asked and full of other bytes, none of which may show.
  let given = 0;
  const intoDirty = await db.streams.readInPieces(id, offset, {
    maxBytes: BUDGET,
    pieceBytes,
    allocate: (length) => {
      given += length;
      return Buffer.alloc(length + 13, 0xee);
    },
  });
  expect([intoDirty.length, intoDirty.offset, intoDirty.hasMore]).toEqual([whole.data.length, whole.offset, whole.hasMore]);
  expect(Buffer.compare(joined(intoDirty.pieces, Math.max(pieceBytes, whole.data.length <= BUDGET ? whole.data.length : 1)), whole.data)).toBe(0);
  if (whole.data.length > 2) expect(given).toBeGreaterThan(0);
}

describe("byte stream reads in pieces", () => {
  it("equal read() for binary and JSON streams, messages on both sides of the budget, any piece size, a fork and a closed stream", async () => {
    const db = await open(tmp.path);
    await db.streams.create("b", { contentType: "application/octet-stream" });
    await db.streams.create("j", { contentType: "application/json" });
    const offsets: Record<string, (string | undefined)[]> = { b: [undefined], j: [undefined] };
    for (const [k, size] of [100, BUDGET - 1, BUDGET, BUDGET + 1, 3 * BUDGET + 17, 10, 5 * BUDGET].entries()) {
      offsets.b!.push(await db.streams.append("b", patternBytes(size, k + 1)));
      // A JSON message of `size` bytes: a string of size - 2 characters.
      offsets.j!.push(await db.streams.append("j", JSON.stringify("q".repeat(Math.max(0, size - 2)))));
    }
    // A batch whose second message is over the budget: the read from its offset is that message alone.
    const batchStart = await db.streams.append("j", JSON.stringify(["small", "w".repeat(2 * BUDGET), "tail"]));
    offsets.j!.push(batchStart);
    const inBatch = (await db.streams.readMessages("j", offsets.j![offsets.j!.length - 2], { maxMessages: 1 })).messages[0]!.offset;
    offsets.j!.push(inBatch);
    // A fork cut inside the last large binary message.
    const beforeLast = offsets.b![offsets.b!.length - 2]!;
    await db.streams.ensure("f", { fork: { from: "b", offset: beforeLast, subOffset: 2 * BUDGET + 3 } });
    offsets.f = [undefined, beforeLast];
    await db.streams.close("b");
    for (const id of ["b", "j", "f"]) {
      for (const offset of offsets[id]!.slice(0, -1)) {
        for (const pieceBytes of [1000, BUDGET, 1024 * 1024]) await same(db, id, offset, pieceBytes);
      }
    }
    await db.close();
  });

  it("a damaged large record in a sealed segment throws CORRUPTION from the iteration, as read() does, and is never handed out whole", async () => {
    // Small segments: the damaged record is sealed, so open does not look at it and the read finds the damage.
    const options = { segmentBytes: 512 * 1024 };
    let db = await open(tmp.path, options);
    await db.streams.create("b", { contentType: "application/octet-stream" });
    const marker = "find-me-0123456789";
    const data = new Uint8Array(4 * BUDGET);
    data.set(new TextEncoder().encode(marker), 0);
    await db.streams.append("b", data);
    for (let k = 0; k < 3; k++) await db.streams.append("b", new Uint8Array(4 * BUDGET));
    await db.close();
    const record = await findRecord(tmp.path, marker);
    flipByte(record.file, record.bodyStart + record.bodyLength - 100);
    db = await open(tmp.path, options);
    await expect(db.streams.read("b", undefined, { maxBytes: BUDGET })).rejects.toMatchObject({ code: "CORRUPTION" });
    const r = await db.streams.readInPieces("b", undefined, { maxBytes: BUDGET, pieceBytes: BUDGET });
    let handedOut = 0;
    let error: unknown;
    try {
      for (const p of r.pieces) handedOut += p.length;
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SeglogError);
    expect(error).toMatchObject({ code: "CORRUPTION" });
    expect(handedOut).toBeLessThan(r.length);
    await db.close();
  });

  it("options.allocate must be a function that gives at least the bytes asked for", async () => {
    const db = await open(tmp.path);
    await db.streams.create("b", { contentType: "application/octet-stream" });
    await db.streams.append("b", patternBytes(3 * BUDGET, 5));
    const codeOf = async (allocate: unknown): Promise<unknown> => {
      try {
        const r = await db.streams.readInPieces("b", undefined, { maxBytes: BUDGET, allocate: allocate as (n: number) => Uint8Array });
        for (const piece of r.pieces) void piece;
        return "ok";
      } catch (err) {
        return err instanceof SeglogError ? [err.code, err.argument] : err;
      }
    };
    expect(await codeOf("memory")).toEqual(["INVALID_ARGUMENT", "options.allocate"]);
    expect(await codeOf(() => new Uint8Array(10))).toEqual(["INVALID_ARGUMENT", "options.allocate"]);
    expect(await codeOf(() => "bytes")).toEqual(["INVALID_ARGUMENT", "options.allocate"]);
    expect(await codeOf((n: number) => new Uint8Array(n))).toBe("ok");
    await db.close();
  });
});
