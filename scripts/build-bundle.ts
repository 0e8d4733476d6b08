/**
 * `npm run build:bundle [-- out.js]`: prebuild the workflow bundle, so worker processes start
 * without bundling (AGENT_RUNNER_WORKFLOW_BUNDLE=out.js). The Docker image does this. The
 * @temporalio/worker version must be the same at build and run time.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BUNDLE_OPTIONS } from '../worker/create-worker.js';

const out = resolve(process.argv[2] ?? '.artifacts/workflow-bundle.js');
const { code } = await bundleWorkflowCode({ ...BUNDLE_OPTIONS });
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
console.log(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KB)`);
