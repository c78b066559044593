/**
 * KeptBuffers and RequestMemory: large buffers reused across requests, counted
 * in the server's budget while idle, reclaimed before a client is refused, and
 * handed out again only once nothing can read or write them.
 */
import { KeptBuffers } from "../../engine/server/kept-buffers.js";
import { MemoryBudget, PRESSURE_EXEMPT_BYTES } from "../../engine/server/memory-budget.js";
import { KEPT_FROM_BYTES, RequestMemory } from "../../engine/server/request-memory.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const always = (): boolean => true;

describe("KeptBuffers", () => {
  it("hands a given-back buffer to the next body of about its size, and a new one to a body it does not fit", () => {
    const budget = new MemoryBudget(64 * MiB);
    const kept = new KeptBuffers(budget, 16 * MiB);
    const first = kept.take(4 * MiB, always);
    expect(first.length).toBe(4 * MiB);
    kept.give(first);
    expect(kept.keptBytes).toBe(4 * MiB);
    expect(budget.inUse).toBe(4 * MiB);
    // Up to a quarter (and a size step) smaller: the same memory.
    expect(kept.take(3 * MiB, always)).toBe(first);
    expect(kept.keptBytes).toBe(0);
    expect(budget.inUse).toBe(0);
    kept.give(first);
    // Much smaller, or larger: new memory, rounded up to the 256 KiB step.
    const small = kept.take(MiB, always);
    expect(small).not.toBe(first);
    expect(small.length).toBe(MiB);
    const odd = kept.take(4 * MiB + 1, always);
    expect(odd).not.toBe(first);
    expect(odd.length).toBe(4 * MiB + 256 * KiB);
  });

  it("takes the smallest buffer that fits", () => {
    const kept = new KeptBuffers(new MemoryBudget(64 * MiB), 32 * MiB);
    const big = kept.take(5 * MiB, always);
    const snug = kept.take(4 * MiB, always);
    kept.give(big);
    kept.give(snug);
    expect(kept.take(4 * MiB, always)).toBe(snug);
    expect(kept.take(4 * MiB, always)).toBe(big);
  });

  it("keeps at most maxIdleBytes, dropping the oldest, and nothing larger than that", () => {
    const budget = new MemoryBudget(64 * MiB);
    const kept = new KeptBuffers(budget, 8 * MiB);
    const a = kept.take(4 * MiB, always);
    const b = kept.take(4 * MiB, always);
    const c = kept.take(4 * MiB, always);
    kept.give(a);
    kept.give(b);
    kept.give(c);
    expect(kept.keptBytes).toBe(8 * MiB);
    expect(budget.inUse).toBe(8 * MiB);
    expect(kept.take(4 * MiB, always)).toBe(b);
    expect(kept.take(4 * MiB, always)).toBe(c);
    kept.give(kept.take(9 * MiB, always));
    expect(kept.keptBytes).toBe(0);
  });

  it("gives its idle bytes up before the budget refuses a client, and keeps nothing the budget cannot spare", () => {
    const budget = new MemoryBudget(10 * MiB);
    const kept = new KeptBuffers(budget, 8 * MiB);
    kept.give(kept.take(4 * MiB, always));
    kept.give(kept.take(2 * MiB, always));
    expect(budget.inUse).toBe(6 * MiB);
    const client = budget.reservation();
    expect(client.grow(7 * MiB)).toBe(true);
    // The oldest (4 MiB) went; the 2 MiB one still fits beside the client.
    expect(kept.keptBytes).toBe(2 * MiB);
    expect(budget.inUse).toBe(9 * MiB);
    expect(client.grow(2 * MiB)).toBe(true);
    expect(kept.keptBytes).toBe(0);
    expect(budget.inUse).toBe(9 * MiB);
    expect(client.grow(2 * MiB)).toBe(false);
    // Full: a buffer given back is dropped rather than counted past the limit.
    expect(client.grow(MiB)).toBe(true);
    kept.give(Buffer.allocUnsafeSlow(MiB));
    expect(kept.keptBytes).toBe(0);
    expect(budget.inUse).toBe(10 * MiB);
    client.release();
    expect(budget.inUse).toBe(0);
  });

  it("a kept buffer whose extra bytes cannot be reserved is not handed out; new memory is", () => {
    const budget = new MemoryBudget(64 * MiB);
    const kept = new KeptBuffers(budget, 16 * MiB);
    const larger = kept.take(5 * MiB, always);
    kept.give(larger);
    const asked: number[] = [];
    const got = kept.take(4 * MiB + 512 * KiB, (extra) => {
      asked.push(extra);
      return false;
    });
    expect(asked).toEqual([512 * KiB]);
    expect(got).not.toBe(larger);
    expect(got.length).toBe(4 * MiB + 512 * KiB);
  });
});

describe("RequestMemory", () => {
  it("an answer's buffer serves again only after written(); small answers are not kept memory", () => {
    const budget = new MemoryBudget(64 * MiB);
    const kept = new KeptBuffers(budget, 16 * MiB);
    const one = new RequestMemory(budget.reservation(), kept);
    const piece = one.answerBuffer(MiB);
    expect(budget.inUse).toBe(MiB);
    const other = new RequestMemory(budget.reservation(), kept);
    // Not written yet: another request gets other memory.
    const second = other.answerBuffer(MiB);
    expect(second.buffer).not.toBe(piece.buffer);
    one.written(piece.subarray(0, 10));
    expect(kept.keptBytes).toBe(MiB);
    expect(budget.inUse).toBe(2 * MiB); // other's reservation and the kept buffer
    expect(other.answerBuffer(MiB).buffer).toBe(piece.buffer);
    // Written twice (or memory it never gave) changes nothing.
    one.written(piece);
    one.written(new Uint8Array(MiB));
    expect(kept.keptBytes).toBe(0);
    const tiny = other.answerBuffer(KEPT_FROM_BYTES - 1);
    other.written(tiny);
    expect(kept.keptBytes).toBe(0);
    one.release();
    other.release();
    expect(budget.inUse).toBe(0);
  });

  it("release gives the bodies' buffers back but not an answer still being sent, which written() returns later", () => {
    const budget = new MemoryBudget(64 * MiB);
    const kept = new KeptBuffers(budget, 16 * MiB);
    const request = new RequestMemory(budget.reservation(), kept);
    expect(request.reservation.grow(2 * MiB)).toBe(true);
    const body = request.bodyBuffer(2 * MiB);
    const answer = request.answerBuffer(3 * MiB);
    request.release();
    expect(kept.keptBytes).toBe(2 * MiB);
    expect(kept.take(2 * MiB, always)).toBe(body);
    request.written(answer);
    expect(kept.keptBytes).toBe(3 * MiB);
    expect(budget.inUse).toBe(3 * MiB);
  });

  it("an answer the budget cannot spare is new memory, outside the count", () => {
    const budget = new MemoryBudget(2 * MiB);
    const kept = new KeptBuffers(budget, MiB);
    const request = new RequestMemory(budget.reservation(), kept);
    const answer = request.answerBuffer(3 * MiB);
    expect(answer.length).toBe(3 * MiB);
    expect(budget.inUse).toBe(0);
    request.written(answer);
    expect(kept.keptBytes).toBe(0);
  });
});

describe("MemoryBudget under pressure", () => {
  it("refuses takes from PRESSURE_EXEMPT_BYTES on and keeps nothing while pressed, and lets kept memory go when pressed", () => {
    const budget = new MemoryBudget(64 * MiB);
    const kept = new KeptBuffers(budget, 16 * MiB);
    kept.give(kept.take(4 * MiB, always));
    expect(kept.keptBytes).toBe(4 * MiB);
    budget.press(true);
    expect(kept.keptBytes).toBe(0);
    expect(budget.inUse).toBe(0);
    const client = budget.reservation();
    expect(client.grow(PRESSURE_EXEMPT_BYTES)).toBe(false);
    expect(client.grow(PRESSURE_EXEMPT_BYTES - 1)).toBe(true);
    kept.give(Buffer.allocUnsafeSlow(MiB));
    expect(kept.keptBytes).toBe(0);
    budget.press(false);
    expect(client.grow(4 * MiB)).toBe(true);
    kept.give(Buffer.allocUnsafeSlow(MiB));
    expect(kept.keptBytes).toBe(MiB);
    client.release();
  });
});
