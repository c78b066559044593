/**
 * Writes records received from elsewhere (a replication stream) into a new
 * database directory, byte for byte as the original wrote them: same bodies,
 * same atomic groups, in the same order. Nothing is applied to indexes here —
 * the directory is a plain log afterwards, and the next open() replays it like
 * any other, so a restored database is rebuilt by the code every open runs.
 */
import { SeglogError } from "../errors.js";
import { loadChecksum } from "../format/checksum.js";
import { parseSegmentFileName } from "../format/constants.js";
import type { DirectoryLock, FileSystem } from "../io/file-system.js";
import { GroupCommit } from "../log/group-commit.js";
import { Log } from "../log/log.js";
import { MAX_RECORD_BYTES_LIMIT } from "../limits.js";
import { resolveOptions } from "../options.js";
import { isGroupEnd } from "./record-feed.js";

/** Bytes framed before the import waits for the log to take them. */
const IN_FLIGHT_BYTES = 8 * 1024 * 1024;

export class LogImport {
  private framedBytes = 0;
  /** Records of the atomic group being received: framed together once it ends. */
  private group: { type: number; flags: number; body: Uint8Array }[] = [];
  private pending: Promise<void>[] = [];
  private failure: unknown;

  private constructor(
    private readonly fs: FileSystem,
    private readonly log: Log,
    private readonly commit: GroupCommit,
    private readonly lock: DirectoryLock,
  ) {}

  /** Takes `dir`, which must not hold a database, and its writer lock. */
  static async create(fs: FileSystem, dir: string, options?: { segmentBytes?: number }): Promise<LogImport> {
    const resolved = resolveOptions({ segmentBytes: options?.segmentBytes, durability: "buffered" });
    await loadChecksum();
    if (fs.exists(dir) && !fs.isDirectory(dir)) throw new SeglogError("INVALID_ARGUMENT", `${dir} is not a directory`, { argument: "dir" });
    fs.mkdirp(dir);
    if (fs.list(dir).some((name) => parseSegmentFileName(name) !== undefined)) {
      throw new SeglogError("ALREADY_EXISTS", `${dir} already holds a database: restore builds a new one`);
    }
    const lock = fs.lock(dir);
    try {
      const log = await Log.open(fs, dir, resolved.segmentBytes, MAX_RECORD_BYTES_LIMIT, false);
      return new LogImport(fs, log, new GroupCommit(log, "buffered", 60_000), lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** True while the last record added did not end its atomic group. */
  get inGroup(): boolean {
    return this.group.length > 0;
  }

  async add(type: number, flags: number, body: Uint8Array): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.group.push({ type, flags, body });
    if (!isGroupEnd(flags)) return;
    for (const r of this.group) {
      this.commit.frame(r.type, r.flags, r.body);
      this.framedBytes += r.body.length;
    }
    this.group = [];
    this.pending.push(
      new Promise<void>((resolve, reject) =>
        this.commit.submit({ apply: () => undefined, abort: () => undefined, resolve, reject }),
      ).catch((err: unknown) => {
        this.failure ??= err;
      }),
    );
    if (this.framedBytes >= IN_FLIGHT_BYTES) await this.settle();
  }

  /** Drops the records of an atomic group that never ended (the stream stopped inside it). */
  dropOpenGroup(): void {
    this.group = [];
  }

  /** Makes everything durable and lets the directory go; the caller opens it next. */
  async finish(): Promise<void> {
    try {
      this.dropOpenGroup();
      await this.settle();
      await this.commit.syncNow();
    } finally {
      this.commit.stop();
      this.log.close();
      this.lock.release();
    }
    await this.fs.syncDirectory(this.log.dir);
  }

  /** Gives up: the directory keeps what was written, which the caller removes. */
  abandon(): void {
    this.commit.stop();
    this.log.close();
    this.lock.release();
  }

  private async settle(): Promise<void> {
    const waiting = this.pending;
    this.pending = [];
    this.framedBytes = 0;
    await Promise.all(waiting);
    if (this.failure !== undefined) throw this.failure;
  }
}
