/**
 * Wakes a reader when the writer publishes a new durable tail (log/durable-tail.ts):
 * an inotify-style watch of the one small TAIL file, so a new commit is seen
 * within milliseconds without reading the disk in a loop, and a slow timer
 * behind it (file systems without change notification, a watch that fails,
 * a TAIL file the writer has not created yet).
 */
import { watch, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { DURABLE_TAIL_FILE } from "../log/durable-tail.js";

/** The timer's period: the bound on how late a reader is when change notification is not available. */
export const TAIL_POLL_MS = 200;

export interface TailWatch {
  /** Whether the watch keeps the process alive (while something waits for the writer's next commit). */
  hold(waiting: boolean): void;
  close(): void;
}

export function watchDurableTail(dir: string, onChange: () => void, notify: boolean): TailWatch {
  let watcher: FSWatcher | undefined;
  const tryWatch = (): void => {
    if (!notify || watcher !== undefined) return;
    try {
      watcher = watch(join(dir, DURABLE_TAIL_FILE), { persistent: false }, () => onChange());
      watcher.on("error", () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined; // not there yet, or no notification here: the timer covers it
    }
  };
  tryWatch();
  const timer = setInterval(() => {
    tryWatch();
    onChange();
  }, TAIL_POLL_MS);
  timer.unref();
  return {
    hold(waiting) {
      if (waiting) timer.ref();
      else timer.unref();
    },
    close() {
      clearInterval(timer);
      watcher?.close();
      watcher = undefined;
    },
  };
}
