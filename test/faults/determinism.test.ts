/**
 * Fault 8: the non-determinism guard. The committed golden histories replay against the real
 * workflow code (test/replay.test.ts does that in the main suite too), and the same histories
 * FAIL to replay once the workflow's commands change order — proof the guard would catch it.
 */
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { dataConverter } from '../../connection/codecs.js';
import { WORKFLOWS_PATH } from '../../worker/create-worker.js';
import { goldenWorkflowId } from '../support/golden.js';

const GOLDEN_DIR = fileURLToPath(new URL('../golden/', import.meta.url));
const goldens = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.json'));
const load = (f: string) => JSON.parse(readFileSync(`${GOLDEN_DIR}${f}`, 'utf8')) as unknown;

let reordered: string;
beforeAll(async () => {
  const noop = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: [fileURLToPath(new URL('./fixtures/reorder-interceptor.ts', import.meta.url))],
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop },
  });
  reordered = code;
});

describe('golden histories', () => {
  it('there are several (parallel tools, is_error, cancel)', () => {
    expect(goldens).toEqual(expect.arrayContaining(['triage-run.json', 'tool-errors-run.json', 'cancelled-run.json']));
  });

  it.each(goldens)('%s replays against the real workflow code', async (f) => {
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: dataConverter() },
      load(f),
      goldenWorkflowId(load(f), f),
    );
  });

  it.each(goldens)('%s fails to replay when the commands change order', async (f) => {
    const replay = Worker.runReplayHistory(
      { workflowBundle: { code: reordered }, dataConverter: dataConverter() },
      load(f),
      goldenWorkflowId(load(f), f),
    );
    await expect(replay).rejects.toBeInstanceOf(DeterminismViolationError);
    await expect(replay).rejects.toThrow(/Nondeterminism error/);
  });
});
