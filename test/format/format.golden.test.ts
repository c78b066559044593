/**
 * Golden bytes of the on-disk format. The fixtures below are written out by hand
 * in docs/format.md ("Worked example"); the encoders must produce them byte for
 * byte, and the decoders must read them back. A failure here means the format
 * changed: format constants never change, so add a new version or record type
 * instead of editing a fixture.
 */
import { checksum, loadChecksum } from "../../engine/format/checksum.js";
import { FLAG_GROUP_END, RecordType, parseSegmentFileName, segmentFileName } from "../../engine/format/constants.js";
import { examineFrame, FrameStatus, newFrameView, sealFrame } from "../../engine/format/record.js";
import { decodeSegmentHeader, encodeSegmentHeader } from "../../engine/format/segment-header.js";
import { SeglogError } from "../../engine/errors.js";
import { ArrayAreaWriter } from "../../engine/index/array-area.js";
import { readCheckpoint, writeCheckpoint } from "../../engine/index/checkpoint.js";
import { NodeFileSystem } from "../../engine/io/node-file-system.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packLocation, offsetOf, segmentOf } from "../../engine/log/location.js";
import { decodeEvent, encodeMeta, MetaOp } from "../../engine/stores/events/event-codec.js";
import { encodeEventBody } from "../../engine/stores/events/event-encoder.js";

// Segment 3, generation 1: both number fields non-zero, so a field at the wrong offset shows.
const HEADER_3_1 = "53 47 4c 47 01 01 01 00 03 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 11 35 65 e4";
// The first segment of every new database, 00000000000000000000.seg.
const HEADER_0_0 = "53 47 4c 47 01 01 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 70 a2 79 cb";
// Event body: [0, "order-1", 0, 1700000000000, "e1", "Placed", {n: 1}, nil, nil].
const EVENT_BODY =
  "99 00 a7 6f 72 64 65 72 2d 31 00 cb 42 78 bc fe 56 80 00 00 a2 65 31 a6 50 6c 61 63 65 64 81 a1 6e 01 c0 c0";
// That body framed as record type 1 (event) with flag bit 0 set (it ends its atomic group).
const FRAME = `24 00 00 00 e5 8d 80 b7 01 01 00 00 ${EVENT_BODY}`;
// Checkpoint of an empty database with no store sections:
// {logEnd: [0, 32], tail: [0, xxHash32 of no bytes], segments: [[0, 0, 32]], littleEndian: true, sections: {}},
// padded to a multiple of 8, with an empty array area.
const CHECKPOINT =
  "53 47 4c 47 02 04 04 00 45 00 00 00 ed 8d 56 64 00 00 00 00 00 00 00 00 86 a6 6c 6f 67 45 6e 64 92 00 20 a4 74 61 69 6c 92 00 ce 02 cc 5d 05 " +
  "a8 73 65 67 6d 65 6e 74 73 91 93 00 00 20 ac 6c 69 74 74 6c 65 45 6e 64 69 61 6e c3 a8 73 65 63 74 69 6f 6e 73 80 a6 61 72 72 61 79 73 90 00 00 00";

const MAX_BODY = 16 * 1024 * 1024;

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.split(" "), (b) => Number.parseInt(b, 16));
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** The worked example as the log would hold it: header, then the one record at offset 32. */
function segmentBytes(): Uint8Array {
  return fromHex(`${HEADER_3_1} ${FRAME}`);
}

/** Re-seals a header after a deliberate edit, so only the edited field is wrong. */
function resealHeader(buf: Uint8Array): Uint8Array {
  viewOf(buf).setUint32(28, checksum(buf.subarray(0, 28)), true);
  return buf;
}

function decodeError(buf: Uint8Array): SeglogError {
  try {
    decodeSegmentHeader(buf, "golden.seg");
  } catch (err) {
    expect(err).toBeInstanceOf(SeglogError);
    return err as SeglogError;
  }
  throw new Error("decodeSegmentHeader did not throw");
}

beforeAll(async () => {
  await loadChecksum();
});

describe("segment file names", () => {
  test("are the segment number in 20 zero-padded digits, so ls sorts them in log order", () => {
    expect(segmentFileName(3)).toBe("00000000000000000003.seg");
    expect(parseSegmentFileName("00000000000000000003.seg")).toBe(3);
    expect(parseSegmentFileName("3.seg")).toBeUndefined();
    expect(parseSegmentFileName("0000000000000000000x.seg")).toBeUndefined();
  });
});

describe("segment header", () => {
  test("encodes segment 3, generation 1 to the documented 32 bytes", () => {
    expect(toHex(encodeSegmentHeader({ segmentNumber: 3, generation: 1 }))).toBe(HEADER_3_1);
    expect(toHex(encodeSegmentHeader({ segmentNumber: 0, generation: 0 }))).toBe(HEADER_0_0);
  });

  test("decodes the documented bytes back", () => {
    expect(decodeSegmentHeader(fromHex(HEADER_3_1), "golden.seg")).toEqual({ segmentNumber: 3, generation: 1 });
    expect(decodeSegmentHeader(fromHex(HEADER_0_0), "golden.seg")).toEqual({ segmentNumber: 0, generation: 0 });
  });

  test("when the header is cut short (a crash while the segment was created), decode returns undefined", () => {
    const whole = fromHex(HEADER_3_1);
    for (const length of [0, 1, 8, 27, 31]) expect(decodeSegmentHeader(whole.subarray(0, length), "golden.seg")).toBeUndefined();
  });

  test("when the header fails its checksum, decode returns undefined", () => {
    const buf = fromHex(HEADER_3_1);
    buf[8] ^= 0xff;
    expect(decodeSegmentHeader(buf, "golden.seg")).toBeUndefined();
  });

  test("when a whole header needs a newer reader (byte 6), decode throws CORRUPTION naming file and offset", () => {
    const buf = fromHex(HEADER_3_1);
    buf[5] = 2;
    buf[6] = 2;
    const err = decodeError(resealHeader(buf));
    expect(err.code).toBe("CORRUPTION");
    expect(err.file).toBe("golden.seg");
    expect(err.offset).toBe(6);
  });

  test("when a newer writer (byte 5) still accepts version-1 readers (byte 6), the header decodes", () => {
    const buf = fromHex(HEADER_3_1);
    buf[5] = 2;
    expect(decodeSegmentHeader(resealHeader(buf), "golden.seg")).toEqual({ segmentNumber: 3, generation: 1 });
  });

  test("when a whole header has the wrong magic or file type, decode throws CORRUPTION", () => {
    const magic = fromHex(HEADER_3_1);
    magic[0] = 0x00;
    expect(decodeError(resealHeader(magic)).code).toBe("CORRUPTION");
    const type = fromHex(HEADER_3_1);
    type[4] = 2; // a checkpoint's file type
    expect(decodeError(resealHeader(type)).code).toBe("CORRUPTION");
  });
});

describe("record frame", () => {
  test("the event body is the documented msgpack array", () => {
    const body = encodeEventBody(0, "order-1", 0, 1700000000000, "e1", "Placed", { n: 1 }, undefined, undefined);
    expect(toHex(body)).toBe(EVENT_BODY);
  });

  test("sealing the body gives the documented 48-byte frame", () => {
    const body = fromHex(EVENT_BODY);
    const buf = new Uint8Array(12 + body.length);
    buf.set(body, 12);
    const length = sealFrame(buf, viewOf(buf), 0, RecordType.Event, FLAG_GROUP_END, body.length);
    expect(length).toBe(48);
    expect(toHex(buf)).toBe(FRAME);
  });

  test("examining the frame at offset 32 of the segment says Ok and the body decodes to the event", () => {
    const seg = segmentBytes();
    const frame = examineFrame(seg, viewOf(seg), 32, seg.length, MAX_BODY, newFrameView());
    expect(frame.status).toBe(FrameStatus.Ok);
    expect(frame).toMatchObject({ type: RecordType.Event, flags: FLAG_GROUP_END, bodyStart: 44, bodyLength: 36, frameLength: 48 });
    const event = decodeEvent(seg.subarray(frame.bodyStart, frame.bodyStart + frame.bodyLength));
    expect(event).toEqual({
      id: "e1",
      streamId: "order-1",
      version: 0,
      position: 0,
      type: "Placed",
      data: { n: 1 },
      metadata: {},
      tags: [],
      timestamp: 1700000000000,
    });
  });

  test("when any byte after the length field is flipped, the frame is Corrupt", () => {
    for (let i = 4; i < 48; i++) {
      const buf = fromHex(FRAME);
      buf[i] ^= 0xff;
      const status = examineFrame(buf, viewOf(buf), 0, buf.length, MAX_BODY, newFrameView()).status;
      if (status !== FrameStatus.Corrupt) throw new Error(`flipping byte ${i} gave status ${status}, not Corrupt`);
    }
  });

  test("when the bytes end inside the frame, it is Torn", () => {
    const buf = fromHex(FRAME);
    for (const end of [0, 4, 11, 12, 47]) {
      expect(examineFrame(buf, viewOf(buf), 0, end, MAX_BODY, newFrameView()).status).toBe(FrameStatus.Torn);
    }
    const cut = buf.slice(0, 30);
    expect(examineFrame(cut, viewOf(cut), 0, cut.length, MAX_BODY, newFrameView()).status).toBe(FrameStatus.Torn);
  });

  test("when the stated body length is over the largest body allowed, the frame is Corrupt, not Torn", () => {
    const buf = fromHex(FRAME);
    expect(examineFrame(buf, viewOf(buf), 0, buf.length, 35, newFrameView()).status).toBe(FrameStatus.Corrupt);
  });
});

describe("stream metadata bodies", () => {
  test("encode to the documented msgpack arrays", () => {
    expect(toHex(encodeMeta(MetaOp.SoftDelete, "order-1"))).toBe("92 01 a7 6f 72 64 65 72 2d 31");
    expect(toHex(encodeMeta(MetaOp.HardDelete, "order-1"))).toBe("92 02 a7 6f 72 64 65 72 2d 31");
    expect(toHex(encodeMeta(MetaOp.Truncate, "order-1", 5))).toBe("93 03 a7 6f 72 64 65 72 2d 31 05");
    expect(toHex(encodeMeta(MetaOp.Retention, "order-1", 10, -1))).toBe("94 04 a7 6f 72 64 65 72 2d 31 0a ff");
  });
});

describe("locations", () => {
  test("pack (segment, offset) as segment * 2^32 + offset", () => {
    const location = packLocation(3, 32);
    expect(location).toBe(3 * 2 ** 32 + 32);
    expect(segmentOf(location)).toBe(3);
    expect(offsetOf(location)).toBe(32);
  });
});

describe("checkpoint file", () => {
  const fs = new NodeFileSystem();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "seglog-golden-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("encodes the documented header and body, and reads back", async () => {
    const body = {
      logEnd: [0, 32] as [number, number],
      tail: [0, checksum(new Uint8Array(0))] as [number, number],
      segments: [[0, 0, 32]] as [number, number, number][],
      littleEndian: true,
      sections: {},
    };
    expect(body.tail[1]).toBe(0x02cc5d05);
    await writeCheckpoint(fs, dir, body);
    expect(toHex(readFileSync(join(dir, "checkpoint.ckpt")))).toBe(CHECKPOINT);
    const loaded = readCheckpoint(fs, dir);
    expect(loaded?.body).toEqual({ ...body, arrays: [] });
    loaded?.area.close();
  });

  test("index arrays go to the 8-aligned array area after the body, each with its checksum in the body, and are read only when asked for", async () => {
    const body = { logEnd: [0, 32] as [number, number], tail: [0, 0] as [number, number], segments: [], littleEndian: true, sections: { t: [0, 8] } };
    const area = new ArrayAreaWriter();
    expect(area.add(new Uint32Array([7, 0xdeadbeef, 9]), 2)).toBe(0);
    expect(area.add(new Float64Array([0.5]), 1)).toBe(8);
    await writeCheckpoint(fs, dir, body, area);
    const file = readFileSync(join(dir, "checkpoint.ckpt"));
    const bodyLength = file.readUInt32LE(8);
    expect(file.readUInt32LE(16)).toBe(16); // array area length
    const areaStart = Math.ceil((24 + bodyLength) / 8) * 8;
    expect(file.length).toBe(areaStart + 16);
    expect(toHex(file.subarray(areaStart))).toBe("07 00 00 00 ef be ad de 00 00 00 00 00 00 e0 3f");
    const loaded = readCheckpoint(fs, dir)!;
    // [at, byteLength, xxHash32] per array.
    expect(loaded.body.arrays).toEqual([0, 8, checksum(file.subarray(areaStart, areaStart + 8)), 8, 8, checksum(file.subarray(areaStart + 8, areaStart + 16))]);
    expect(Array.from(loaded.area.u32(0, 2))).toEqual([7, 0xdeadbeef]);
    expect(Array.from(loaded.area.f64(8, 1))).toEqual([0.5]);
    expect(() => loaded.area.u32(8, 3)).toThrow(/outside its array area/);
    loaded.area.close();
  });

  test("a damaged array leaves the checkpoint readable (its body checks) and fails its own checksum when read", async () => {
    const body = { logEnd: [0, 32] as [number, number], tail: [0, 0] as [number, number], segments: [], littleEndian: true, sections: {} };
    const area = new ArrayAreaWriter();
    area.add(new Uint32Array([1, 2]), 2);
    area.add(new Uint32Array([3, 4]), 2);
    await writeCheckpoint(fs, dir, body, area);
    const file = readFileSync(join(dir, "checkpoint.ckpt"));
    file[file.length - 1] ^= 0x40; // inside the second array
    writeFileSync(join(dir, "checkpoint.ckpt"), file);
    const loaded = readCheckpoint(fs, dir)!;
    expect(Array.from(loaded.area.u32(0, 2))).toEqual([1, 2]);
    expect(() => loaded.area.u32(8, 2)).toThrow(/fails its checksum/);
    loaded.area.close();
  });

  test("a checkpoint of an older layout (writer version 2: one checksum over its arrays, read whole) is ignored: open replays instead", () => {
    const file = fromHex(CHECKPOINT);
    file[5] = 2;
    file[6] = 2;
    writeFileSync(join(dir, "checkpoint.ckpt"), file);
    expect(readCheckpoint(fs, dir)).toBeUndefined();
  });

  test("a checkpoint of writer version 3 (no query index) is ignored: open replays and so builds the type, tag and category lists", () => {
    const file = fromHex(CHECKPOINT);
    file[5] = 3;
    file[6] = 3;
    writeFileSync(join(dir, "checkpoint.ckpt"), file);
    expect(readCheckpoint(fs, dir)).toBeUndefined();
  });

  test("when the checkpoint needs a newer reader, it is ignored (it is derived data)", () => {
    const file = fromHex(CHECKPOINT);
    file[6] = 5;
    writeFileSync(join(dir, "checkpoint.ckpt"), file);
    expect(readCheckpoint(fs, dir)).toBeUndefined();
  });

  test("when a checkpoint byte is flipped, its checksum fails and it is ignored", () => {
    const file = fromHex(CHECKPOINT);
    file[30] ^= 0x01;
    writeFileSync(join(dir, "checkpoint.ckpt"), file);
    expect(readCheckpoint(fs, dir)).toBeUndefined();
  });
});
