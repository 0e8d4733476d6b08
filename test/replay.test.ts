/**
 * Determinism: committed golden histories must replay against the current workflow code, and so
 * must a history recorded just now. `UPDATE_GOLDEN=1` rewrites the golden file from the fresh run
 * (do that only for an intended, versioned change of the workflow's commands).
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { triageBrain } from './fake-api/triage-brain.js';
import { startHarness, type Harness } from './support/harness.js';

const GOLDEN = fileURLToPath(new URL('./golden/triage-run.json', import.meta.url));

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const replayOptions = () => ({ workflowBundle: { codePath: inject('workflowBundlePath') } });

it('a triage run recorded now replays without non-determinism', async () => {
  h.fake.script(triageBrain, triageBrain);
  const r = await h.run('triage', 'Hi, where are my orders 48810 and 99999?');
  expect(r.status).toBe('completed');
  const history = await h.history(r.workflowId);
  await Worker.runReplayHistory(replayOptions(), history, r.workflowId);
  if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, historyToJSON(history));
});

it('the committed golden triage history replays against the current code', async () => {
  const json = JSON.parse(readFileSync(GOLDEN, 'utf8')) as { events: { eventType: string }[] };
  // Sanity: a whole run with tools, ending in a completed workflow.
  const types = json.events.map((e) => e.eventType);
  expect(types.filter((t) => t === 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED')).toHaveLength(5);
  expect(types.at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
  await Worker.runReplayHistory(replayOptions(), json, 'golden-triage');
});
