/**
 * Fault 6: tools that throw, hang, or return what cannot be a tool result, in a real worker
 * process. Each ends as an `is_error` result the model can read, the run goes on, and no
 * workflow task ever fails (so nothing is left stuck retrying one).
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { toolResults as results } from '../support/blocks.js';
import { text, toolUses } from '../../devtools/fake-api/replies.js';
import { activityEvents } from '../support/history.js';
import { startFaultWorld, type FaultWorld } from './world.js';

let w: FaultWorld;
beforeAll(async () => {
  w = await startFaultWorld();
  await w.startWorker();
});
afterAll(async () => w?.close());
afterEach(() => {
  expect(w.fake.problems).toEqual([]);
  w.fake.clear();
});

async function noWorkflowTaskFailed(workflowId: string): Promise<void> {
  const history = await w.client.workflow.getHandle(workflowId).fetchHistory();
  expect(history.events?.filter((e) => e.workflowTaskFailedEventAttributes)).toHaveLength(0);
}

it('a handler that throws is retried per policy, then the model gets is_error', async () => {
  w.fake.script(toolUses([{ name: 'flaky', input: { fail_times: 99 }, id: 'toolu_f' }]), text('The tool is broken.'));
  const r = await w.run('toolbox', 'flaky');
  expect(r).toMatchObject({ status: 'completed', finalText: 'The tool is broken.' });
  expect(results(r.messages[2])[0]).toMatchObject({
    is_error: true,
    content: expect.stringMatching(/^Tool flaky failed after 4 attempt\(s\): flaky: flaky failure on attempt 4/),
  });
  await noWorkflowTaskFailed(r.workflowId);
});

it('a handler that hangs times out, is retried, then the model gets is_error', async () => {
  w.fake.script(toolUses([{ name: 'hang', input: {}, id: 'toolu_h' }]), text('It hung.'));
  const r = await w.run('toolbox', 'hang');
  expect(r.status).toBe('completed');
  expect(results(r.messages[2])[0]).toMatchObject({
    is_error: true,
    content: 'Tool hang failed after 2 attempt(s): timed out (start-to-close timeout) (retries exhausted)',
  });
  const runs = w.toolEvents().filter((e) => e.tool === 'hang' && e.key === `${r.workflowId}/toolu_h`);
  expect(runs.map((e) => e.attempt)).toEqual([1, 2]);
  await noWorkflowTaskFailed(r.workflowId);
});

it('output that is not JSON-serialisable is a clear is_error; far too large output is truncated', async () => {
  w.fake.script(
    toolUses([
      { name: 'bad_output', input: { kind: 'bigint' }, id: 'toolu_big' },
      { name: 'bad_output', input: { kind: 'huge' }, id: 'toolu_huge' },
    ]),
    text('Both failed.'),
  );
  const r = await w.run('toolbox', 'bad outputs');
  expect(r.status).toBe('completed');
  const [bigint, huge] = results(r.messages[2]);
  expect(bigint).toMatchObject({
    is_error: true,
    content: expect.stringMatching(/^Tool bad_output returned a value that is not JSON-serialisable \(.*BigInt/),
  });
  expect(huge?.is_error).toBeUndefined();
  expect(String(huge?.content)).toMatch(
    /^x+\n\[agent-runner: output truncated — the tool returned 3145728 bytes; the first \d+ are shown\.\]$/,
  );
  expect(String(huge?.content).length).toBeLessThanOrEqual(100 * 1024);
  // Refused in the activity: one attempt each, no payload ever near Temporal's 2 MB limit.
  const tools = (await activityEvents(w.client, r.workflowId)).filter((a) => a.activityType === 'runTool');
  expect(tools.map((t) => [t.attempt, t.outcome])).toEqual([
    [1, 'completed'],
    [1, 'completed'],
  ]);
  await noWorkflowTaskFailed(r.workflowId);
});

it('a prompt over the conversation limit is refused at start with one line, nothing started', async () => {
  const before = (await w.client.workflow.count(`WorkflowType = 'agentRun'`)).count;
  await expect(w.runner.start('toolbox', 'x'.repeat(1_300_000))).rejects.toThrow(
    /^the conversation is \d+ bytes, over the 1200000-byte limit of a run's conversation: shorten the prompt/,
  );
  expect((await w.client.workflow.count(`WorkflowType = 'agentRun'`)).count).toBe(before);
});
