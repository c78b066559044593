/**
 * The FileSystem on Node's fs module, the one every real database uses.
 *
 * The writer lock is a `LOCK` file holding the owner's pid, created with O_EXCL
 * through a hard link so that two processes racing for it cannot both win. A lock
 * whose pid is no longer running is taken over. Locks held by this process are
 * also tracked in memory, so a second open in the same process is refused even
 * though the pid in the file is alive.
 */
import * as fs from "node:fs";
import { dirname, join, resolve } from "node:path";
import fse from "fs-extra";
import { SeglogError } from "../errors.js";
import { LOCK_FILE } from "../format/constants.js";
import type { DirectoryLock, FileHandle, FileSystem } from "./file-system.js";

const heldInThisProcess = new Set<string>();

class NodeFileHandle implements FileHandle {
  constructor(
    readonly path: string,
    private fd: number,
  ) {}

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    return fs.readSync(this.fd, buffer, offset, length, position);
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): void {
    // A write may be short (a full disk, a signal); go on until all is written or it throws.
    while (length > 0) {
      const n = fs.writeSync(this.fd, buffer, offset, length, position);
      offset += n;
      length -= n;
      position += n;
    }
  }

  size(): number {
    return fs.fstatSync(this.fd).size;
  }

  truncate(length: number): void {
    fs.ftruncateSync(this.fd, length);
  }

  sync(): Promise<void> {
    return new Promise((done, fail) => fs.fdatasync(this.fd, (err) => (err ? fail(err) : done())));
  }

  syncBlocking(): void {
    fs.fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}

export class NodeFileSystem implements FileSystem {
  mkdirp(dir: string): void {
    fse.mkdirpSync(dir);
  }

  exists(path: string): boolean {
    return fs.existsSync(path);
  }

  isDirectory(path: string): boolean {
    try {
      return fs.statSync(path).isDirectory();
    } catch {
      return false;
    }
  }

  list(dir: string): string[] {
    return fs.readdirSync(dir).sort();
  }

  openRead(path: string): FileHandle {
    return new NodeFileHandle(path, fs.openSync(path, "r"));
  }

  openWrite(path: string, create: boolean): FileHandle {
    return new NodeFileHandle(path, fs.openSync(path, create ? "wx+" : "r+"));
  }

  readFile(path: string): Uint8Array {
    const b = fs.readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }

  async writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    const tmp = `${path}.tmp`;
    const fd = fs.openSync(tmp, "w");
    try {
      let off = 0;
      while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
      await new Promise<void>((done, fail) => fs.fsync(fd, (err) => (err ? fail(err) : done())));
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
    await this.syncDirectory(dirname(path));
  }

  remove(path: string): void {
    fs.rmSync(path, { force: true });
  }

  rename(from: string, to: string): void {
    fs.renameSync(from, to);
  }

  async syncDirectory(dir: string): Promise<void> {
    const fd = fs.openSync(dir, "r");
    try {
      await new Promise<void>((done, fail) => fs.fsync(fd, (err) => (err ? fail(err) : done())));
    } finally {
      fs.closeSync(fd);
    }
  }

  lock(dir: string): DirectoryLock {
    const key = resolve(dir);
    if (heldInThisProcess.has(key)) {
      throw new SeglogError("LOCKED", `${dir} is already open for writing in this process`);
    }
    const lockPath = join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (tryCreateLock(lockPath)) {
        heldInThisProcess.add(key);
        return {
          release: () => {
            heldInThisProcess.delete(key);
            if (readLockPid(lockPath) === process.pid) fs.rmSync(lockPath, { force: true });
          },
        };
      }
      const owner = readLockPid(lockPath);
      if (owner !== undefined && owner !== process.pid && isRunning(owner)) {
        throw new SeglogError("LOCKED", `${dir} is locked by process ${owner}`);
      }
      // The owner is gone (or the file is unreadable): the lock is stale, take it over.
      fs.rmSync(lockPath, { force: true });
    }
    throw new SeglogError("LOCKED", `${dir} could not be locked: another process keeps taking the lock`);
  }
}

function tryCreateLock(lockPath: string): boolean {
  const tmp = `${lockPath}.${process.pid}`;
  fs.writeFileSync(tmp, `${process.pid}\n`);
  try {
    fs.linkSync(tmp, lockPath);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function readLockPid(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockPath, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
