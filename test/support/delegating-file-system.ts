/**
 * A FileSystem that hands every call to another one. Test file systems (fault
 * injection, counters) extend it and override only what they watch: `wrap`
 * sees every handle opened, and each handle method forwards unless replaced.
 */
import type { DirectoryLock, FileHandle, FileSystem } from "../../engine/io/file-system.js";

export class DelegatingFileSystem implements FileSystem {
  constructor(protected readonly inner: FileSystem) {}

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
    return this.wrap(this.inner.openRead(path), false);
  }
  openWrite(path: string, create: boolean): FileHandle {
    return this.wrap(this.inner.openWrite(path, create), true);
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

  /** The handle callers get; by default the inner one. */
  protected wrap(handle: FileHandle, _writable: boolean): FileHandle {
    return handle;
  }
}

/** A handle that forwards every call to `handle` except those in `overrides`. */
export function forwardingHandle(handle: FileHandle, overrides: Partial<Omit<FileHandle, "path">>): FileHandle {
  return {
    path: handle.path,
    read: (b, o, l, p) => handle.read(b, o, l, p),
    write: (b, o, l, p) => handle.write(b, o, l, p),
    writeAsync: (b, o, l, p) => handle.writeAsync(b, o, l, p),
    size: () => handle.size(),
    truncate: (l) => handle.truncate(l),
    sync: () => handle.sync(),
    syncBlocking: () => handle.syncBlocking(),
    close: () => handle.close(),
    ...overrides,
  };
}
