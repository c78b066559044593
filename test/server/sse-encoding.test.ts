/**
 * A data event built in pieces must be byte for byte the event built in one
 * go: line breaks (CR, LF, CRLF — also a CRLF cut between two pieces) become
 * new `data:` lines, base64 pieces join into the base64 of the whole, and no
 * piece covers more input than asked.
 */
import { dataEventPieces } from "../../engine/server/sse-encoding.js";
import { Rng } from "../support/fuzz.js";

/** The event as one string: what the server sent before it worked in pieces. */
function wholeEvent(data: Uint8Array, base64: boolean): string {
  const text = Buffer.from(data).toString(base64 ? "base64" : "latin1");
  return `event: data\n${text.split(/\r\n|\r|\n/).map((line) => `data:${line}`).join("\n")}\n\n`;
}

function joined(data: Uint8Array, base64: boolean, pieceBytes: number): { text: string; pieces: Buffer[] } {
  const pieces = [...dataEventPieces(data, base64, pieceBytes)];
  return { text: Buffer.concat(pieces).toString("latin1"), pieces };
}

describe("SSE data events in pieces", () => {
  it("when the payload is empty, the event is one empty data line", () => {
    expect(joined(new Uint8Array(0), false, 4).text).toBe("event: data\ndata:\n\n");
    expect(joined(new Uint8Array(0), true, 4).text).toBe("event: data\ndata:\n\n");
  });

  it("when a CRLF is cut between two pieces, it is still one line break", () => {
    const data = Buffer.from("ab\r\ncd");
    for (let piece = 1; piece <= data.length; piece++) {
      expect(joined(data, false, piece).text).toBe("event: data\ndata:ab\ndata:cd\n\n");
    }
  });

  it("when the payload has CR, LF, CRLF and LFCR in a row, each break is a new line and nothing else", () => {
    const data = Buffer.from("\r\r\n\n\rx\n\r");
    for (let piece = 1; piece <= 9; piece++) expect(joined(data, false, piece).text).toBe(wholeEvent(data, false));
  });

  it("when a base64 event is cut into pieces, the pieces join into the base64 of the whole and each covers at most the piece size", () => {
    const data = new Rng(7).bytes(1000);
    for (const piece of [1, 2, 3, 4, 5, 299, 300, 1000, 5000]) {
      const { text, pieces } = joined(data, true, piece);
      expect(text).toBe(wholeEvent(data, true));
      const step = Math.max(3, piece - (piece % 3));
      expect(pieces.length).toBe(Math.ceil(1000 / step));
    }
  });

  it("when payloads and piece sizes are random, the pieces always join into the whole event", () => {
    const r = new Rng(20261207);
    const alphabet = [0x0d, 0x0a, 0x61, 0x62, 0xc3, 0xa9, 0x3a, 0x20];
    for (let round = 0; round < 400; round++) {
      const data = new Uint8Array(r.int(200));
      for (let i = 0; i < data.length; i++) data[i] = r.pick(alphabet);
      const piece = r.range(1, 64);
      expect(joined(data, false, piece).text).toBe(wholeEvent(data, false));
      expect(joined(data, true, piece).text).toBe(wholeEvent(data, true));
    }
  });

  it("when a payload is 16 MiB without a line break, no piece is larger than the piece size plus the event's frame", () => {
    const data = Buffer.alloc(16 * 1024 * 1024, 0x61);
    const pieces = [...dataEventPieces(data, false)];
    expect(pieces.length).toBe(Math.ceil(data.length / (3 * 256 * 1024)));
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(3 * 256 * 1024 + 32);
    expect(Buffer.concat(pieces).toString("latin1")).toBe(wholeEvent(data, false));
  });
});
