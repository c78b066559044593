/**
 * Golden bytes of the byte-stream record bodies, mirroring docs/format.md
 * ("Byte-stream bodies"). A change here is a format change: it needs new record
 * types, not new bytes under the old ones.
 */
import * as codec from "../../../engine/stores/streams/stream-codec.js";
import { formatOffset, parseOffset } from "../../../engine/stores/streams/stream-offsets.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex").replace(/(..)(?!$)/g, "$1 ");
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

describe("byte-stream record bodies", () => {
  it("when the worked example of docs/format.md is encoded, the bytes are the documented ones and decode back", () => {
    const head = codec.encodeChunkHead({ incarnation: 7, firstMessage: 0, firstByte: 0, timestamp: 1000, closes: false, lengths: undefined, producer: undefined, seq: undefined });
    const body = concat(head, new TextEncoder().encode("hi"));
    expect(hex(body)).toBe("0b 00 00 00 98 07 00 00 cd 03 e8 00 c0 c0 c0 68 69");
    expect(codec.decodeChunkHead(body)).toMatchObject({ incarnation: 7, firstMessage: 0, firstByte: 0, timestamp: 1000, closes: false });
    expect(hex(codec.chunkPayload(body))).toBe("68 69");
    const del = codec.encodeDelete({ incarnation: 7, timestamp: 1003 });
    expect(hex(del)).toBe("92 07 cd 03 eb");
    expect(codec.decodeDelete(del)).toEqual({ incarnation: 7, timestamp: 1003 });
  });

  it("when every record type is encoded, its bytes are stable and decode to the same fields", () => {
    const create = { incarnation: 7, streamId: "s", contentType: "text/plain", ttlSeconds: 60, expiresAt: undefined, createdAt: 1000, fork: undefined };
    expect(hex(codec.encodeCreate(create))).toBe("97 07 a1 73 aa 74 65 78 74 2f 70 6c 61 69 6e 3c c0 cd 03 e8 c0");
    expect(codec.decodeCreate(codec.encodeCreate(create))).toEqual(create);
    const fork = { ...create, incarnation: 8, streamId: "f", ttlSeconds: undefined, createdAt: 2000, fork: { source: 7, sourceId: "s", messages: 1, bytes: 3 } };
    expect(hex(codec.encodeCreate(fork))).toBe("97 08 a1 66 aa 74 65 78 74 2f 70 6c 61 69 6e c0 c0 cd 07 d0 94 07 a1 73 01 03");
    expect(codec.decodeCreate(codec.encodeCreate(fork))).toEqual(fork);
    const head = { incarnation: 7, firstMessage: 1, firstByte: 2, timestamp: 1001, closes: true, lengths: [1, 1], producer: { id: "p", epoch: 0, seq: 3 }, seq: "a" };
    expect(hex(codec.encodeChunkHead(head))).toBe("12 00 00 00 98 07 01 02 cd 03 e9 01 92 01 01 93 a1 70 00 03 a1 61");
    expect(codec.decodeChunkHead(codec.encodeChunkHead(head))).toEqual(head);
    expect(hex(codec.encodeClose({ incarnation: 7, timestamp: 1002, producer: undefined }))).toBe("93 07 cd 03 ea c0");
    expect(hex(codec.encodeFloor(8))).toBe("91 08");
    expect(codec.decodeFloor(codec.encodeFloor(8))).toBe(8);
  });

  it("when offsets are formatted, they are 16 + 16 zero-padded digits that sort like the positions and parse back", () => {
    expect(formatOffset({ messages: 3, bytes: 1024 })).toBe("0000000000000003_0000000000001024");
    expect(formatOffset({ messages: Number.MAX_SAFE_INTEGER, bytes: 0 })).toBe("9007199254740991_0000000000000000");
    expect(parseOffset("0000000000000003_0000000000001024", "o")).toEqual({ messages: 3, bytes: 1024 });
    expect(parseOffset("-1", "o")).toEqual({ messages: 0, bytes: 0 });
    const sorted = [[0, 0], [1, 5], [2, 5], [10, 99], [11, 100]].map(([m, b]) => formatOffset({ messages: m!, bytes: b! }));
    expect([...sorted].reverse().sort()).toEqual(sorted);
  });
});
