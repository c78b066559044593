/**
 * An in-memory FileSystem that can crash, for tests (after Pebble's MemFS and
 * TigerBeetle's simulated storage): every file keeps the bytes an fsync made
 * durable apart from the bytes written since, and every directory keeps the
 * names a directory fsync made durable apart from later creations, renames and
 * removals. `crashAfter(n)` makes the n-th next write or fsync fail and freezes
 * the file system; `restart(random)` then builds what a machine would find after
 * power came back: durable names, durable bytes, and (optionally) a random prefix
 * of the bytes appended since the last fsync, as a real disk may keep.
 */
import { dirname } from "node:path";
import { SeglogError } from "../../engine/errors.js";
import type { DirectoryLock, FileHandle, FileSystem } from "../../engine/io/file-system.js";

class MemoryFile {
  data = new Uint8Array(0);
  length = 0;
  durable = new Uint8Array(0);

  ensure(size: number): void {
    if (size <= this.data.length) return;
    const next = new Uint8Array(Math.max(size, this.data.length * 2, 4096));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }

  sync(): void {
    this.durable = this.data.slice(0, this.length);
  }
}

/** Thrown by every call once the simulated machine has crashed. */
export class SimulatedCrash extends Error {
  constructor() {
    super("simulated crash");
    this.name = "SimulatedCrash";
  }
}

export class MemoryFileSystem implements FileSystem {
  private files = new Map<string, MemoryFile>();
  private durableNames = new Map<string, MemoryFile>();
  private directories = new Set<string>();
  private locks = new Set<string>();
  private countdown = -1;
  private crashed = false;
  /** Writes and fsyncs done since the last restart (to pick a crash point). */
  operations = 0;

  /** The n-th next write or fsync (1 = the very next) crashes the machine. */
  crashAfter(n: number): void {
    this.countdown = n;
  }

  get hasCrashed(): boolean {
    return this.crashed;
  }

  /**
   * Power comes back. `keepUnsynced(file, extra)` says how many of the bytes a
   * file gained since its last fsync survive (0 = drop all; only a prefix can).
   */
  restart(keepUnsynced: (extra: number) => number = () => 0): void {
    const files = new Map<string, MemoryFile>();
    for (const [path, file] of this.durableNames) {
      const durable = file.durable;
      let keep = 0;
      const extra = file.length - durable.length;
      if (extra > 0 && startsWith(file.data, durable)) keep = Math.max(0, Math.min(extra, keepUnsynced(extra)));
      const survived = new MemoryFile();
      survived.ensure(durable.length + keep);
      survived.data.set(durable);
      survived.data.set(file.data.subarray(durable.length, durable.length + keep), durable.length);
      survived.length = durable.length + keep;
      // What survived the power cut is on the disk now.
      survived.sync();
      files.set(path, survived);
    }
    this.files = files;
    this.durableNames = new Map(files);
    this.locks.clear();
    this.crashed = false;
    this.countdown = -1;
    this.operations = 0;
  }

  mkdirp(dir: string): void {
    this.check();
    let d = dir;
    while (!this.directories.has(d)) {
      this.directories.add(d);
      const parent = dirname(d);
      if (parent === d) break;
      d = parent;
    }
  }

  exists(path: string): boolean {
    return this.files.has(path) || this.directories.has(path);
  }

  isDirectory(path: string): boolean {
    return this.directories.has(path);
  }

  list(dir: string): string[] {
    this.check();
    const names: string[] = [];
    for (const path of this.files.keys()) if (dirname(path) === dir) names.push(path.slice(dir.length + 1));
    return names.sort();
  }

  openRead(path: string): FileHandle {
    return this.handle(path, this.existing(path), false);
  }

  openWrite(path: string, create: boolean): FileHandle {
    this.check();
    if (create) {
      if (this.files.has(path)) throw errno("EEXIST", "open", path);
      this.files.set(path, new MemoryFile());
    }
    return this.handle(path, this.existing(path), true);
  }

  readFile(path: string): Uint8Array {
    const f = this.existing(path);
    return f.data.slice(0, f.length);
  }

  async writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    const tmp = `${path}.tmp`;
    this.remove(tmp);
    const h = this.openWrite(tmp, true);
    h.write(data, 0, data.length, 0);
    await h.sync();
    h.close();
    this.rename(tmp, path);
    await this.syncDirectory(dirname(path));
  }

  remove(path: string): void {
    this.check();
    this.files.delete(path);
  }

  rename(from: string, to: string): void {
    this.check();
    const f = this.existing(from);
    this.files.delete(from);
    this.files.set(to, f);
  }

  async syncDirectory(dir: string): Promise<void> {
    this.tick();
    for (const path of [...this.durableNames.keys()]) if (dirname(path) === dir && this.files.get(path) !== this.durableNames.get(path)) this.durableNames.delete(path);
    for (const [path, f] of this.files) if (dirname(path) === dir) this.durableNames.set(path, f);
  }

  lock(dir: string): DirectoryLock {
    this.check();
    if (this.locks.has(dir)) throw new SeglogError("LOCKED", `${dir} is locked`);
    this.locks.add(dir);
    return { release: () => this.locks.delete(dir) };
  }

  private existing(path: string): MemoryFile {
    this.check();
    const f = this.files.get(path);
    if (f === undefined) throw errno("ENOENT", "open", path);
    return f;
  }

  private check(): void {
    if (this.crashed) throw new SimulatedCrash();
  }

  /** Counts a write or fsync and crashes the machine when the countdown ends. */
  private tick(): void {
    this.check();
    this.operations++;
    if (this.countdown > 0 && --this.countdown === 0) {
      this.crashed = true;
      throw new SimulatedCrash();
    }
  }

  private handle(path: string, file: MemoryFile, writable: boolean): FileHandle {
    const fs = this;
    let open = true;
    return {
      path,
      read(buffer, offset, length, position) {
        fs.check();
        if (!open) throw errno("EBADF", "read", path);
        const n = Math.max(0, Math.min(length, file.length - position));
        if (n > 0) buffer.set(file.data.subarray(position, position + n), offset);
        return n;
      },
      write(buffer, offset, length, position) {
        if (!writable) throw errno("EBADF", "write", path);
        fs.tick();
        file.ensure(position + length);
        if (position > file.length) file.data.fill(0, file.length, position);
        file.data.set(buffer.subarray(offset, offset + length), position);
        file.length = Math.max(file.length, position + length);
      },
      async writeAsync(buffer, offset, length, position) {
        // A turn later, as a worker's write would be.
        await Promise.resolve();
        this.write(buffer, offset, length, position);
      },
      size() {
        fs.check();
        return file.length;
      },
      truncate(length) {
        fs.check();
        if (length < file.length) file.length = length;
        else {
          file.ensure(length);
          file.data.fill(0, file.length, length);
          file.length = length;
        }
      },
      async sync() {
        fs.tick();
        file.sync();
      },
      syncBlocking() {
        fs.tick();
        file.sync();
      },
      close() {
        open = false;
      },
    };
  }
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const err = new Error(`${code}: ${syscall} '${path}'`) as NodeJS.ErrnoException;
  err.code = code;
  err.syscall = syscall;
  err.path = path;
  return err;
}
