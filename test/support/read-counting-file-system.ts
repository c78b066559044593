/**
 * The real node file system with a counter of the bytes read from segment
 * files, for tests that show a read touches only the records it needs (a
 * cassette's own entries, no recording events for summaries). Nothing is
 * faked; every call goes to disk.
 */
import { DelegatingFileSystem, forwardingHandle } from "./delegating-file-system.js";
import type { FileHandle } from "../../engine/io/file-system.js";
import { NodeFileSystem } from "../../engine/io/node-file-system.js";

export class ReadCountingFileSystem extends DelegatingFileSystem {
  /** Bytes returned by read() on any file opened through this file system. */
  bytesRead = 0;

  constructor() {
    super(new NodeFileSystem());
  }

  protected override wrap(handle: FileHandle): FileHandle {
    return forwardingHandle(handle, {
      read: (b, o, l, p) => {
        const n = handle.read(b, o, l, p);
        this.bytesRead += n;
        return n;
      },
    });
  }
}
