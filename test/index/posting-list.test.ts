/**
 * PostingList's search: `lowerBound(location, hint)` gallops from the hint and
 * must answer exactly what a linear scan does, for lists of every length the
 * representation distinguishes (empty, one location in a field, arrays of
 * 2, 3, a power of two and one either side) and for every valid hint —
 * including hints at the end, where the gallop's first step already overshoots.
 */
import { PostingList } from "../../engine/index/query-index.js";
import { random32 } from "../support/load.js";

function listOf(locations: number[]): PostingList {
  const list = new PostingList();
  for (const l of locations) list.add(l);
  return list;
}

function linearLowerBound(locations: number[], location: number): number {
  const i = locations.findIndex((l) => l >= location);
  return i < 0 ? locations.length : i;
}

describe("PostingList.lowerBound", () => {
  it("equals a linear scan for every length, probe and valid hint", () => {
    const random = random32(20261207);
    for (const length of [0, 1, 2, 3, 4, 7, 8, 9, 31, 32, 33, 64, 65, 200]) {
      const locations: number[] = [];
      let at = Math.floor(random() * 5);
      for (let i = 0; i < length; i++) locations.push((at += 1 + Math.floor(random() * 4)));
      const list = listOf(locations);
      expect(list.length).toBe(length);
      const probes = [-1, 0, ...locations, ...locations.map((l) => l + 1), ...locations.map((l) => l - 1), at + 10];
      for (const probe of probes) {
        const expected = linearLowerBound(locations, probe);
        // A hint is valid when every index before it holds a smaller location: 0..expected.
        for (let hint = 0; hint <= expected; hint++) expect([probe, hint, list.lowerBound(probe, hint)]).toEqual([probe, hint, expected]);
        const at = list.lowerBound(probe);
        expect(at < list.length && list.at(at) === probe).toBe(locations.includes(probe));
      }
    }
  });

  it("a forward walk whose hint is each answer before it finds every member and no other location", () => {
    const random = random32(7);
    const dense = Array.from({ length: 5000 }, (_, i) => i * 3);
    const list = listOf(dense);
    let hint = 0;
    let found = 0;
    for (let probe = 0; probe < 15_000; probe += 1 + Math.floor(random() * 40)) {
      const i = list.lowerBound(probe, hint);
      expect(i).toBe(linearLowerBound(dense, probe));
      hint = i;
      if (i < list.length && list.at(i) === probe) found++;
      expect(i < list.length && list.at(i) === probe).toBe(probe % 3 === 0);
    }
    expect(found).toBeGreaterThan(100);
  });
});
