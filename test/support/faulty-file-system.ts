/**
 * A FileSystem that injects faults into another one, for tests: the engine runs
 * unchanged on real files while writes and fsyncs fail on command (EIO, ENOSPC),
 * writes come up short, or a seeded schedule fails them at random. Every fault
 * is an ordinary Node errno error, exactly what the node file system would throw.
 */
import { DelegatingFileSystem, forwardingHandle } from "./delegating-file-system.js";
import type { FileHandle, FileSystem } from "../../engine/io/file-system.js";

export type FaultKind = "write" | "sync" | "read";

export interface Fault {
  /** errno code: "EIO", "ENOSPC", ... */
  code: string;
  /** For writes: write this many bytes of the request before failing (a short write). */
  partialBytes?: number;
}

export class FaultyFileSystem extends DelegatingFileSystem {
  private readonly queued: Record<FaultKind, Fault[]> = { write: [], sync: [], read: [] };
  /** Only files whose path ends with this suffix get faults (default: segments). */
  targetSuffix = ".seg";
  /** Faults injected so far. */
  injected = 0;

  constructor(inner: FileSystem) {
    super(inner);
  }

  /** The next `kind` call on a target file fails with `fault`. */
  failNext(kind: FaultKind, fault: Fault): void {
    this.queued[kind].push(fault);
  }

  private take(kind: FaultKind, path: string): Fault | undefined {
    if (!path.endsWith(this.targetSuffix)) return undefined;
    const fault = this.queued[kind].shift();
    if (fault !== undefined) this.injected++;
    return fault;
  }

  protected override wrap(handle: FileHandle): FileHandle {
    return forwardingHandle(handle, {
      read: (buffer, offset, length, position) => {
        const fault = this.take("read", handle.path);
        if (fault !== undefined) throw errno(fault.code, "read", handle.path);
        return handle.read(buffer, offset, length, position);
      },
      write: (buffer, offset, length, position) => {
        const fault = this.take("write", handle.path);
        if (fault !== undefined) {
          const partial = Math.min(fault.partialBytes ?? 0, length);
          if (partial > 0) handle.write(buffer, offset, partial, position);
          throw errno(fault.code, "write", handle.path);
        }
        handle.write(buffer, offset, length, position);
      },
      writeAsync: async (buffer, offset, length, position) => {
        const fault = this.take("write", handle.path);
        if (fault !== undefined) {
          const partial = Math.min(fault.partialBytes ?? 0, length);
          if (partial > 0) await handle.writeAsync(buffer, offset, partial, position);
          throw errno(fault.code, "write", handle.path);
        }
        await handle.writeAsync(buffer, offset, length, position);
      },
      sync: async () => {
        const fault = this.take("sync", handle.path);
        if (fault !== undefined) throw errno(fault.code, "fdatasync", handle.path);
        await handle.sync();
      },
      syncBlocking: () => {
        const fault = this.take("sync", handle.path);
        if (fault !== undefined) throw errno(fault.code, "fdatasync", handle.path);
        handle.syncBlocking();
      },
    });
  }
}

function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const err = new Error(`${code}: injected fault, ${syscall} '${path}'`) as NodeJS.ErrnoException;
  err.code = code;
  err.syscall = syscall;
  err.path = path;
  return err;
}
