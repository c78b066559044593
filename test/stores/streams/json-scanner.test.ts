/**
 * The JSON scanner that checks append bodies without building values: it
 * accepts exactly what JSON.parse accepts (differentially, on generated
 * documents and on thousands of mutations of them), finds the same top-level
 * elements, and refuses a body with too many elements before walking it all.
 */
import { JsonScanner, JsonSyntaxError, scanJson, TooManyElements } from "../../../engine/stores/streams/json-scanner.js";
import { Rng } from "../../support/fuzz.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function randomValue(r: Rng, depth = 0): unknown {
  const pick = r.int(depth > 3 ? 5 : 7);
  if (pick === 0) return null;
  if (pick === 1) return r.chance(0.5);
  if (pick === 2) return r.pick([0, -0.5, 1e21, 123456789, -7, 3.25e-7, 2 ** 53]);
  if (pick === 3) return r.pick(["", "a", 'q"uote', "back\\slash", "tab\tnl\n", "ü€😀", "\u0001", "/"]);
  if (pick === 4) return r.int(1000);
  if (pick === 5) return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let k = r.int(4); k > 0; k--) o[r.pick(["a", "b", "", "ü", "k k"])] = randomValue(r, depth + 1);
  return o;
}

/** JSON text with random whitespace after structural characters (never inside a string, number or literal). */
function spaced(r: Rng, json: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    out += c;
    if (inString) {
      if (c === "\\") out += json[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if ("[]{},:".includes(c) && r.chance(0.3)) out += r.pick([" ", "\n", "\t", "\r\n", "  "]);
  }
  return r.chance(0.3) ? ` ${out}\n` : out;
}

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

function scans(b: Uint8Array): boolean {
  try {
    scanJson(b, Infinity);
    return true;
  } catch (err) {
    if (err instanceof JsonSyntaxError) return false;
    throw err;
  }
}

describe("the JSON scanner", () => {
  it("when documents are valid JSON, it accepts them and finds exactly JSON.parse's top-level elements", () => {
    const r = new Rng(7);
    for (let n = 0; n < 3000; n++) {
      const value = r.chance(0.7) ? Array.from({ length: r.int(6) }, () => randomValue(r)) : randomValue(r);
      const doc = spaced(r, JSON.stringify(value));
      const b = bytes(doc);
      const scan = scanJson(b, Infinity);
      expect(JSON.parse(text(b.subarray(scan.start, scan.end)))).toEqual(value);
      if (Array.isArray(value)) {
        expect(scan.elements!.starts.map((s, k) => JSON.parse(text(b.subarray(s, scan.elements!.ends[k]))))).toEqual(value);
        for (const [k, s] of scan.elements!.starts.entries()) {
          const element = text(b.subarray(s, scan.elements!.ends[k]));
          expect(element).toBe(element.trim());
        }
      } else expect(scan.elements).toBeUndefined();
    }
  });

  it("when valid documents are mutated byte by byte, cut or extended, it accepts exactly what JSON.parse accepts", () => {
    const r = new Rng(11);
    const alphabet = ' \t\n[]{}",:\\0123456789.eE+-truefalsnul/bux';
    let rejected = 0;
    for (let n = 0; n < 20000; n++) {
      let doc = spaced(r, JSON.stringify(r.chance(0.6) ? [randomValue(r), randomValue(r)] : randomValue(r)));
      const edits = 1 + r.int(3);
      for (let e = 0; e < edits; e++) {
        const at = r.int(doc.length + 1);
        const kind = r.int(4);
        if (kind === 0) doc = doc.slice(0, at) + alphabet[r.int(alphabet.length)] + doc.slice(at + 1);
        else if (kind === 1) doc = doc.slice(0, at) + alphabet[r.int(alphabet.length)] + doc.slice(at);
        else if (kind === 2) doc = doc.slice(0, at) + doc.slice(at + 1);
        else doc = doc.slice(0, at);
      }
      const expected = parses(doc);
      if (!expected) rejected++;
      if (scans(bytes(doc)) !== expected) throw new Error(`scanner and JSON.parse disagree (JSON.parse ${expected ? "accepts" : "refuses"}): ${JSON.stringify(doc)}`);
    }
    expect(rejected).toBeGreaterThan(5000);
  });

  it("when the walk is sliced at any step, it answers what one walk answers: the same scan, or the same error at the same byte", () => {
    const r = new Rng(23);
    const alphabet = ' \t\n[]{}",:\\0123456789.eE+-truefalsnul';
    const outcome = (run: () => unknown): unknown => {
      try {
        return run();
      } catch (err) {
        return err instanceof JsonSyntaxError ? `${err.constructor.name} ${err.message}` : err instanceof TooManyElements ? "TooManyElements" : err;
      }
    };
    for (let n = 0; n < 3000; n++) {
      let doc = spaced(r, JSON.stringify(r.chance(0.7) ? Array.from({ length: r.int(8) }, () => randomValue(r)) : randomValue(r)));
      if (r.chance(0.4)) {
        const at = r.int(doc.length + 1);
        doc = doc.slice(0, at) + alphabet[r.int(alphabet.length)] + doc.slice(at + (r.chance(0.5) ? 1 : 0));
      }
      const b = bytes(doc);
      const limit = r.chance(0.2) ? r.int(4) : Infinity;
      const whole = outcome(() => scanJson(b, limit));
      for (const step of [1, 2, 3, 7, 64]) {
        const sliced = outcome(() => {
          const scanner = new JsonScanner(b, limit);
          for (let until = step; ; until += step) {
            const scan = scanner.scan(until);
            if (scan !== undefined) return scan;
            if (until > b.length + step) throw new Error("the sliced walk never ended");
          }
        });
        expect([doc, step, sliced]).toEqual([doc, step, whole]);
      }
    }
  });

  it("when an array has more elements than allowed, it stops with TooManyElements before walking the rest", () => {
    const body = bytes(`[${"1,".repeat(4 * 1024 * 1024)}1]`);
    const started = Date.now();
    expect(() => scanJson(body, 1000)).toThrow(TooManyElements);
    expect(Date.now() - started).toBeLessThan(200);
    expect(scanJson(bytes("[1,2,3]"), 3).elements!.starts).toHaveLength(3);
    expect(() => scanJson(bytes("[1,2,3,4]"), 3)).toThrow(TooManyElements);
  });
});
