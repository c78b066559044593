/**
 * The real node file system with counters on the calls that group commit is
 * meant to save: writes and fsyncs of segment files. Nothing is faked; every
 * call goes to disk.
 */
import type { DirectoryLock, FileHandle, FileSystem } from "../../engine/io/file-system.js";
import { NodeFileSystem } from "../../engine/io/node-file-system.js";

export class CountingFileSystem implements FileSystem {
  writes = 0;
  syncs = 0;
  private readonly inner = new NodeFileSystem();

  mkdirp(dir: string): void {
    this.inner.mkdirp(dir);
  }
  exists(path: string): boolean {
    return this.inner.exists(path);
  }
  isDirectory(path: string): boolean {
    return this.inner.isDirectory(path);
  }
  list(dir: string): string[] {
    return this.inner.list(dir);
  }
  openRead(path: string): FileHandle {
    return this.inner.openRead(path);
  }
  openWrite(path: string, create: boolean): FileHandle {
    const handle = this.inner.openWrite(path, create);
    const counts = this;
    return {
      path: handle.path,
      read: (b, o, l, p) => handle.read(b, o, l, p),
      write(b, o, l, p) {
        counts.writes++;
        handle.write(b, o, l, p);
      },
      size: () => handle.size(),
      truncate: (l) => handle.truncate(l),
      sync() {
        counts.syncs++;
        return handle.sync();
      },
      syncBlocking() {
        counts.syncs++;
        handle.syncBlocking();
      },
      close: () => handle.close(),
    };
  }
  readFile(path: string): Uint8Array {
    return this.inner.readFile(path);
  }
  writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    return this.inner.writeFileAtomic(path, data);
  }
  remove(path: string): void {
    this.inner.remove(path);
  }
  rename(from: string, to: string): void {
    this.inner.rename(from, to);
  }
  syncDirectory(dir: string): Promise<void> {
    return this.inner.syncDirectory(dir);
  }
  lock(dir: string): DirectoryLock {
    return this.inner.lock(dir);
  }
}
