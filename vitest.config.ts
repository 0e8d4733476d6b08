import { defineConfig } from 'vitest/config';

/**
 * One real Temporal dev server for the whole run (global setup) and one prebuilt workflow bundle.
 * Two projects: `main` (`npm run test:main`) and `faults`, the fault-injection suite with real
 * worker processes, kills and restarts (`npm run test:faults`). `npm test` runs both.
 */
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Each file starts its own worker(s) on its own task queue; two cores, so files run one by one.
    fileParallelism: false,
    projects: [
      {
        extends: true,
        test: { name: 'main', include: ['test/**/*.test.ts'], exclude: ['test/faults/**', '**/node_modules/**'], testTimeout: 60_000, hookTimeout: 120_000 },
      },
      {
        extends: true,
        test: { name: 'faults', include: ['test/faults/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
      },
    ],
  },
});
