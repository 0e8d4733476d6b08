/**
 * Fault 7: bad input to the runner. Bad runs fail at once with one clear line (never a stuck
 * run); bad agent definitions stop a worker process at start with one clear line.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { AGENT_WORKFLOW_TYPE } from '../../contract/workflow.js';
import { startFaultWorld, type FaultWorld } from './world.js';

let w: FaultWorld;
beforeAll(async () => {
  w = await startFaultWorld();
  await w.startWorker();
});
afterAll(async () => w?.close());

/** Start a run with the raw Temporal client, bypassing the runner's own checks. */
async function rawRun(args: unknown): Promise<{ message: string; events: number }> {
  const handle = await w.client.workflow.start(AGENT_WORKFLOW_TYPE, {
    taskQueue: w.taskQueue,
    workflowId: `raw-${Date.now()}-${Math.random()}`,
    args: [args],
  });
  const err = await handle.result().then(
    () => undefined,
    (e: Error & { cause?: Error }) => e,
  );
  if (!err) throw new Error('the run did not fail');
  const history = await handle.fetchHistory();
  expect(history.events?.filter((e) => e.workflowTaskFailedEventAttributes)).toHaveLength(0);
  return { message: err.cause?.message ?? err.message, events: history.events?.length ?? 0 };
}

it.each([
  [{ agent: 'nobody', prompt: 'hi' }, 'unknown agent "nobody": this worker serves "triage", "toolbox"'],
  [{ agent: 'toolbox', prompt: '   ' }, 'invalid run input: prompt is empty: say what the agent should do'],
  [{ agent: 'toolbox' }, 'invalid run input: give exactly one of prompt or messages'],
  [{ agent: 'toolbox', prompt: 'hi', overrides: 'fast' }, 'invalid run input: overrides must be an object'],
  [
    { agent: 'toolbox', prompt: 'hi', overrides: { maxTurns: 0 } },
    'invalid run input: override maxTurns must be a positive integer, got 0',
  ],
  [
    { agent: 'toolbox', prompt: 'hi', overrides: { tool_choice: { type: 'tool', name: 'rm_rf' } } },
    'override tool_choice names tool "rm_rf", which agent "toolbox" does not offer',
  ],
  [
    { agent: 'toolbox', prompt: 'hi', overrides: { temperature: 2 } },
    'invalid run input: unknown override "temperature": use model, max_tokens, tool_choice, maxTurns, maxCostUsd or maxTotalTokens',
  ],
  ['not even an object', 'invalid run input: run input must be an object'],
])('run input %j fails the run at once: %s', async (args, message) => {
  const { message: got, events } = await rawRun(args);
  expect(got.startsWith(message)).toBe(true);
  expect(events).toBeLessThan(15); // failed within its first tasks: no model call was made
  expect(w.fake.requests).toHaveLength(0);
});

it.each([
  ['duplicate-tools.ts', 'error: agent "dupes", tool "lookup": duplicate tool name'],
  ['bad-schema.ts', 'error: agent "bad-schema", tool "list_things": input schema must have type "object"'],
])('a worker refuses an agent catalog with %s', async (file, message) => {
  const agents = fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
  await expect(w.startWorker({ AGENT_RUNNER_AGENTS: agents })).rejects.toThrow(/worker exited \(1\) before it was ready/);
  const proc = w.workers.at(-1)!;
  expect(proc.output().trim()).toBe(message);
});

it('a worker refuses a bad setting with one line', async () => {
  await expect(w.startWorker({ AGENT_RUNNER_SHUTDOWN_GRACE: 'soon' })).rejects.toThrow(/worker exited \(1\)/);
  expect(w.workers.at(-1)!.output().trim()).toBe('error: AGENT_RUNNER_SHUTDOWN_GRACE=soon is not a duration such as 30s or 2m');
});
