/**
 * Random damage to a template database held in memory (file name → bytes), and
 * the test's own judgement of what the damage left: either only a torn tail of
 * the newest segment (so open must show exactly the state of the last complete
 * atomic group before it), or anything else (so open may only show written data),
 * or a forged record with a valid checksum (so the engine can only be asked to
 * fail with SeglogErrors).
 *
 * The judgement reads the damaged bytes with this file's own frame check, not the
 * engine's, and mirrors the rules of docs/recovery.md: a newest segment whose
 * header never got written whole is a torn creation; in the newest segment, a bad
 * frame with no intact frame at any later offset starts a torn tail. Everything
 * else that differs from the template is damage.
 */
import { CHECKPOINT_FILE, FLAG_GROUP_END, RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, xxh32 } from "./damage.js";
import type { Rng } from "./fuzz.js";
import type { Template } from "./fuzz-templates.js";
import type { Dump } from "./store-dump.js";

export type Files = Map<string, Buffer>;

/** The largest body a frame may state (the format's bound, MAX_RECORD_BYTES_LIMIT). */
const MAX_BODY = 1024 * 1024 * 1024;

const SEGMENT_NAME = /^[0-9]{20}\.seg$/;

export function segmentName(n: number): string {
  return `${String(n).padStart(20, "0")}.seg`;
}

function segmentNumber(name: string): number {
  return Number(name.slice(0, 20));
}

export function segmentNames(files: Files): string[] {
  return [...files.keys()].filter((n) => SEGMENT_NAME.test(n)).sort();
}

// ---- damage ------------------------------------------------------------------------

export interface Damaged {
  files: Files;
  actions: string[];
}

type Action = (t: Template, files: Files, rng: Rng, others: Template[]) => Promise<string | undefined> | string | undefined;

/**
 * Applies one to three damage actions. About half of the cases are built to
 * touch only the tail of the newest segment (plus, maybe, the checkpoint and
 * leftover files), so that the strong property is tested often.
 */
export async function damage(t: Template, others: Template[], rng: Rng): Promise<Damaged> {
  const files: Files = new Map([...t.files].map(([k, v]) => [k, Buffer.from(v)]));
  const actions: string[] = [];
  const apply = async (a: Action): Promise<void> => {
    const text = await a(t, files, rng, others);
    if (text !== undefined) actions.push(text);
  };
  if (rng.chance(0.5)) {
    await apply(rng.weighted<Action>([[10, cutNewestTail], [3, garbageAfterNewest], [1, removeNewest], [1, emptyNewest], [1, tornNewSegment]]));
    if (rng.chance(0.5)) await apply(rng.weighted<Action>([[3, checkpointDamage], [2, swapCheckpoint], [1, leftovers]]));
  } else {
    const n = rng.weighted([[6, 1], [3, 2], [2, 3]] as const);
    for (let i = 0; i < n; i++) {
      await apply(
        rng.weighted<Action>([
          [6, flipBits], [3, cutNewestTail], [2, garbageAppended], [2, zeroSector], [2, removeFile], [2, emptyFile],
          [2, cutSealed], [2, swapCheckpoint], [2, checkpointDamage], [2, leftovers], [1, forgeHeader], [1, copySegmentAs],
          [2, forgeBody],
        ]),
      );
    }
  }
  if (actions.length === 0) actions.push("no damage");
  return { files, actions };
}

function newestOf(files: Files): string | undefined {
  return segmentNames(files).at(-1);
}

/** Bytes that a crash or a bad disk leaves: zeros, ones, noise, or a piece of a real frame. */
function filler(rng: Rng, files: Files, n: number): { bytes: Buffer; kind: string } {
  const kind = rng.weighted<string>([[4, "zeros"], [1, "ones"], [3, "noise"], [2, "frame piece"]]);
  if (kind === "zeros") return { bytes: Buffer.alloc(n, 0), kind };
  if (kind === "ones") return { bytes: Buffer.alloc(n, 0xff), kind };
  if (kind === "noise") return { bytes: Buffer.from(rng.bytes(n)), kind };
  // A piece of some segment starting at a frame boundary, shorter than that frame
  // (a torn rewrite of a real record): it must never read as a whole frame.
  const segs = segmentNames(files).filter((s) => files.get(s)!.length > SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES);
  if (segs.length === 0) return { bytes: Buffer.alloc(n, 0), kind: "zeros" };
  const src = files.get(rng.pick(segs))!;
  const frames: [number, number][] = [];
  for (let at = SEGMENT_HEADER_BYTES; at + RECORD_HEADER_BYTES <= src.length; ) {
    const len = RECORD_HEADER_BYTES + src.readUInt32LE(at);
    if (at + len > src.length || len > 1 << 20) break;
    frames.push([at, len]);
    at += len;
  }
  if (frames.length === 0) return { bytes: Buffer.alloc(n, 0), kind: "zeros" };
  const [at, len] = rng.pick(frames);
  return { bytes: Buffer.from(src.subarray(at, at + Math.min(n, len - 1))), kind };
}

const cutNewestTail: Action = (t, files, rng) => {
  const name = newestOf(files);
  if (name === undefined) return undefined;
  const buf = files.get(name)!;
  const recs = (t.records.get(name) ?? []).filter((r) => r.end <= buf.length);
  const mode = rng.weighted<string>([[6, "last records"], [2, "frame boundary"], [2, "anywhere"]]);
  let at: number;
  if (mode === "last records" && recs.length > 0) {
    const k = rng.range(1, Math.min(6, recs.length));
    at = rng.range(recs[recs.length - k]!.offset, buf.length - 1);
  } else if (mode === "frame boundary" && recs.length > 0) {
    at = rng.chance(0.5) ? rng.pick(recs).offset : rng.pick(recs).end;
  } else at = rng.int(buf.length + 1);
  let text = `cut ${name} from ${buf.length} to ${at} bytes (${mode})`;
  let next = buf.subarray(0, at);
  if (rng.chance(0.5)) {
    const f = filler(rng, files, rng.range(1, 3000));
    next = Buffer.concat([next, f.bytes]);
    text += ` then ${f.bytes.length} bytes of ${f.kind}`;
  }
  files.set(name, Buffer.from(next));
  return text;
};

const garbageAfterNewest: Action = (_t, files, rng) => {
  const name = newestOf(files);
  if (name === undefined) return undefined;
  const f = filler(rng, files, rng.range(1, 3000));
  files.set(name, Buffer.concat([files.get(name)!, f.bytes]));
  return `appended ${f.bytes.length} bytes of ${f.kind} to ${name}`;
};

const garbageAppended: Action = (_t, files, rng) => {
  const target = rng.weighted<string | undefined>([[5, newestOf(files)], [2, anyFile(rng, files)], [2, CHECKPOINT_FILE]]);
  if (target === undefined || !files.has(target)) return undefined;
  const f = filler(rng, files, rng.range(1, 3000));
  files.set(target, Buffer.concat([files.get(target)!, f.bytes]));
  return `appended ${f.bytes.length} bytes of ${f.kind} to ${target}`;
};

const removeNewest: Action = (_t, files) => {
  const name = newestOf(files);
  if (name === undefined) return undefined;
  files.delete(name);
  return `removed ${name}`;
};

const emptyNewest: Action = (_t, files, rng) => {
  const name = newestOf(files);
  if (name === undefined) return undefined;
  const keep = rng.chance(0.5) ? 0 : rng.range(1, SEGMENT_HEADER_BYTES - 1);
  files.set(name, Buffer.from(files.get(name)!.subarray(0, keep)));
  return `cut ${name} to ${keep} bytes (inside its header)`;
};

/** A crash while a roll created the next segment: 0–32 bytes of a header that never got whole. */
const tornNewSegment: Action = (_t, files, rng) => {
  const name = newestOf(files);
  if (name === undefined) return undefined;
  const next = segmentName(segmentNumber(name) + 1);
  const header = Buffer.from(files.get(name)!.subarray(0, SEGMENT_HEADER_BYTES));
  const n = rng.range(0, SEGMENT_HEADER_BYTES);
  const bytes = rng.chance(0.5) ? Buffer.alloc(n, 0) : header.subarray(0, n);
  // A whole, valid header would be a real (empty) segment, not a torn one.
  if (n === SEGMENT_HEADER_BYTES) bytes[SEGMENT_HEADER_BYTES - 1] ^= 0x5a;
  files.set(next, Buffer.from(bytes));
  return `added torn new segment ${next} of ${n} bytes`;
};

const flipBits: Action = (t, files, rng) => {
  const names = [...files.keys()].filter((n) => SEGMENT_NAME.test(n) || n === CHECKPOINT_FILE);
  if (names.length === 0) return undefined;
  const count = rng.weighted([[6, 1], [3, 2], [2, rng.range(3, 16)]] as const);
  const done: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = rng.chance(0.3) ? newestOf(files) ?? rng.pick(names) : rng.pick(names);
    const buf = files.get(name)!;
    if (buf.length === 0) continue;
    const region = rng.weighted<string>([[2, "header"], [3, "frame header"], [5, "anywhere"]]);
    let at: number;
    const recs = t.records.get(name)?.filter((r) => r.end <= buf.length) ?? [];
    if (region === "header") at = rng.int(Math.min(buf.length, name === CHECKPOINT_FILE ? 16 : SEGMENT_HEADER_BYTES));
    else if (region === "frame header" && recs.length > 0) at = rng.pick(recs).offset + rng.int(RECORD_HEADER_BYTES);
    else at = rng.int(buf.length);
    const mask = rng.chance(0.7) ? 1 << rng.int(8) : rng.range(1, 255);
    buf[at]! ^= mask;
    done.push(`${name}@${at}^0x${mask.toString(16)}`);
  }
  return done.length === 0 ? undefined : `flipped ${done.join(", ")}`;
};

const zeroSector: Action = (_t, files, rng) => {
  const segs = segmentNames(files).filter((s) => files.get(s)!.length > 0);
  if (segs.length === 0) return undefined;
  const name = rng.pick(segs);
  const buf = files.get(name)!;
  const start = rng.chance(0.7) ? Math.floor(rng.int(buf.length) / 512) * 512 : rng.int(buf.length);
  const end = Math.min(buf.length, start + rng.pick([512, 4096, rng.range(1, 600)]));
  const noise = rng.chance(0.3);
  for (let i = start; i < end; i++) buf[i] = noise ? rng.int(256) : 0;
  return `${noise ? "overwrote with noise" : "zeroed"} ${name} [${start}, ${end})`;
};

function anyFile(rng: Rng, files: Files): string | undefined {
  return files.size === 0 ? undefined : rng.pick([...files.keys()]);
}

const removeFile: Action = (_t, files, rng) => {
  const segs = segmentNames(files);
  const name = rng.weighted<string | undefined>([[3, segs.at(-1)], [3, anyFile(rng, files)], [3, CHECKPOINT_FILE], [1, segs[0]]]);
  if (name === undefined || !files.has(name)) return undefined;
  files.delete(name);
  return `removed ${name}`;
};

const emptyFile: Action = (_t, files, rng) => {
  const segs = segmentNames(files);
  const name = rng.weighted<string | undefined>([[3, segs.at(-1)], [3, anyFile(rng, files)], [3, CHECKPOINT_FILE]]);
  if (name === undefined || !files.has(name)) return undefined;
  files.set(name, Buffer.alloc(0));
  return `made ${name} zero-length`;
};

const cutSealed: Action = (_t, files, rng) => {
  const sealed = segmentNames(files).slice(0, -1);
  if (sealed.length === 0) return undefined;
  const name = rng.pick(sealed);
  const buf = files.get(name)!;
  const at = rng.int(buf.length);
  files.set(name, Buffer.from(buf.subarray(0, at)));
  return `cut sealed ${name} from ${buf.length} to ${at} bytes`;
};

const swapCheckpoint: Action = (t, files, rng, others) => {
  const foreign = others.filter((o) => o !== t && o.files.has(CHECKPOINT_FILE));
  if (t.olderCheckpoints.length > 0 && (foreign.length === 0 || rng.chance(0.75))) {
    const i = rng.int(t.olderCheckpoints.length);
    files.set(CHECKPOINT_FILE, Buffer.from(t.olderCheckpoints[i]!));
    return `replaced the checkpoint with older checkpoint #${i} of ${t.olderCheckpoints.length}`;
  }
  if (foreign.length === 0) return undefined;
  const o = rng.pick(foreign);
  files.set(CHECKPOINT_FILE, Buffer.from(o.files.get(CHECKPOINT_FILE)!));
  return `replaced the checkpoint with the one of template ${o.name}`;
};

const checkpointDamage: Action = (_t, files, rng) => {
  const buf = files.get(CHECKPOINT_FILE);
  const kind = rng.weighted<string>([[3, "remove"], [2, "empty"], [3, "flip"], [2, "cut"], [1, "garbage"]]);
  if (kind === "remove" || buf === undefined) {
    if (!files.delete(CHECKPOINT_FILE)) return undefined;
    return "removed the checkpoint";
  }
  if (kind === "empty") {
    files.set(CHECKPOINT_FILE, Buffer.alloc(0));
    return "made the checkpoint zero-length";
  }
  if (kind === "flip" && buf.length > 0) {
    const at = rng.int(buf.length);
    buf[at]! ^= 1 << rng.int(8);
    return `flipped a bit of the checkpoint at ${at}`;
  }
  if (kind === "cut") {
    const at = rng.int(buf.length);
    files.set(CHECKPOINT_FILE, Buffer.from(buf.subarray(0, at)));
    return `cut the checkpoint to ${at} bytes`;
  }
  files.set(CHECKPOINT_FILE, Buffer.concat([buf, Buffer.from(rng.bytes(rng.range(1, 100)))]));
  return "appended garbage to the checkpoint";
};

/** Files a crash can leave next to the database: a compaction copy, a checkpoint being written, a stale lock. */
const leftovers: Action = (_t, files, rng) => {
  const segs = segmentNames(files);
  const kind = rng.weighted<string>([[2, "cleaned"], [2, "tmp"], [2, "lock"]]);
  if (kind === "cleaned" && segs.length > 0) {
    const name = rng.pick(segs);
    const src = files.get(name)!;
    files.set(`${name}.cleaned`, rng.chance(0.5) ? Buffer.from(src.subarray(0, rng.int(src.length + 1))) : Buffer.from(rng.bytes(rng.range(0, 2000))));
    return `left ${name}.cleaned`;
  }
  if (kind === "tmp") {
    files.set(`${CHECKPOINT_FILE}.tmp`, Buffer.from(rng.bytes(rng.range(0, 500))));
    return "left checkpoint.ckpt.tmp";
  }
  // A dead pid, or content that is no pid at all. (Content starting with digits
  // would be read as a pid, maybe of a live process, and LOCKED is then right.)
  const garbage = Buffer.concat([Buffer.from("x"), rng.bytes(rng.range(0, 20))]);
  files.set("LOCK", rng.chance(0.5) ? Buffer.from("2147483646\n") : garbage);
  return "left a stale LOCK";
};

/** A well-formed header of a newer format (reader version 99) or of another segment number. */
const forgeHeader: Action = async (_t, files, rng) => {
  const segs = segmentNames(files).filter((s) => files.get(s)!.length >= SEGMENT_HEADER_BYTES);
  if (segs.length === 0) return undefined;
  const name = rng.pick(segs);
  const buf = files.get(name)!;
  const what = rng.chance(0.5) ? "reader version 99" : "segment number + 7";
  if (what === "reader version 99") buf[6] = 99;
  else buf.writeUInt32LE((buf.readUInt32LE(8) + 7) >>> 0, 8);
  buf.writeUInt32LE(await xxh32(buf.subarray(0, 28)), 28);
  return `forged ${name}'s header: ${what}, checksum valid`;
};

/** A segment copied by hand under another number (its header still names the old one). */
const copySegmentAs: Action = (_t, files, rng) => {
  const segs = segmentNames(files);
  if (segs.length === 0) return undefined;
  const from = rng.pick(segs);
  const to = segmentName(segmentNumber(segs.at(-1)!) + 1);
  files.set(to, Buffer.from(files.get(from)!));
  return `copied ${from} to ${to}`;
};

/**
 * A record whose body was changed and whose checksum was then made to match: what
 * a writer bug, or a hand-made file, would leave. Only the decoders stand between
 * such bytes and the indexes.
 */
export const forgeBody: Action = async (t, files, rng) => {
  const segs = segmentNames(files).filter((s) => (t.records.get(s)?.length ?? 0) > 0);
  if (segs.length === 0) return undefined;
  const name = rng.pick(segs);
  const buf = files.get(name)!;
  const candidates = t.records.get(name)!.filter((x) => x.end <= buf.length && x.bodyLength > 0);
  if (candidates.length === 0) return undefined;
  const r = rng.pick(candidates);
  const how = rng.weighted<string>([[4, "flipped body bytes"], [2, "random body"], [1, "zeroed body"], [1, "other type"]]);
  if (how === "flipped body bytes") for (let i = rng.range(1, 3); i > 0; i--) buf[r.bodyStart + rng.int(r.bodyLength)]! ^= 1 << rng.int(8);
  else if (how === "random body") buf.set(rng.bytes(r.bodyLength), r.bodyStart);
  else if (how === "zeroed body") buf.fill(0, r.bodyStart, r.end);
  else buf[r.offset + 8] = rng.pick([1, 2, 3, 4, 16, 17, 18, 32, 33, 48, 49, 50, 64, 65, 66, 67, 80, 81, 82, 83, 84]);
  buf.writeUInt32LE(await xxh32(buf.subarray(r.offset + 8, r.end)), r.offset + 4);
  return `forged ${name}@${r.offset} (type ${buf[r.offset + 8]}): ${how}, checksum made valid`;
};

// ---- judgement ---------------------------------------------------------------------

/**
 * What open must show: `exact` (the template's state at this log end), `written`
 * (only written data), or `decodes` (after a forged, checksum-valid record the
 * engine cannot know what was written: only that every failure is a SeglogError).
 */
export type Expectation =
  | { kind: "exact"; state: { dump: Dump; canon: string }; logEnd: string }
  | { kind: "written"; why: string }
  | { kind: "decodes"; why: string };

/** Whether a whole, checksum-valid frame starts at `at`. */
async function frameOk(buf: Buffer, at: number): Promise<{ ok: boolean; end: number; flags: number }> {
  const bad = { ok: false, end: 0, flags: 0 };
  if (buf.length - at < RECORD_HEADER_BYTES) return bad;
  const n = buf.readUInt32LE(at);
  const type = buf[at + 8]!;
  const flags = buf[at + 9]!;
  if (n > MAX_BODY || type === 0 || (flags & ~1) !== 0 || buf[at + 10] !== 0 || buf[at + 11] !== 0) return bad;
  const end = at + RECORD_HEADER_BYTES + n;
  if (end > buf.length) return bad;
  if ((await xxh32(buf.subarray(at + 8, end))) !== buf.readUInt32LE(at + 4)) return bad;
  return { ok: true, end, flags };
}

async function headerValid(buf: Buffer): Promise<boolean> {
  return buf.length >= SEGMENT_HEADER_BYTES && (await xxh32(buf.subarray(0, 28))) === buf.readUInt32LE(28);
}

/**
 * Judges damaged files against their template. `exact` only when every segment but
 * the newest kept is the template's own file, and the newest is the template's
 * bytes up to a bad frame after which no frame anywhere is whole (a torn tail), or
 * the newest file is a torn creation (dropped). The checkpoint and leftover files
 * may be anything: the engine must not need them.
 */
export async function judge(t: Template, files: Files, actions: string[] = []): Promise<Expectation> {
  if (actions.some((a) => a.startsWith("forged") && a.includes("checksum made valid"))) return { kind: "decodes", why: "a record was forged with a valid checksum" };
  const written = (why: string): Expectation => ({ kind: "written", why });
  let names = segmentNames(files);
  const last = names.at(-1);
  if (last !== undefined && files.get(last)!.length <= SEGMENT_HEADER_BYTES && !(await headerValid(files.get(last)!))) names = names.slice(0, -1);
  if (names.length === 0) return written("no segment left");
  for (let i = 0; i < names.length; i++) if (names[i] !== t.segments[i]) return written(`segment ${names[i]} is not the template's segment ${i}`);
  for (const name of names.slice(0, -1)) if (!files.get(name)!.equals(t.files.get(name)!)) return written(`sealed segment ${name} changed`);
  const newest = names.at(-1)!;
  const buf = files.get(newest)!;
  const original = t.files.get(newest)!;
  if (buf.length < SEGMENT_HEADER_BYTES || !buf.subarray(0, SEGMENT_HEADER_BYTES).equals(original.subarray(0, SEGMENT_HEADER_BYTES))) {
    return written(`the header of ${newest} changed`);
  }
  let at = SEGMENT_HEADER_BYTES;
  let groupEnd = SEGMENT_HEADER_BYTES;
  for (;;) {
    const f = await frameOk(buf, at);
    if (!f.ok) break;
    if ((f.flags & FLAG_GROUP_END) !== 0) groupEnd = f.end;
    at = f.end;
  }
  if (!buf.subarray(0, at).equals(original.subarray(0, at))) return written(`${newest} holds whole frames the template does not`);
  for (let k = at + 1; k + RECORD_HEADER_BYTES <= buf.length; k++) {
    if ((await frameOk(buf, k)).ok) return written(`${newest} has a whole frame at ${k} after the bad one at ${at}`);
  }
  const seg = segmentNumber(newest);
  let logEnd = `${seg}:${groupEnd}`;
  let state = t.states.get(logEnd);
  if (state === undefined && groupEnd === SEGMENT_HEADER_BYTES && seg > 0) {
    // Nothing complete in the newest segment: the state when the previous one was full.
    logEnd = `${seg - 1}:${t.files.get(segmentName(seg - 1))?.length}`;
    state = t.states.get(logEnd);
  }
  if (state === undefined) {
    // A segment that compaction rewrote (generation above 0) never ended the log
    // with these contents: no crash leaves it as the newest, so only the weak rule applies.
    if (buf.readUInt32LE(16) > 0 || buf.readUInt32LE(20) > 0) return written(`${newest} is a compacted segment`);
    throw new Error(`template ${t.name} has no state for log end ${seg}:${groupEnd}`);
  }
  return { kind: "exact", state, logEnd };
}
