/**
 * Large inputs are hashed in pieces (so WASM memory stays small); the result
 * must be the same xxHash32 the one-shot hash gives.
 */
import xxhash from "xxhash-wasm";
import { checksum, loadChecksum } from "../../engine/format/checksum.js";

beforeAll(async () => {
  await loadChecksum();
});

function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

test.each([0, 1, 15, 16, 4096, 1024 * 1024, 1024 * 1024 + 1, 3.5 * 1024 * 1024 + 7])("checksum of %i bytes equals the one-shot xxHash32", async (n) => {
  const api = await xxhash();
  const input = bytes(n);
  expect(checksum(input)).toBe(api.h32Raw(input, 0) >>> 0);
});

test("a flipped byte past the first piece changes the checksum", () => {
  const input = bytes(2 * 1024 * 1024 + 100);
  const before = checksum(input);
  input[2 * 1024 * 1024 + 50]! ^= 1;
  expect(checksum(input)).not.toBe(before);
});
