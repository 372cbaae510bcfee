// `npm run test:browser`: the pages in a real browser (Debian's chromium driven by
// playwright-core, never a browser download) against a throwaway `npm start` (its demo data
// included). Not part of `npm test`, which must not need a browser; .ci/run runs both.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "browser",
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    globalSetup: ["./test/browser/stack.ts"],
    // One browser at a time on a two-core machine; the files share the stack.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
