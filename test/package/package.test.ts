/**
 * The package as a user gets it: `npm pack`, then installed into an empty
 * folder. It ships what users need and nothing else (no test file systems, no
 * source maps pointing at sources it does not ship), installs without running
 * a script of ours, loads with `import` and with CommonJS `require`, and a
 * strict TypeScript app type-checks against its declarations.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync, copyFileSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../support/child.js";
import { makeTempDir, removeTempDir } from "../support/temp-dir.js";

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
let work: string;
let tarball: string;
let files: string[];

beforeAll(async () => {
  work = await makeTempDir("seglog-package-");
  const out = execFileSync(NPM, ["pack", "--json", "--pack-destination", work], { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(work, info!.filename);
  files = info!.files.map((f) => f.path);
}, 180_000);

afterAll(async () => {
  await removeTempDir(work);
});

describe("the packed package", () => {
  it("when packed, it holds the license, the readme, the engine and the integrations, and no test file systems or source maps", () => {
    expect(files).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json", "dist/engine/index.js", "dist/engine/index.d.ts", "dist/engine/cli/main.js", "dist/engine/integrations/emmett/index.js"]));
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
    expect(files.filter((f) => /memory-file-system|faulty-file-system|delegating-file-system/.test(f))).toEqual([]);
    expect(files.filter((f) => !f.startsWith("dist/engine/") && !["LICENSE", "README.md", "package.json"].includes(f))).toEqual([]);
  });

  it("when installed into an empty app, it loads with import and with require, and a strict TypeScript app compiles against it and runs", () => {
    const app = path.join(work, "app");
    mkdirSync(app);
    writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", type: "module", private: true }));
    execFileSync(NPM, ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", tarball], { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
    // No install script of ours: the package has none to run.
    const manifest = JSON.parse(execFileSync(process.execPath, ["-p", "JSON.stringify(require('seglog/package.json'))"], { cwd: app, encoding: "utf8" })) as { scripts?: Record<string, string> };
    expect(["preinstall", "install", "postinstall", "prepare"].filter((s) => manifest.scripts?.[s] !== undefined)).toEqual([]);

    const db = path.join(work, "db-import");
    const viaImport = spawnSync(process.execPath, ["--input-type=module", "-e", `import { open } from "seglog"; const db = await open(${JSON.stringify(db)}); await db.events.append("s", [{ type: "T", data: 1 }]); console.log(db.events.streamVersion("s")); await db.close();`], { cwd: app, encoding: "utf8" });
    expect(viaImport.stderr).toBe("");
    expect(viaImport.stdout.trim()).toBe("0");

    const viaRequire = spawnSync(process.execPath, ["-e", `const { open, SeglogError } = require("seglog"); open(${JSON.stringify(db)}).then(async (db) => { console.log(db.events.streamVersion("s"), typeof SeglogError); await db.close(); });`], { cwd: app, encoding: "utf8" });
    expect(viaRequire.status).toBe(0);
    expect(viaRequire.stdout.trim()).toBe("0 function");

    copyFileSync(path.join(REPO_ROOT, "test", "fixtures", "package-app", "app.ts"), path.join(app, "app.ts"));
    writeFileSync(
      path.join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", outDir: "out", skipLibCheck: false, types: ["node"], typeRoots: [path.join(REPO_ROOT, "node_modules", "@types")] },
        files: ["app.ts"],
      }),
    );
    const tsc = spawnSync(process.execPath, [path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: app, encoding: "utf8" });
    expect(tsc.stdout + tsc.stderr).toBe("");
    const run = spawnSync(process.execPath, [path.join(app, "out", "app.js"), path.join(work, "db-typed")], { cwd: app, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({ total: 3, actual: 0 });
    // The fileSystem option was dropped: the second database is on disk.
    expect(readdirSync(path.join(work, "db-typed-other")).some((f) => f.endsWith(".seg"))).toBe(true);
    expect(existsSync(path.join(app, "node_modules", "seglog", "dist", "engine", "index.js"))).toBe(true);
  }, 240_000);
});
