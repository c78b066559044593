/**
 * The real node file system with a counter of the bytes read from segment
 * files, for tests that show a read touches only the records it needs (a
 * cassette's own entries, no recording events for summaries). Nothing is
 * faked; every call goes to disk.
 */
import type { DirectoryLock, FileHandle, FileSystem } from "../../engine/io/file-system.js";
import { NodeFileSystem } from "../../engine/io/node-file-system.js";

export class ReadCountingFileSystem implements FileSystem {
  /** Bytes returned by read() on any file opened through this file system. */
  bytesRead = 0;
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
    return this.counted(this.inner.openRead(path));
  }
  openWrite(path: string, create: boolean): FileHandle {
    return this.counted(this.inner.openWrite(path, create));
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

  private counted(handle: FileHandle): FileHandle {
    const counts = this;
    return {
      path: handle.path,
      read(b, o, l, p) {
        const n = handle.read(b, o, l, p);
        counts.bytesRead += n;
        return n;
      },
      write: (b, o, l, p) => handle.write(b, o, l, p),
      size: () => handle.size(),
      truncate: (l) => handle.truncate(l),
      sync: () => handle.sync(),
      syncBlocking: () => handle.syncBlocking(),
      close: () => handle.close(),
    };
  }
}
