/**
 * The real node file system with counters on the calls that group commit is
 * meant to save: writes and fsyncs of files opened for writing. The 32-byte
 * TAIL note written after each fsync (for readers in other processes) is
 * counted apart. Nothing is faked; every call goes to disk.
 */
import { DelegatingFileSystem, forwardingHandle } from "./delegating-file-system.js";
import type { FileHandle } from "../../engine/io/file-system.js";
import { NodeFileSystem } from "../../engine/io/node-file-system.js";
import { DURABLE_TAIL_FILE } from "../../engine/log/durable-tail.js";

export class CountingFileSystem extends DelegatingFileSystem {
  writes = 0;
  syncs = 0;
  /** Of `writes`, those made on a worker thread (writeAsync). */
  asyncWrites = 0;
  /** Of `syncs`, those made on the calling thread (syncBlocking). */
  blockingSyncs = 0;
  tailWrites = 0;

  constructor() {
    super(new NodeFileSystem());
  }

  protected override wrap(handle: FileHandle, writable: boolean): FileHandle {
    if (!writable) return handle;
    const tail = handle.path.endsWith(DURABLE_TAIL_FILE);
    return forwardingHandle(handle, {
      write: (b, o, l, p) => {
        if (tail) this.tailWrites++;
        else this.writes++;
        handle.write(b, o, l, p);
      },
      writeAsync: (b, o, l, p) => {
        if (tail) this.tailWrites++;
        else {
          this.writes++;
          this.asyncWrites++;
        }
        return handle.writeAsync(b, o, l, p);
      },
      sync: () => {
        this.syncs++;
        return handle.sync();
      },
      syncBlocking: () => {
        this.syncs++;
        this.blockingSyncs++;
        handle.syncBlocking();
      },
    });
  }
}
