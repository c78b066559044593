/**
 * Turns the children's results into the tables printed by `npm run bench`, the
 * JSON in bench/results/ and the "Event store vs SQLite and LMDB" section of
 * docs/benchmarks.md, and checks them against the targets of issue 6.
 */
import type { WorkloadResult } from "./workloads/workload.js";

export interface Entry {
  workload: string;
  letter: string;
  title: string;
  subject: string;
  events: number;
  ok: boolean;
  result?: WorkloadResult;
  settings?: Record<string, string>;
  unsupported?: string;
  error?: string;
  /** 1-minute load average when the child started, and its wall time. */
  loadBefore: number;
  wallSeconds: number;
  /** With --repeat: how many runs this median stands for, and the slowest and fastest events/s. */
  runs?: number;
  rateMin?: number;
  rateMax?: number;
}

export interface Meta {
  mode: "full" | "quick";
  /** What the events' data is (bench/data.ts); runs saved before it existed are "msgpack". */
  payload?: "msgpack" | "bytes";
  date: string;
  machine: { cpu: string; cores: number; memoryBytes: number; platform: string; release: string; loadStart: number[]; loadEnd: number[] };
  node: string;
  commit: { sha: string; dirty: boolean };
  recordBytes: number;
  dataBytes: number;
  sizes: Record<string, number | number[]>;
  repeat: number;
  durationSeconds: number;
}

export interface TargetCheck {
  target: string;
  measured: string;
  verdict: "meets" | "misses" | "not measured" | "stated";
}

const TIMED = [
  "append-single-buffered",
  "append-single-sync",
  "append-concurrent-sync",
  "append-batch-buffered",
  "append-batch-sync",
  "read-stream-forward",
  "read-stream-backward",
  "read-all",
];

export function find(entries: Entry[], workload: string, subject: string, events?: number): WorkloadResult | undefined {
  const e = entries.find((x) => x.workload === workload && x.subject === subject && x.ok && (events === undefined || x.events === events));
  return e?.result;
}

export function rate(r: WorkloadResult | undefined): number | undefined {
  return r === undefined || r.seconds <= 0 ? undefined : r.events / r.seconds;
}

// ---- tables -----------------------------------------------------------------

export function throughputTable(entries: Entry[], recordBytes: number): string {
  const rows = [
    "| workload | store | events | events/s | spread | MB/s | p50 ms | p99 ms | seglog ÷ store |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const id of TIMED) {
    const group = entries.filter((e) => e.workload === id);
    if (group.length === 0) continue;
    const seglogRate = rate(find(entries, id, "seglog"));
    group.forEach((e, k) => {
      const label = k === 0 ? `(${e.letter}) ${e.title}` : "";
      if (!e.ok || e.result === undefined) {
        rows.push(`| ${label} | ${e.subject} | | ${e.unsupported !== undefined ? "n/a: " + e.unsupported : "failed (see JSON)"} | | | | | |`);
        return;
      }
      const r = e.result;
      const per = r.events / r.seconds;
      const ratio = e.subject === "seglog" || seglogRate === undefined ? "" : `${fmtRatio(seglogRate / per)}`;
      const spread = e.rateMin !== undefined && e.rateMax !== undefined ? `${int(e.rateMin)}–${int(e.rateMax)}` : "";
      rows.push(`| ${label} | ${e.subject} | ${int(r.events)} | ${int(per)} | ${spread} | ${fix((per * recordBytes) / 1e6, 1)} | ${fix(r.p50Ms, 3)} | ${fix(r.p99Ms, 3)} | ${ratio} |`);
    });
  }
  return rows.join("\n");
}

export function footprintTable(entries: Entry[]): string {
  const rows = [
    "| database | store | open until first read, median ms | first open ms | bytes on disk / event | seglog ÷ store (bytes) | RSS after open, MB / 1M events | writer RSS, MB / 1M events |",
    "|---|---|--:|--:|--:|--:|--:|--:|",
  ];
  const sizes = [...new Set(entries.filter((e) => e.workload === "open").map((e) => e.events))];
  for (const size of sizes) {
    const group = entries.filter((e) => e.workload === "open" && e.events === size);
    const seglogBytes = find(entries, "open", "seglog", size)?.extra?.bytesPerEvent as number | undefined;
    group.forEach((e, k) => {
      const label = k === 0 ? `(h)(i)(j) ${int(size)} events / 1,000 streams` : "";
      const x = e.result?.extra;
      if (!e.ok || x === undefined) {
        rows.push(`| ${label} | ${e.subject} | failed (see JSON) | | | | | |`);
        return;
      }
      const writer = entries.find((p) => p.workload === "prepare-open" && p.subject === e.subject && p.events === size)?.result?.extra?.writerRssBytes as number | undefined;
      const bpe = x.bytesPerEvent as number;
      const ratio = e.subject === "seglog" || seglogBytes === undefined ? "" : fmtRatio(seglogBytes / bpe);
      rows.push(
        `| ${label} | ${e.subject} | ${fix(x.openMedianMs as number, 2)} | ${fix(x.openFirstMs as number, 2)} | ${fix(bpe, 1)} | ${ratio} | ${fix((x.rssBytesPerMillion as number) / 1e6, 1)} | ${writer === undefined ? "" : fix(((writer as number) * (1e6 / size)) / 1e6, 1)} |`,
      );
    });
  }
  return rows.join("\n");
}

// ---- targets ------------------------------------------------------------------

export function checkTargets(entries: Entry[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const r = (w: string, s: string) => rate(find(entries, w, s));
  // `limit`: the plain file's rate on the same workload, when it has one. Printed
  // as plain ÷ peer, it says whether the target is within what one write (and
  // one fsync) per call and the same msgpack work allow at all on this machine.
  const ratioTarget = (target: string, a: number | undefined, b: number | undefined, need: number, limit?: number) => {
    if (a === undefined || b === undefined) out.push({ target, measured: "—", verdict: "not measured" });
    else {
      const plain = limit === undefined ? "" : `; plain file ÷ peer: ${fmtRatio(limit / b)}`;
      out.push({ target, measured: `${fmtRatio(a / b)} (need ≥ ${need}×${plain})`, verdict: a / b >= need ? "meets" : "misses" });
    }
  };
  const plain = (w: string) => r(w, "plain-file");
  ratioTarget("(a) buffered single appends ≥ 4× lmdb", r("append-single-buffered", "seglog"), r("append-single-buffered", "lmdb"), 4, plain("append-single-buffered"));
  ratioTarget("(a) buffered single appends ≥ 8× better-sqlite3", r("append-single-buffered", "seglog"), r("append-single-buffered", "sqlite"), 8, plain("append-single-buffered"));
  ratioTarget("(b) sync single appends ≥ 0.9× plain file fsync-per-call", r("append-single-sync", "seglog"), r("append-single-sync", "plain-file"), 0.9);
  // Issue 14's targets (read as bytes and as msgpack alike).
  ratioTarget("(c) 64 concurrent sync appenders ≥ 3× lmdb", r("append-concurrent-sync", "seglog"), r("append-concurrent-sync", "lmdb"), 3);
  ratioTarget("(c) 64 concurrent sync appenders ≥ 1× a plain-file group commit", r("append-concurrent-sync", "seglog"), r("append-concurrent-sync", "plain-file"), 1);
  ratioTarget("(d) 100-event batches, buffered ≥ 2× lmdb", r("append-batch-buffered", "seglog"), r("append-batch-buffered", "lmdb"), 2, plain("append-batch-buffered"));
  ratioTarget("(d) 100-event batches, sync ≥ 1.3× better-sqlite3", r("append-batch-sync", "seglog"), r("append-batch-sync", "sqlite"), 1.3, plain("append-batch-sync"));
  for (const [w, letter, lmdb] of [["read-stream-forward", "e", 1.5], ["read-stream-backward", "f", 2], ["read-all", "g", 2]] as const) {
    ratioTarget(`(${letter}) reads ≥ ${lmdb}× lmdb`, r(w, "seglog"), r(w, "lmdb"), lmdb, plain(w));
    ratioTarget(`(${letter}) reads ≥ 2× better-sqlite3`, r(w, "seglog"), r(w, "sqlite"), 2, plain(w));
  }
  const open1m = find(entries, "open", "seglog", 1_000_000)?.extra?.openMedianMs as number | undefined;
  const openAny = entries.find((e) => e.workload === "open" && e.subject === "seglog" && e.ok);
  const open10m = find(entries, "open", "seglog", 10_000_000)?.extra?.openMedianMs as number | undefined;
  if (open10m !== undefined && open1m !== undefined) {
    out.push({ target: "(h) open at 10,000,000 events ≤ 2× the measured 1,000,000 figure", measured: `${fix(open10m, 1)} ms = ${fmtRatio(open10m / open1m)} the 1M figure`, verdict: open10m <= 2 * open1m ? "meets" : "misses" });
  } else {
    out.push({ target: "(h) open at 10,000,000 events ≤ 2× the measured 1,000,000 figure", measured: "not run (add --open-events 1000000,10000000)", verdict: "not measured" });
  }
  const openSize = openAny?.events;
  const sb = openSize === undefined ? undefined : (find(entries, "open", "seglog", openSize)?.extra?.bytesPerEvent as number | undefined);
  const pb = openSize === undefined ? undefined : (find(entries, "open", "plain-file", openSize)?.extra?.bytesPerEvent as number | undefined);
  if (sb !== undefined && pb !== undefined) {
    out.push({ target: "(i) bytes on disk ≤ 1.15× the plain file's", measured: `${fix(sb, 1)} vs ${fix(pb, 1)} B/event = ${fmtRatio(sb / pb)}`, verdict: sb / pb <= 1.15 ? "meets" : "misses" });
  } else out.push({ target: "(i) bytes on disk ≤ 1.15× the plain file's", measured: "—", verdict: "not measured" });
  const rss = openAny?.result?.extra?.rssBytesPerMillion as number | undefined;
  const writer = entries.find((e) => e.workload === "prepare-open" && e.subject === "seglog" && e.events === openSize)?.result?.extra?.writerRssBytes as number | undefined;
  out.push({
    target: "(j) RSS per million events (stated)",
    measured: rss === undefined ? "—" : `${fix(rss / 1e6, 1)} MB after open${writer !== undefined && openSize ? `, ${fix((writer * (1e6 / openSize)) / 1e6, 1)} MB in the writer` : ""}`,
    verdict: rss === undefined ? "not measured" : "stated",
  });
  return out;
}

export function targetsTable(checks: TargetCheck[]): string {
  return ["| target | measured (seglog ÷ peer) | verdict |", "|---|---|---|", ...checks.map((c) => `| ${c.target} | ${c.measured} | ${c.verdict} |`)].join("\n");
}

// ---- settings ---------------------------------------------------------------------

/** Each store's settings, one line per key; values that differ between runs are listed per run. */
export function settingsMarkdown(entries: Entry[]): string {
  const lines: string[] = [];
  for (const subject of [...new Set(entries.map((e) => e.subject))]) {
    lines.push(`- **${subject}**`);
    const byKey = new Map<string, Map<string, string[]>>();
    for (const e of entries.filter((x) => x.subject === subject && x.settings !== undefined && x.letter !== "")) {
      for (const [k, v] of Object.entries(e.settings!)) {
        const values = byKey.get(k) ?? new Map<string, string[]>();
        byKey.set(k, values);
        const letters = values.get(v) ?? [];
        if (!letters.includes(e.letter)) letters.push(e.letter);
        values.set(v, letters);
      }
    }
    for (const [k, values] of byKey) {
      if (values.size === 1) lines.push(`  - ${k}: ${[...values.keys()][0]}`);
      else lines.push(`  - ${k}: ${[...values].map(([v, letters]) => `(${letters.join(",")}) ${v}`).join("; ")}`);
    }
  }
  return lines.join("\n");
}

// ---- formatting -------------------------------------------------------------------

export function int(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}

export function fix(x: number, digits: number): string {
  return x.toFixed(digits);
}

export function fmtRatio(x: number): string {
  return `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}
