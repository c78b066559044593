/**
 * Vitest runs one file: the Durable Streams conformance suite against
 * `seglog serve` (test/conformance/conformance.vitest.ts). Everything else is
 * jest's (jest.config.js matches *.test.ts under test/); the two never share
 * a file, because this include names one file only.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/conformance/conformance.vitest.ts"],
    // The suite's own long-poll tests set their timeouts; the rest get room on a busy machine.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
