/**
 * Runs one (subject, workload) pair in this process and prints one JSON line
 * on stdout: the result, or why there is none. bench/run.ts starts one of these
 * per pair so that no store shares a heap, a thread pool or a page of JIT
 * warm-up with another.
 *
 *   node --expose-gc dist/bench/child.js --subject seglog --workload append-single-buffered --dir D --events N
 */
import { parseArgs } from "node:util";
import { loadSubject, SUBJECT_NAMES, Unsupported, type SubjectName } from "./subjects/subject.js";
import { workloadById } from "./workloads/index.js";

const { values } = parseArgs({
  options: {
    subject: { type: "string" },
    workload: { type: "string" },
    dir: { type: "string" },
    events: { type: "string" },
  },
});

const subjectName = values.subject as SubjectName;
if (!SUBJECT_NAMES.includes(subjectName)) throw new Error(`--subject must be one of ${SUBJECT_NAMES.join(", ")}`);
if (values.dir === undefined || values.workload === undefined || values.events === undefined) throw new Error("--workload, --dir and --events are required");
const workload = workloadById(values.workload);
const subject = await loadSubject(subjectName);
const settings = subject.settings({ durability: workload.durability, concurrent: workload.concurrent === true });
const head = { subject: subjectName, workload: workload.id, settings };

try {
  const result = await workload.run({ subject, dir: values.dir, events: Number(values.events) });
  console.log(JSON.stringify({ ...head, ok: true, result }));
} catch (err) {
  if (err instanceof Unsupported) {
    console.log(JSON.stringify({ ...head, ok: false, unsupported: err.message }));
  } else {
    console.log(JSON.stringify({ ...head, ok: false, error: (err as Error).stack ?? String(err) }));
    process.exitCode = 1;
  }
}
