/** Real runs' input, result, state and heartbeat details validate against the published JSON Schemas. */
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stateQuery } from '../contract/workflow.js';
import { OUTPUT_TOOL } from '../contract/output-schema.js';
import { toolUses } from '../devtools/fake-api/replies.js';
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
