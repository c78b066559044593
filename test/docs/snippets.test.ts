/**
 * Every code block of README.md and docs/*.md, run so that none can rot:
 *   - ts/js blocks that do something (await, console.log) run as a program in a
 *     fresh directory, must exit 0 without stderr, and must print what their
 *     `console.log(...); // text` comments say, in that order; declaration
 *     blocks (the API reference) must parse;
 *   - sh blocks of `npx seglog …` lines run the CLI on the directory the
 *     file's earlier blocks wrote, each must exit 0;
 *   - sh transcripts (`$ command` then its output) run against a real
 *     `seglog serve` with a small curl stand-in (so the test needs no curl), and
 *     each status line, shown header and body must match;
 *   - `sh no-run` blocks (installing, running this very test suite) are named
 *     here and not run; untagged blocks are text (trees, byte tables), not code.
 * Programs run from .scratch/snippets inside the repository, so `import … from
 * "seglog"` resolves to this package, as it would for a user.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import ts from "typescript";
import { NatsCluster, natsServerBinary } from "../../bench/nats-cluster.js";
import { REPO_ROOT } from "../support/child.js";
import { makeTempDir, removeTempDir } from "../support/temp-dir.js";

const CLI = path.join(REPO_ROOT, "dist", "engine", "cli", "main.js");
const SCRATCH = path.join(REPO_ROOT, ".scratch", "snippets");

interface Block {
  file: string;
  line: number;
  lang: string;
  tags: string[];
  code: string;
}

function blocksOf(file: string): Block[] {
  const lines = readFileSync(path.join(REPO_ROOT, file), "utf8").split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith("```"); i++) body.push(lines[i]!);
    out.push({ file, line: start + 1, lang: open[1]!, tags: open[2]!.split(/\s+/).filter((t) => t !== ""), code: body.join("\n") });
  }
  return out;
}

/**
 * Programs that import seglog/replication get a JetStream server of their own
 * (one nats-server on a free loopback port) in NATS_URL. Without nats-server
 * they are not run, like the replication tests, and npm test's last line says so.
 */
let nats: Promise<{ cluster: NatsCluster; url: string }> | undefined;
const needsNats = (block: Block) => block.code.includes("seglog/replication");

function natsServer(): Promise<{ cluster: NatsCluster; url: string }> {
  nats ??= (async () => {
    const cluster = await NatsCluster.start(mkdtempSync(path.join(tmpdir(), "seglog-snippets-nats-")), 1);
    await cluster.ready();
    return { cluster, url: cluster.servers[0]! };
  })();
  return nats;
}

afterAll(async () => {
  if (nats !== undefined) await (await nats).cluster.stop();
});

const FILES = ["README.md", ...readdirSync(path.join(REPO_ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

describe.each(FILES)("the code blocks of %s", (file) => {
  const blocks = blocksOf(file);
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir("seglog-snippets-");
    mkdirSync(SCRATCH, { recursive: true });
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it("has only blocks this test knows how to check (ts, js, sh, or untagged text)", () => {
    for (const b of blocks) expect({ at: `${b.file}:${b.line}`, lang: ["ts", "js", "sh", ""].includes(b.lang) ? "known" : b.lang }).toEqual({ at: `${b.file}:${b.line}`, lang: "known" });
  });

  for (const block of blocks) {
    const at = `${block.file}:${block.line}`;
    if (block.lang === "ts" || block.lang === "js") {
      if (/\bawait\b|console\.log/.test(block.code)) {
        if (needsNats(block) && natsServerBinary() === undefined) continue;
        it(`${at}: the program runs and prints what its comments say`, async () => runProgram(block, dir, needsNats(block) ? { NATS_URL: (await natsServer()).url } : {}), 60_000);
      } else {
        it(`${at}: the declarations parse`, () => {
          const result = ts.transpileModule(block.code, { reportDiagnostics: true, compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } });
          expect((result.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
        });
      }
    } else if (block.lang === "sh" && block.tags.includes("no-run")) {
      it(`${at}: is marked no-run (it installs or runs this suite), so it is shown, not run`, () => {
        expect(block.code).toMatch(/^npm (install|test|ci)/m);
      });
    } else if (block.lang === "sh" && block.code.trimStart().startsWith("$ ")) {
      it(`${at}: the session gives the output shown`, () => runTranscript(block, dir), 60_000);
    } else if (block.lang === "sh") {
      it(`${at}: every command exits 0`, () => {
        for (const line of block.code.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter((l) => l !== "")) {
          const m = /^npx seglog (.*)$/.exec(line);
          expect({ line, runnable: m !== null }).toEqual({ line, runnable: true });
          const r = spawnSync(process.execPath, [CLI, ...m![1]!.split(/\s+/)], { cwd: dir, encoding: "utf8", timeout: 30_000 });
          expect({ line, code: r.status, stderr: r.stderr }).toEqual({ line, code: 0, stderr: "" });
        }
      });
    }
  }
});

// ---- programs ---------------------------------------------------------------------

function runProgram(block: Block, dir: string, env: Record<string, string>): void {
  const js = ts.transpileModule(block.code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
  const script = path.join(SCRATCH, `${block.file.replace(/[/.]/g, "_")}_${block.line}.mjs`);
  writeFileSync(script, js);
  const r = spawnSync(process.execPath, [script], { cwd: dir, encoding: "utf8", timeout: 50_000, env: { ...process.env, ...env } });
  expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  const printed = r.stdout.split("\n");
  let from = 0;
  for (const expected of expectedPrints(block.code)) {
    const found = printed.indexOf(expected, from);
    expect({ expected, found: found >= 0 }).toEqual({ expected, found: true });
    from = found + 1;
  }
}

/** `console.log(...); // text` → "text", in order. */
function expectedPrints(code: string): string[] {
  return code
    .split("\n")
    .map((l) => /console\.log\(.*\).*?\/\/\s*(.+?)\s*$/.exec(l)?.[1])
    .filter((t): t is string => t !== undefined);
}

// ---- transcripts ------------------------------------------------------------------

interface Step {
  command: string;
  expected: string[];
}

function stepsOf(code: string): Step[] {
  const steps: Step[] = [];
  const lines = code.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith("$ ")) continue;
    let command = lines[i]!.slice(2);
    while (command.endsWith("\\")) command = `${command.slice(0, -1)} ${lines[++i]!.trim()}`;
    const expected: string[] = [];
    while (i + 1 < lines.length && !lines[i + 1]!.startsWith("$ ")) expected.push(lines[++i]!);
    while (expected.length > 0 && expected[expected.length - 1]!.trim() === "") expected.pop();
    steps.push({ command: command.replace(/\s+#[^'"]*$/, "").trim(), expected });
  }
  return steps;
}

async function runTranscript(block: Block, dir: string): Promise<void> {
  const vars = new Map<string, string>();
  let server: ChildProcess | undefined;
  let origin = "";
  try {
    for (const step of stepsOf(block.code)) {
      if (step.command === "npm start") {
        const started = await startServer(dir);
        server = started.child;
        origin = started.origin;
        expect(step.expected.map((l) => normalize(l, origin, dir))).toEqual([`seglog serving ${dir}/data at ${origin}/v1/stream/`]);
        continue;
      }
      const assign = /^(\w+)=(\S+)$/.exec(step.command);
      if (assign !== null) {
        vars.set(assign[1]!, assign[2]!.replace("http://127.0.0.1:4437", origin));
        continue;
      }
      const background = /^\(sleep ([\d.]+); (.*)\) & (.*)$/.exec(step.command);
      if (background !== null) {
        const later = new Promise((r) => setTimeout(r, Number(background[1]) * 1000)).then(() => curl(words(background[2]!, vars)));
        const output = await curl(words(background[3]!, vars));
        await later;
        compareOutput(step, output, origin, dir);
        continue;
      }
      expect(step.command.startsWith("curl ")).toBe(true);
      compareOutput(step, await curl(words(step.command, vars)), origin, dir);
    }
  } finally {
    server?.kill("SIGTERM");
    if (server !== undefined) await new Promise((r) => server!.once("exit", r));
  }
}

function normalize(line: string, origin: string, dir: string): string {
  return line.replace("http://127.0.0.1:4437", origin).replace("/path/to/seglog/data", `${dir}/data`);
}

function compareOutput(step: Step, actual: { head: string[] | undefined; body: string }, origin: string, dir: string): void {
  const expected = step.expected.map((l) => normalize(l, origin, dir));
  const what = step.command;
  if (actual.head === undefined) {
    expect({ what, body: actual.body.trimEnd().split("\n") }).toEqual({ what, body: expected });
    return;
  }
  const blank = expected.indexOf("");
  const expectedHead = blank < 0 ? expected : expected.slice(0, blank);
  const expectedBody = blank < 0 ? [] : expected.slice(blank + 1);
  expect({ what, status: actual.head[0] }).toEqual({ what, status: expectedHead[0] });
  for (const header of expectedHead.slice(1)) {
    const name = header.slice(0, header.indexOf(":")).toLowerCase();
    const shown = actual.head.find((h) => h.toLowerCase().startsWith(`${name}:`));
    // A cursor is the server's to choose: only that it is there is checked.
    if (name === "stream-cursor") expect({ what, shown: shown !== undefined }).toEqual({ what, shown: true });
    else expect({ what, header: shown?.toLowerCase() }).toEqual({ what, header: header.toLowerCase() });
  }
  expect({ what, body: actual.body === "" ? [] : actual.body.trimEnd().split("\n") }).toEqual({ what, body: expectedBody });
}

function startServer(dir: string): Promise<{ child: ChildProcess; origin: string }> {
  const child = spawn(process.execPath, [CLI, "serve", path.join(dir, "data"), "--port", "0"], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /at (http:\/\/[^/]+)\/v1\/stream\//.exec(out);
      if (m !== null) resolve({ child, origin: m[1]! });
    });
    child.once("exit", (code) => reject(new Error(`seglog serve exited with ${code}: ${out}`)));
  });
}

/** Shell words of one curl command: quotes, and $VARS outside single quotes. */
function words(command: string, vars: Map<string, string>): string[] {
  const out: string[] = [];
  let current = "";
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      current += command.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      const end = command.indexOf('"', i + 1);
      current += expand(command.slice(i + 1, end), vars);
      i = end;
      inWord = true;
    } else if (c === " ") {
      if (inWord) out.push(current);
      current = "";
      inWord = false;
    } else {
      const rest = /^\$(\w+)/.exec(command.slice(i));
      if (rest !== null) {
        current += vars.get(rest[1]!) ?? "";
        i += rest[0].length - 1;
      } else current += c;
      inWord = true;
    }
  }
  if (inWord) out.push(current);
  return out;
}

function expand(text: string, vars: Map<string, string>): string {
  return text.replace(/\$(\w+)/g, (_m, name: string) => vars.get(name) ?? "");
}

/** The curl flags the docs use: -i, -s, -N, -X, -H, -d. */
function curl(argv: string[]): Promise<{ head: string[] | undefined; body: string }> {
  expect(argv[0]).toBe("curl");
  let include = false;
  let method: string | undefined;
  const headers: Record<string, string> = {};
  let data: string | undefined;
  let url = "";
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-i") include = true;
    else if (a === "-s" || a === "-N") continue;
    else if (a === "-X") method = argv[++i];
    else if (a === "-H") {
      const h = argv[++i]!;
      headers[h.slice(0, h.indexOf(":")).trim()] = h.slice(h.indexOf(":") + 1).trim();
    } else if (a === "-d") data = argv[++i];
    else if (a.startsWith("-")) throw new Error(`the curl stand-in does not know ${a}`);
    else url = a;
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method: method ?? (data === undefined ? "GET" : "POST"), headers: data === undefined ? headers : { "content-type": "application/x-www-form-urlencoded", ...headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        const head = [`HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}`];
        for (let k = 0; k < res.rawHeaders.length; k += 2) head.push(`${res.rawHeaders[k]}: ${res.rawHeaders[k + 1]}`);
        resolve({ head: include ? head : undefined, body });
      });
    });
    req.on("error", reject);
    req.end(data);
  });
}
