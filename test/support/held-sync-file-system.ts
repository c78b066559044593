/**
 * The real node file system whose fsyncs of files opened for writing can be held:
 * while held, `sync()` waits until `release()`. It lets a test put a commit after
 * some other event (a close, a failure) on purpose instead of hoping for the race.
 * The blocking fsync is not held (it cannot wait without blocking the test too).
 */
import { DelegatingFileSystem, forwardingHandle } from "./delegating-file-system.js";
import type { FileHandle } from "../../engine/io/file-system.js";
import { NodeFileSystem } from "../../engine/io/node-file-system.js";

export class HeldSyncFileSystem extends DelegatingFileSystem {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  /** fsyncs that began while held. */
  heldSyncs = 0;

  constructor() {
    super(new NodeFileSystem());
  }

  hold(): void {
    this.gate ??= new Promise((done) => (this.open = done));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
    this.open = undefined;
  }

  protected override wrap(handle: FileHandle, writable: boolean): FileHandle {
    if (!writable) return handle;
    return forwardingHandle(handle, {
      sync: async () => {
        if (this.gate !== undefined) {
          this.heldSyncs++;
          await this.gate;
        }
        return handle.sync();
      },
    });
  }
}
