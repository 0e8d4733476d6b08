/**
 * The cluster project's one-time set-up: the Temporal server 1.32 and its SQL tool built from the
 * Go module proxy into .tools/ (a few minutes on a fresh machine, seconds after), PostgreSQL found
 * or installed, and the workflow bundle built. The cluster itself is started by the test file,
 * which kills and restarts its processes.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { ensureClusterBinaries } from '../../scripts/cluster.js';
import { ensurePostgresBinaries } from '../../scripts/cluster/postgres.js';
import { WORKFLOWS_PATH } from '../../worker/create-worker.js';

export async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  await ensureClusterBinaries({ ui: false, log: (l) => console.log(l) });
  await ensurePostgresBinaries((l) => console.log(l));
  console.log(`cluster binaries ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const noop = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m), log: noop },
  });
  const dir = fileURLToPath(new URL('../../.artifacts/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}workflow-bundle-cluster.js`, code);
  project.provide('workflowBundlePath', `${dir}workflow-bundle-cluster.js`);
  project.provide('temporalAddress', '');
  project.provide('temporalUiUrl', '');
}
