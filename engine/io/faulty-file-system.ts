/**
 * A FileSystem that injects faults into another one, for tests: the engine runs
 * unchanged on real files while writes and fsyncs fail on command (EIO, ENOSPC),
 * writes come up short, or a seeded schedule fails them at random. Every fault
 * is an ordinary Node errno error, exactly what the node file system would throw.
 */
import type { DirectoryLock, FileHandle, FileSystem } from "./file-system.js";

export type FaultKind = "write" | "sync" | "read";

export interface Fault {
  /** errno code: "EIO", "ENOSPC", ... */
  code: string;
  /** For writes: write this many bytes of the request before failing (a short write). */
  partialBytes?: number;
}

export class FaultyFileSystem implements FileSystem {
  private readonly queued: Record<FaultKind, Fault[]> = { write: [], sync: [], read: [] };
  /** Only files whose path ends with this suffix get faults (default: segments). */
  targetSuffix = ".seg";
  /** Faults injected so far. */
  injected = 0;

  constructor(private readonly inner: FileSystem) {}

  /** The next `kind` call on a target file fails with `fault`. */
  failNext(kind: FaultKind, fault: Fault): void {
    this.queued[kind].push(fault);
  }

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
    return this.wrap(this.inner.openRead(path));
  }
  openWrite(path: string, create: boolean): FileHandle {
    return this.wrap(this.inner.openWrite(path, create));
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

  private take(kind: FaultKind, path: string): Fault | undefined {
    if (!path.endsWith(this.targetSuffix)) return undefined;
    const fault = this.queued[kind].shift();
    if (fault !== undefined) this.injected++;
    return fault;
  }

  private wrap(handle: FileHandle): FileHandle {
    const fs = this;
    return {
      path: handle.path,
      read(buffer, offset, length, position) {
        const fault = fs.take("read", handle.path);
        if (fault !== undefined) throw errno(fault.code, "read", handle.path);
        return handle.read(buffer, offset, length, position);
      },
      write(buffer, offset, length, position) {
        const fault = fs.take("write", handle.path);
        if (fault !== undefined) {
          const partial = Math.min(fault.partialBytes ?? 0, length);
          if (partial > 0) handle.write(buffer, offset, partial, position);
          throw errno(fault.code, "write", handle.path);
        }
        handle.write(buffer, offset, length, position);
      },
      size: () => handle.size(),
      truncate: (length) => handle.truncate(length),
      async sync() {
        const fault = fs.take("sync", handle.path);
        if (fault !== undefined) throw errno(fault.code, "fdatasync", handle.path);
        await handle.sync();
      },
      syncBlocking() {
        const fault = fs.take("sync", handle.path);
        if (fault !== undefined) throw errno(fault.code, "fdatasync", handle.path);
        handle.syncBlocking();
      },
      close: () => handle.close(),
    };
  }
}

function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const err = new Error(`${code}: injected fault, ${syscall} '${path}'`) as NodeJS.ErrnoException;
  err.code = code;
  err.syscall = syscall;
  err.path = path;
  return err;
}
