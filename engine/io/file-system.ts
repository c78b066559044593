/**
 * All file I/O of the engine goes through this interface, so tests can run the
 * real engine on file systems that crash or inject faults (habit from Pebble's vfs
 * and TigerBeetle's simulated storage).
 *
 * Reads and writes are synchronous: they hit the page cache and a thread-pool hop
 * would cost more than the copy. Only `sync` is asynchronous, so that appends keep
 * gathering into the next group commit while the disk flushes the last one.
 */
export interface FileHandle {
  readonly path: string;
  /** Reads up to `length` bytes at `position`; returns how many were read (0 at EOF). */
  read(buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes all of `buffer[offset, offset+length)` at `position` or throws. */
  write(buffer: Uint8Array, offset: number, length: number, position: number): void;
  /**
   * The same on a worker thread. For large batches: copying megabytes into the
   * page cache on the calling thread would hold the event loop (35 ms for
   * 15 MiB here). The buffer must not change until the promise settles.
   */
  writeAsync(buffer: Uint8Array, offset: number, length: number, position: number): Promise<void>;
  size(): number;
  truncate(length: number): void;
  /** Makes every written byte durable (fdatasync) on a worker thread. */
  sync(): Promise<void>;
  /**
   * The same on the calling thread. Cheaper when nothing else is waiting: the
   * group commit uses it for a lone append, where a thread-pool round trip
   * would cost as much as the flush itself.
   */
  syncBlocking(): void;
  close(): void;
}

export interface DirectoryLock {
  release(): void;
}

export interface FileSystem {
  /** Creates the directory and its parents when missing. */
  mkdirp(dir: string): void;
  exists(path: string): boolean;
  isDirectory(path: string): boolean;
  /** Names of the entries in a directory, sorted. */
  list(dir: string): string[];
  openRead(path: string): FileHandle;
  /** Opens for reading and writing; `create` makes a new empty file and fails if it exists. */
  openWrite(path: string, create: boolean): FileHandle;
  readFile(path: string): Uint8Array;
  /** Writes a whole file so that it is either the old or the new content after a crash:
   *  temporary file, fsync, rename, directory fsync. */
  writeFileAtomic(path: string, data: Uint8Array): Promise<void>;
  remove(path: string): void;
  rename(from: string, to: string): void;
  /** Makes renames, creations and removals in `dir` durable. */
  syncDirectory(dir: string): Promise<void>;
  /** Takes the writer lock of a database directory or throws LOCKED. */
  lock(dir: string): DirectoryLock;
}
