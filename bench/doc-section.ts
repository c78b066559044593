/**
 * Writes the "## Event store vs SQLite and LMDB" section of docs/benchmarks.md.
 * Other benchmarks own other sections of that file: only the text between this
 * heading and the next "## " heading (or the end of the file) is replaced, and
 * the section is appended when it is not there yet.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { checkTargets, footprintTable, int, settingsMarkdown, targetsTable, throughputTable, type Entry, type Meta } from "./report.js";

export const HEADING = "## Event store vs SQLite and LMDB";

/** The section of a run: the msgpack payload's is the original heading, the bytes payload's has its own. */
export function headingFor(meta: Meta): string {
  return (meta.payload ?? "msgpack") === "bytes" ? `${HEADING}, payload as bytes` : HEADING;
}

export function sectionText(meta: Meta, entries: Entry[]): string {
  const m = meta.machine;
  const s = meta.sizes;
  const loads = entries.map((e) => e.loadBefore);
  const payload =
    (meta.payload ?? "msgpack") === "bytes"
      ? `Events carry ${meta.dataBytes - 2} bytes of opaque data: a \`Uint8Array\` every store writes and returns as bytes
(seglog keeps it as bytes; the peers store it as a msgpack bin in their record), as a user who keeps serialized
events does. The same workloads with msgpack objects as data are in the section above.`
      : `Events carry about ${meta.dataBytes} bytes of msgpack data (an object every store encodes and decodes); the same
workloads with opaque bytes as data are in the next section.`;
  return `${headingFor(meta)}

Latest ${meta.mode} run of \`npm run bench\`${meta.mode === "quick" ? " -- --quick" : ""}, ${meta.date}, commit \`${meta.commit.sha.slice(0, 12)}\`${meta.commit.dirty ? " (with uncommitted changes)" : ""}.
Machine: ${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.platform} ${m.release}, Node ${meta.node}.
The machine is shared: the 1-minute load average ranged ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} while the children ran (${meta.durationSeconds.toFixed(0)} s in all).

Each store runs every workload in a child process of its own, one process at a time, all in
this one run. ${payload} The record a plain file
must write for one (msgpack \`[streamId, version, timestamp, id, type, data]\`) is ${meta.recordBytes} bytes,
and **MB/s is events/s × ${meta.recordBytes} B for every store**, so that column compares like with like.
Event *i* goes to stream *i* % 1,000. Every append checks the stream's expected version
atomically with the write. **seglog ÷ store** is seglog's events/s divided by the store's
(above 1: seglog is faster); for bytes on disk it is seglog's bytes divided by the store's
(below 1: seglog is smaller).

Events per workload: (a) ${int(s["append-single-buffered"] as number)}; (b) ${int(s["append-single-sync"] as number)} (each call costs an fsync
for the stores without group commit, hence fewer); (c) ${int(s["append-concurrent-sync"] as number)}; (d) ${int(s["append-batch-buffered"] as number)} buffered and
${int(s["append-batch-sync"] as number)} sync; (e)/(f)/(g) read a database of ${int(s.reads as number)} events; (h)/(i)/(j) use a database of
${(s.open as number[]).map(int).join(" and ")} events. Latency is per call: one append call, one stream read,
one page of 1,000 events for (g). (f) makes 10 passes over the 1,000 streams.
${meta.repeat > 1 ? `Each timed workload ran ${meta.repeat} times per store, the stores taking turns; the table shows the run
with the median events/s and, under **spread**, the slowest and fastest of the ${meta.repeat}.` : "Each workload ran once per store (no spread)."}

### Appends and reads

${throughputTable(entries, meta.recordBytes)}

### Open, bytes on disk, memory

${footprintTable(entries)}

(h) is open() plus the first page of the global read, median of 5 opens in a fresh process
(the first open of that process is the next column); the files were just written, so the
page cache is warm. (i) is the apparent size of every file in the directory after close.
(j) is the RSS growth (after a full GC) from before the first open to after the first read,
and, in the last column, the RSS the writer held after appending every event.

### Targets of issue 14

${targetsTable(checkTargets(entries))}

### Settings

Every store gets the same events and the same expected-version check; durability is
matched: "buffered" survives a process crash, "sync" survives a power cut.

${settingsMarkdown(entries)}

### Method

- The databases live under the OS temporary directory (ext4 on this machine), fresh for
  every append run; the read and open databases are filled 100 events per call with
  \`appendMany\` (100 different streams per call), so each stream's events are interleaved
  with all others', as in (a). Filling is not timed.
- Each append run starts with a short untimed warm-up on streams of its own; each read
  run first reads a tenth of what it will time.
- The \`benchmark\` package is not used: every workload is stateful (expected versions
  advance; a sync run is a fixed number of fsyncs) and needs per-call p50/p99 over a
  fixed number of calls, where Benchmark.js repeats a function an adaptive number of
  times and reports a mean ± RME. Plain timing loops (\`performance.now()\`) are used.
- Raw figures, settings and the machine: \`bench/results/latest.json\`.
`;
}

/** Replaces (or appends) the section in `path`, leaving every other section as it is. */
/** Replaces the section under `heading` (the first line of `text`) or appends it. */
export function writeSection(path: string, text: string, heading = HEADING): void {
  const body = text.endsWith("\n") ? text : `${text}\n`;
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `# Benchmarks\n\n${body}`);
    return;
  }
  const old = readFileSync(path, "utf8");
  const lines = old.split("\n");
  const start = lines.findIndex((l) => l.trimEnd() === heading);
  if (start < 0) {
    writeFileSync(path, `${old.replace(/\n*$/, "\n\n")}${body}`);
    return;
  }
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    if (lines[i]!.startsWith("## ")) {
      end = i;
      break;
    }
  }
  const before = lines.slice(0, start).join("\n");
  const after = lines.slice(end).join("\n");
  writeFileSync(path, `${before}${before === "" ? "" : "\n"}${body}${after === "" ? "" : `\n${after}`}`);
}
