/**
 * What a store's verify() found. A read that fails with a SeglogError is damage
 * to report (with what was being read); any other error is a bug and is thrown.
 */
import { SeglogError } from "../errors.js";

export class Problems {
  readonly list: string[] = [];

  add(problem: string): void {
    this.list.push(problem);
  }

  /** Runs `read`; a SeglogError it throws becomes the problem "`what`: message". */
  check(what: string, read: () => void): void {
    try {
      read();
    } catch (err) {
      if (!(err instanceof SeglogError)) throw err;
      this.list.push(`${what}: ${err.message}`);
    }
  }
}
