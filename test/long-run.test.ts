/**
 * Long runs: 300 model calls with 16 KB tool outputs. The run continues as new at turn
 * boundaries, keeps its conversation under the context budget by eliding old tool results, and
 * every execution's history stays bounded. `result`, `watch` and `show` follow the chain.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { longRunBrain } from '../devtools/fake-api/long-run-brain.js';
import { cliEnv, runCli } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';

const TURNS = 300;
/**
 * The longrun agent continues as new once its history reaches 512 KB; one turn adds at most the
 * compressed conversation (≤ 300 KB before compression) and a 16 KB result, so 1 MB bounds it.
 */
const HISTORY_BOUND = 1024 * 1024;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ fake: { brain: longRunBrain({ turns: TURNS, tool: 'blob', bytes: 16 * 1024 }) } });
});
afterAll(async () => h?.close());

it(`a ${TURNS}-turn run with 16 KB tool outputs completes, each execution under ${HISTORY_BOUND} bytes of history`, async () => {
  const started = Date.now();
  const run = await h.runner.start('longrun', 'Go through all the records.', { workflowId: `long-${Date.now()}` });
  const r = await run.result();
  const seconds = (Date.now() - started) / 1000;
  expect(r).toMatchObject({ status: 'completed', stopReason: 'end_turn', turns: TURNS, finalText: `Finished after ${TURNS} turns.` });
  expect(r.executions).toBeGreaterThan(3);
  expect(r.elidedToolResults).toBeGreaterThan(200);
  expect(r.messages).toHaveLength(2 * TURNS);
  expect(h.fake.problems).toEqual([]);
  // Every request the API saw was valid (the fake validates tool_use/tool_result pairing) and
  // within the conversation budget, plus what the model activity adds to it: the runner's prompt-cache
  // breakpoints in the messages (the newest and the previous user message: at most 2 marks of 48 bytes,
  // `,"cache_control":{"type":"ephemeral","ttl":"5m"}`, each maybe on a string turned into a text block, 25 bytes).
  expect(h.fake.requests).toHaveLength(TURNS);
  const biggest = Math.max(...h.fake.requests.map((q) => Buffer.byteLength(JSON.stringify(q.body.messages))));
  expect(biggest).toBeLessThanOrEqual(300 * 1024 + 2 * (48 + 25));
  const marks = (q: (typeof h.fake.requests)[number]) => JSON.stringify(q.body.messages).split('"cache_control"').length - 1;
  expect(Math.max(...h.fake.requests.map(marks))).toBeLessThanOrEqual(2);

  // Walk the chain of executions from the first one.
  const sizes: number[] = [];
  let runId: string | undefined =
    (await h.client.workflow.getHandle(run.workflowId).describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined;
  while (runId) {
    const d = await h.client.workflow.getHandle(run.workflowId, runId).describe();
    sizes.push(Number(d.raw.workflowExecutionInfo?.historySizeBytes ?? 0));
    const history = await h.client.workflow.getHandle(run.workflowId, runId).fetchHistory();
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  expect(sizes).toHaveLength(r.executions!);
  expect(Math.max(...sizes)).toBeLessThan(HISTORY_BOUND);
  console.log(
    `long run: ${TURNS} turns in ${seconds.toFixed(1)} s, ${sizes.length} executions, history per execution ≤ ${Math.max(...sizes)} bytes`,
  );

  // The original workflow id leads to the whole story.
  const again = await (await h.runner.get(run.workflowId)).result();
  expect(again.turns).toBe(TURNS);
  const show = await runCli(cliEnv(h), 'show', run.workflowId);
  expect(show.code).toBe(0);
  expect(show.stdout).toContain('user: Go through all the records.');
  expect(show.stdout).toContain('── execution 2 (continued as new after turn');
  expect(show.stdout).toContain(`── turn ${TURNS} · claude-test-model · end_turn`);
  expect(show.stdout).toContain(`final answer: Finished after ${TURNS} turns.`);
}, 300_000);
