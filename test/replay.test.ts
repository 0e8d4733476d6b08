/**
 * Determinism: every committed golden history under test/golden/ must replay against the current
 * workflow code, and so must the histories of runs recorded just now. `UPDATE_GOLDEN=1` writes
 * the fresh histories to test/golden/ (do that only for an intended, versioned change of the
 * workflow's commands; keep the old files so old runs stay covered).
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { text, toolUses } from '../devtools/fake-api/replies.js';
import { triageBrain } from '../devtools/fake-api/triage-brain.js';
import { researcherBrain } from '../devtools/fake-api/researcher-brain.js';
import { dataConverter } from '../connection/codecs.js';
import { OUTPUT_TOOL } from '../contract/output-schema.js';
import { goldenWorkflowId } from './support/golden.js';
import { startHarness, type Harness } from './support/harness.js';

const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const replayOptions = () => ({ workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: dataConverter() });

async function recordAndReplay(name: string, workflowId: string): Promise<void> {
  const history = await h.history(workflowId);
  await Worker.runReplayHistory(replayOptions(), history, workflowId);
  // UPDATE_GOLDEN=name1,name2 writes those (keep the old files: old runs must stay covered).
  if (process.env.UPDATE_GOLDEN?.split(',').includes(name)) writeFileSync(`${GOLDEN_DIR}${name}.json`, historyToJSON(history));
}

describe('runs recorded now replay without non-determinism', () => {
  it('triage: parallel tool calls, one is_error', async () => {
    h.fake.script(triageBrain, triageBrain);
    const r = await h.run('triage', 'Hi, where are my orders 48810 and 99999?');
    expect(r.status).toBe('completed');
    await recordAndReplay('triage-run', r.workflowId);
  });

  it('retried tool, invalid input and unknown tool', async () => {
    h.fake.script(
      toolUses([
        { name: 'flaky', input: { fail_times: 1 } },
        { name: 'echo', input: { text: 5 } },
        { name: 'nope', input: {} },
      ]),
      text('done'),
    );
    const r = await h.run('toolbox', 'mixed');
    expect(r.status).toBe('completed');
    await recordAndReplay('tool-errors-run', r.workflowId);
  });

  it('cancelled while a tool runs', async () => {
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'slow', delay_ms: 20_000 } }]));
    const run = await h.runner.start('toolbox', 'slow');
    while ((await h.runner.state(run.workflowId)).phase !== 'running_tools') await new Promise((r) => setTimeout(r, 50));
    await h.runner.cancel(run.workflowId, 'golden');
    expect((await run.result()).status).toBe('cancelled');
    await recordAndReplay('cancelled-run', run.workflowId);
  });
});

describe('runs with tools from elsewhere replay too', () => {
  it('a server-tool run: web search, a paused turn resumed', async () => {
    h.fake.script(researcherBrain, researcherBrain);
    const r = await h.run('researcher', 'What is durable execution?');
    expect(r).toMatchObject({ status: 'completed', turns: 2 });
    await recordAndReplay('server-tool-run', r.workflowId);
  });

  it('an agent as a tool: a child workflow started, its answer the tool result', async () => {
    h.fake.script(
      toolUses([{ name: 'ask_triage', input: { prompt: 'Where is order 48810?' }, id: 'toolu_golden_child' }]),
      triageBrain,
      triageBrain,
      text('Shipped, says triage.'),
    );
    const r = await h.run('delegator', 'Ask triage about 48810.');
    expect(r).toMatchObject({ status: 'completed', turns: 2 });
    await recordAndReplay('child-agent-run', r.workflowId);
    await recordAndReplay('child-agent-run-child', `${r.workflowId}/toolu_golden_child`);
  });
});

describe('structured output replays too', () => {
  it('a run nudged, then its output rejected (beside another tool), then accepted', async () => {
    h.fake.script(
      text('Seven.'),
      toolUses([
        { name: OUTPUT_TOOL, input: { answer: 7 } },
        { name: 'echo', input: { text: 'x' } },
      ]),
      toolUses([{ name: OUTPUT_TOOL, input: { answer: 'seven' } }]),
    );
    const outputSchema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const r = await h.run('toolbox', 'answer', { outputSchema });
    expect(r).toMatchObject({ status: 'completed', stopReason: 'structured_output', output: { answer: 'seven' }, turns: 3 });
    await recordAndReplay('structured-output-run', r.workflowId);
  });
});

describe('runs with people in the loop replay too', () => {
  const waiting = async (id: string) => {
    while ((await h.runner.state(id)).pendingApprovals.length === 0) await new Promise((r) => setTimeout(r, 25));
  };
  it('a tool call approved by a person', async () => {
    h.fake.script(
      toolUses([
        { name: 'echo', input: { text: 'x' } },
        { name: 'payment', input: { amount: 3 } },
      ]),
      text('Paid.'),
    );
    const run = await h.runner.start('gatekeeper', 'pay 3');
    await waiting(run.workflowId);
    await h.runner.approve(run.workflowId, { by: 'golden' });
    expect((await run.result()).status).toBe('completed');
    await recordAndReplay('approved-run', run.workflowId);
  });
  it('a tool call denied by a person', async () => {
    h.fake.script(toolUses([{ name: 'payment', input: { amount: 300 } }]), text('Not paid.'));
    const run = await h.runner.start('gatekeeper', 'pay 300');
    await waiting(run.workflowId);
    await h.runner.deny(run.workflowId, { reason: 'too much', by: 'golden' });
    expect((await run.result()).status).toBe('completed');
    await recordAndReplay('denied-run', run.workflowId);
  });
});

describe('committed golden histories replay against the current code', () => {
  const files = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.json'));
  it('there are golden histories', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });
  it.each(files)('%s', async (file) => {
    const json = JSON.parse(readFileSync(`${GOLDEN_DIR}${file}`, 'utf8')) as {
      events: { eventType: string; startChildWorkflowExecutionInitiatedEventAttributes?: { workflowId?: string } }[];
    };
    expect(json.events.at(-1)?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    await Worker.runReplayHistory(replayOptions(), json, goldenWorkflowId(json, file));
  });
});
