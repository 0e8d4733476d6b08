/** Real runs' input, result, state, heartbeat details and updates validate against the published JSON Schemas. */
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decideUpdate, endUpdate, sayUpdate, sendUpdate, stateQuery } from '../contract/workflow.js';
import { OUTPUT_TOOL } from '../contract/output-schema.js';
import { text, toolUses } from '../devtools/fake-api/replies.js';
import { triageBrain } from '../devtools/fake-api/triage-brain.js';
import { decodePayloads } from '../client/run-story.js';
import { startHarness, type Harness } from './support/harness.js';

const schema = (name: string) =>
  JSON.parse(readFileSync(fileURLToPath(new URL(`../contract/schemas/${name}.schema.json`, import.meta.url)), 'utf8')) as object;
const ajv = new Ajv({ strict: false, allErrors: true });
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
const valid = (name: string, value: unknown) => {
  const check = compiled.get(name) ?? ajv.compile(schema(name));
  compiled.set(name, check);
  return check(value) ? 'valid' : ajv.errorsText(check.errors);
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

it('a triage run: its input, result and state, and the signal and progress shapes, are valid', async () => {
  h.fake.script(triageBrain, triageBrain);
  const r = await h.run('triage', 'Hi, where are my orders 48810 and 99999?');
  const { handle, ...result } = r;
  expect(valid('run-result', result)).toBe('valid');
  expect(valid('run-state', await handle.query(stateQuery))).toBe('valid');
  const history = await handle.fetchHistory();
  const [input] = await decodePayloads(
    h.client.options.loadedDataConverter,
    history.events?.[0]?.workflowExecutionStartedEventAttributes?.input,
  );
  expect(valid('run-input', input)).toBe('valid');
  expect(valid('run-input', { agent: 'triage', prompt: 42 })).not.toBe('valid');
  expect(valid('cancel-args', { reason: 'user left' })).toBe('valid');
  expect(valid('model-progress', { phase: 'streaming', outputTokens: 12, events: 30 })).toBe('valid');
});

it('a structured-output run: its input (with the schema) and result (with the output) are valid', async () => {
  const outputSchema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
  h.fake.script(toolUses([{ name: OUTPUT_TOOL, input: { answer: 'yes' } }]));
  const { handle, ...result } = await h.run('toolbox', 'answer', { outputSchema, outputAttempts: 2 });
  expect(result).toMatchObject({ status: 'completed', stopReason: 'structured_output', output: { answer: 'yes' } });
  expect(valid('run-result', result)).toBe('valid');
  const history = await handle.fetchHistory();
  const [input] = await decodePayloads(
    h.client.options.loadedDataConverter,
    history.events?.[0]?.workflowExecutionStartedEventAttributes?.input,
  );
  expect(input).toMatchObject({ outputSchema, outputAttempts: 2 });
  expect(valid('run-input', input)).toBe('valid');
});

it("the updates as another language's client sends them: decide, send, say and end — arguments and answers are valid", async () => {
  h.fake.script(toolUses([{ name: 'payment', input: { amount: 1 }, id: 'toolu_schema' }]), text('Paid.'));
  const run = await h.runner.start('gatekeeper', 'pay 1');
  const deadline = Date.now() + 15_000;
  let waiting = (await h.runner.state(run.workflowId)).pendingApprovals;
  while (waiting.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    waiting = (await h.runner.state(run.workflowId)).pendingApprovals;
  }
  const decide = { toolUseId: 'toolu_schema', decision: 'approve' as const, inputHash: waiting[0]!.inputHash, by: 'schemas' };
  expect(valid('decide-args', decide)).toBe('valid');
  expect(valid('decide-args', { toolUseId: 'toolu_schema', decision: 'maybe', inputHash: '' })).not.toBe('valid');
  const decided = await run.temporal.executeUpdate(decideUpdate, { args: [decide] });
  expect(decided).toMatchObject({ toolUseId: 'toolu_schema', tool: 'payment', decision: 'approve' });
  expect(valid('decide-result', decided)).toBe('valid');
  expect((await run.result()).finalText).toBe('Paid.');

  const sid = `schemas-session-${Date.now()}`;
  h.fake.script(text('Hello.'), text('Again.'));
  await h.runner.send(sid, 'hi', { agent: 'toolbox' });
  const session = h.client.workflow.getHandle(sid);
  const send = { text: 'again', by: 'schemas' };
  expect(valid('send-args', send)).toBe('valid');
  const sent = await session.executeUpdate(sendUpdate, { args: [send] });
  expect(sent).toMatchObject({ exchange: 2, reply: 'Again.' });
  expect(valid('send-result', sent)).toBe('valid');
  const say = { text: 'a note for the next call', by: 'schemas' };
  expect(valid('say-args', say)).toBe('valid');
  expect(valid('say-result', await session.executeUpdate(sayUpdate, { args: [say] }))).toBe('valid');
  expect(valid('end-args', { by: 'schemas' })).toBe('valid');
  const ended = await session.executeUpdate(endUpdate, { args: [{ by: 'schemas' }] });
  expect(ended).toEqual({ ended: true });
  expect(valid('end-result', ended)).toBe('valid');
  expect(valid('budget-args', { addUsd: 0.5, by: 'schemas' })).toBe('valid');
  expect(valid('budget-args', { addUsd: '0.5' })).not.toBe('valid');
});
