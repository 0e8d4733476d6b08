import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault suite has its own command (npm run test:faults, part of npm test).
    exclude: ['test/faults/**', '**/node_modules/**'],
    // One real Temporal dev server for the whole run, and one prebuilt workflow bundle.
    globalSetup: ['test/support/global-setup.ts'],
    // Each file starts its own worker on its own task queue; two cores, so files run one by one.
    fileParallelism: false,
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
