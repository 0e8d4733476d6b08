import { defineConfig } from 'vitest/config';

/**
 * Four projects:
 * - `unit` (`npm run test:unit`): no global set-up, no Temporal CLI — pure functions, activities in
 *   Temporal's MockActivityEnvironment, and the workflow itself with stub activities on the
 *   time-skipping test server (`test/support/time-skipping.ts`);
 * - `main` (`npm run test:main`) and `faults` (`npm run test:faults`, real worker processes,
 *   kills and restarts): one real Temporal dev server for the run (global set-up) and one
 *   prebuilt workflow bundle.
 * - `cluster` (`npm run test:cluster`): the same kind of tests on a real Temporal cluster on
 *   PostgreSQL (its processes killed and restarted).
 * `npm test` runs all four.
 */
const integration = {
  globalSetup: ['test/support/global-setup.ts'],
  // After each file: none of its runs has a failed workflow task (the no-stuck-run invariant).
  setupFiles: ['test/support/no-stuck-tasks.ts'],
  // Each file starts its own worker(s) on its own task queue; two cores, so files run one by one.
  fileParallelism: false,
  hookTimeout: 120_000,
};

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 },
      },
      {
        extends: true,
        test: {
          ...integration,
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', 'test/faults/**', 'test/cluster/**', '**/node_modules/**'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: { ...integration, name: 'faults', include: ['test/faults/**/*.test.ts'], testTimeout: 120_000 },
      },
      {
        // A real Temporal cluster on PostgreSQL (scripts/cluster.ts), built from source on first use.
        extends: true,
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          globalSetup: ['test/cluster/global-setup.ts'],
          setupFiles: ['test/support/no-stuck-tasks.ts'],
          // Each file starts a cluster of its own (five processes and PostgreSQL): one at a time.
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
