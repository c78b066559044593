/**
 * The writer's view of which keys exist: the committed index, overridden by
 * the writes that are framed but not committed yet. Calls that depend on
 * existence (a put of content already stored, a delete of something missing)
 * decide against this view, so that they follow call order even when the
 * caller does not wait for one call before making the next.
 *
 * Every tracked write leaves the view when it settles (`settle` from its apply
 * or abort). A failed batch aborts every queued write at once, so after a
 * failure the view falls back to the committed index.
 */
export interface PendingWrite {
  readonly key: string;
  /** Whether the key exists once this write lands. */
  readonly exists: boolean;
  /** Settles with the write (objects wait on a put of the same content). */
  readonly done: Promise<void>;
}

export class PendingKeys {
  /** The last write framed for each key. */
  private readonly last = new Map<string, PendingWrite>();
  /** Writes framed that remove every key (a clear). */
  private clears = 0;

  /** Whether `key` exists after every framed write; `committed` is the index's answer. */
  exists(key: string, committed: boolean): boolean {
    const write = this.last.get(key);
    if (write !== undefined) return write.exists;
    return this.clears > 0 ? false : committed;
  }

  /** The last framed write of `key` that has not settled. */
  pending(key: string): PendingWrite | undefined {
    return this.last.get(key);
  }

  /** Whether any key may exist after every framed write; `committed` is the index's count. */
  anyMayExist(committed: number): boolean {
    for (const write of this.last.values()) if (write.exists) return true;
    return this.clears > 0 ? false : committed > 0;
  }

  begin(key: string, exists: boolean, done: Promise<void>): PendingWrite {
    const write = { key, exists, done };
    this.last.set(key, write);
    return write;
  }

  settle(write: PendingWrite): void {
    if (this.last.get(write.key) === write) this.last.delete(write.key);
  }

  /** A clear is framed: every key is gone until written again. */
  beginClear(): void {
    this.clears++;
    this.last.clear();
  }

  settleClear(): void {
    this.clears--;
  }
}
