/**
 * The writer lock of a database directory: a `LOCK` file naming its owner.
 *
 * Owner: the pid and, on Linux, the process's start time (field 22 of
 * /proc/<pid>/stat), so that a pid reused by an unrelated process after a crash
 * does not keep the lock alive.
 * Taking it: the owner's line is written to a private file that is then
 * hard-linked to `LOCK`; link fails when `LOCK` exists, so of two processes
 * racing for a free lock exactly one wins.
 * Taking over a stale one (its owner is gone): only the holder of `LOCK.break`,
 * itself taken by the same link race, may remove `LOCK`, and only after reading
 * it again under that guard. No other process removes a lock whose owner is
 * gone, so what the breaker read is still the file it removes; then everyone
 * races for the free lock again, and one wins.
 * In this process: locks are also kept by the directory's identity (device and
 * inode), so a second open through another path (a symlink, a bind mount) is
 * refused even though the pid in `LOCK` is alive.
 */
import * as fs from "node:fs";
import { join } from "node:path";
import { SeglogError } from "../errors.js";
import { LOCK_FILE } from "../format/constants.js";
import type { DirectoryLock } from "./file-system.js";

const BREAK_FILE = `${LOCK_FILE}.break`;
const ATTEMPTS = 50;
const heldInThisProcess = new Set<string>();

interface Owner {
  pid: number;
  /** Empty where the platform does not tell. */
  started: string;
}

export function lockDirectory(dir: string): DirectoryLock {
  const identity = directoryIdentity(dir);
  if (heldInThisProcess.has(identity)) throw new SeglogError("LOCKED", `${dir} is already open for writing in this process`);
  const lockPath = join(dir, LOCK_FILE);
  const me = ownerLine(selfOwner());
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (linkNew(dir, lockPath, me)) {
      heldInThisProcess.add(identity);
      return {
        release: () => {
          heldInThisProcess.delete(identity);
          if (readText(lockPath) === me) fs.rmSync(lockPath, { force: true });
        },
      };
    }
    const line = readText(lockPath);
    if (line === undefined) continue; // released meanwhile: race for it again
    const owner = parseOwner(line);
    // Our own pid but not in our registry: a lock this process left behind (an open that never closed).
    if (owner !== undefined && owner.pid !== process.pid && isAlive(owner)) {
      throw new SeglogError("LOCKED", `${dir} is locked by process ${owner.pid}`);
    }
    breakStale(dir, lockPath, line, me);
  }
  throw new SeglogError("LOCKED", `${dir} could not be locked: other processes keep taking the lock`);
}

/** Removes `LOCK` if it still holds `staleLine`, under the LOCK.break guard. */
function breakStale(dir: string, lockPath: string, staleLine: string, me: string): void {
  const breakPath = join(dir, BREAK_FILE);
  if (!linkNew(dir, breakPath, me)) {
    const holder = readText(breakPath);
    const owner = holder === undefined ? undefined : parseOwner(holder);
    // A breaker that died inside its few system calls: its guard is stale too.
    if (holder !== undefined && (owner === undefined || !isAlive(owner))) {
      if (readText(breakPath) === holder) fs.rmSync(breakPath, { force: true });
    } else pause(1);
    return;
  }
  try {
    if (readText(lockPath) === staleLine) fs.rmSync(lockPath, { force: true });
  } finally {
    fs.rmSync(breakPath, { force: true });
  }
}

/** Creates `path` holding `line`, failing (false) when it exists. */
function linkNew(dir: string, path: string, line: string): boolean {
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}.${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(tmp, line);
  try {
    fs.linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function directoryIdentity(dir: string): string {
  const s = fs.statSync(dir, { bigint: true });
  return `${s.dev}:${s.ino}`;
}

function selfOwner(): Owner {
  return { pid: process.pid, started: startTime(process.pid) ?? "" };
}

function ownerLine(o: Owner): string {
  return `${o.pid} ${o.started}\n`;
}

function parseOwner(line: string): Owner | undefined {
  const [pidText, started = ""] = line.trim().split(" ");
  const pid = Number.parseInt(pidText ?? "", 10);
  return Number.isInteger(pid) && pid > 0 ? { pid, started } : undefined;
}

function isAlive(o: Owner): boolean {
  try {
    process.kill(o.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (o.started === "") return true;
  const now = startTime(o.pid);
  return now === undefined || now === o.started;
}

/** The process's start time in clock ticks since boot (Linux), or undefined. */
function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return fs.readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
