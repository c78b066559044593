/**
 * Fresh temporary directories for tests that run the engine on disk. Every test
 * gets its own directory under os.tmpdir() so that tests never see each other's
 * files, and the directory is removed afterwards even when the test failed.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Creates an empty directory under the system temp directory and returns its path. */
export async function makeTempDir(prefix = "seglog-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a directory made by makeTempDir and everything in it; missing is fine. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

export interface TempDir {
  /** The current test's directory; only valid inside a test or its hooks. */
  readonly path: string;
}

/**
 * Registers beforeEach/afterEach hooks that give each test in the enclosing
 * describe block a fresh directory. `cleanup` runs before the directory is
 * removed (tests close their databases there, so no file is still open).
 */
export function useTempDir(cleanup?: () => Promise<void>): TempDir {
  let current: string | undefined;
  beforeEach(async () => {
    current = await makeTempDir();
  });
  afterEach(async () => {
    try {
      if (cleanup !== undefined) await cleanup();
    } finally {
      if (current !== undefined) await removeTempDir(current);
      current = undefined;
    }
  });
  return {
    get path(): string {
      if (current === undefined) throw new Error("useTempDir().path used outside a test");
      return current;
    },
  };
}
