/**
 * The real node file system with counters on the calls that group commit is
 * meant to save: writes and fsyncs of files opened for writing. Nothing is
 * faked; every call goes to disk.
 */
import { DelegatingFileSystem, forwardingHandle } from "./delegating-file-system.js";
import type { FileHandle } from "../../engine/io/file-system.js";
import { NodeFileSystem } from "../../engine/io/node-file-system.js";

export class CountingFileSystem extends DelegatingFileSystem {
  writes = 0;
  syncs = 0;

  constructor() {
    super(new NodeFileSystem());
  }

  protected override wrap(handle: FileHandle, writable: boolean): FileHandle {
    if (!writable) return handle;
    return forwardingHandle(handle, {
      write: (b, o, l, p) => {
        this.writes++;
        handle.write(b, o, l, p);
      },
      sync: () => {
        this.syncs++;
        return handle.sync();
      },
      syncBlocking: () => {
        this.syncs++;
        handle.syncBlocking();
      },
    });
  }
}
