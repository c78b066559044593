/**
 * The FileSystem on Node's fs module, the one every real database uses.
 *
 * The writer lock is directory-lock.ts.
 */
import * as fs from "node:fs";
import { dirname } from "node:path";
import fse from "fs-extra";
import { lockDirectory } from "./directory-lock.js";
import type { DirectoryLock, FileHandle, FileSystem } from "./file-system.js";

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

  async writeAsync(buffer: Uint8Array, offset: number, length: number, position: number): Promise<void> {
    while (length > 0) {
      const n = await new Promise<number>((done, fail) => fs.write(this.fd, buffer, offset, length, position, (err, written) => (err ? fail(err) : done(written))));
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
    return lockDirectory(dir);
  }
}
