/**
 * Structured output end to end: the real dev server, a real worker, the real Anthropic SDK and
 * the fake Messages API (which checks strict tools as the real one does). The model gives its
 * answer through the runner's output tool; an invalid answer or a turn ended without it gets
 * another try, bounded; the library, the raw run input and the CLI each refuse a bad schema.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent } from '../agents/define.js';
import { RunnerError } from '../client/runner.js';
import { OUTPUT_TOOL, outputInstruction } from '../contract/output-schema.js';
import type { RunInput } from '../contract/run.js';
import { AGENT_WORKFLOW_TYPE } from '../contract/workflow.js';
import { fastModelCall } from '../devtools/agents.js';
import { withStructuredOutput } from '../devtools/fake-api/output-brain.js';
import { stop, text, toolUses } from '../devtools/fake-api/replies.js';
import { triageBrain } from '../devtools/fake-api/triage-brain.js';
import { toolResults } from './support/blocks.js';
import { testAgents } from './support/agents.js';
import { cliEnv, expectTerminalSafe, runCli } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';

/** An agent whose runs give structured output by default (a zod schema). */
const extractorAgent = defineAgent({
  name: 'extractor',
  model: 'claude-test-model',
  max_tokens: 512,
  system: 'Extract the facts.',
  tools: [],
  outputSchema: z.object({ city: z.string(), population: z.number().int() }),
  modelCall: fastModelCall,
});

const answerSchema = {
  type: 'object',
  properties: {
    answer: { type: 'string', description: 'The answer, in one sentence.' },
    confidence: { type: 'string', enum: ['low', 'medium', 'high'] },
    sources: { type: 'array', items: { type: 'string' } },
  },
  required: ['answer', 'confidence'],
} as const;
const good = { answer: 'Echoed.', confidence: 'high', sources: ['echo'] };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ agents: [...testAgents, extractorAgent] });
});
afterAll(async () => h?.close());
afterEach(() => {
  expect(h.fake.problems).toEqual([]);
  expect(h.fake.pending()).toBe(0);
  h.fake.clear();
});

const output = (input: Record<string, unknown>, id?: string) => ({ name: OUTPUT_TOOL, input, ...(id && { id }) });

describe('the model gives a valid output', () => {
  it('on its first try: the result carries it, the request offered a strict output tool', async () => {
    h.fake.script(toolUses([output(good)], { text: 'Here it is.' }));
    const r = await h.run('toolbox', 'echo hi, then answer', { outputSchema: answerSchema });

    expect(r).toMatchObject({ status: 'completed', stopReason: 'structured_output', output: good, finalText: 'Here it is.', turns: 1 });
    expect(r.messages).toHaveLength(3);
    expect(toolResults(r.messages[2])).toEqual([
      { type: 'tool_result', tool_use_id: expect.any(String), content: 'Structured output accepted.' },
    ]);
    const req = h.fake.requests[0]!.body;
    const tool = req.tools?.find((t) => 'name' in t && t.name === OUTPUT_TOOL);
    expect(tool).toEqual({
      name: OUTPUT_TOOL,
      description: expect.any(String),
      input_schema: { ...answerSchema, additionalProperties: false },
      strict: true,
    });
    expect(JSON.stringify(req.system)).toContain(outputInstruction(OUTPUT_TOOL).slice(0, 60));
  });

  it("from the agent's own (zod) schema, without asking", async () => {
    h.fake.script(toolUses([output({ city: 'Lyon', population: 522_250 })]));
    const r = await h.run('extractor', 'Lyon has 522,250 inhabitants.');
    expect(r).toMatchObject({ status: 'completed', output: { city: 'Lyon', population: 522_250 }, finalText: '' });
  });

  it('beside other tools: they run and answer in tool_use order, then the run ends', async () => {
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'a', delay_ms: 300 }, id: 'toolu_echo' }, output(good, 'toolu_out')]));
    const r = await h.run('toolbox', 'echo and answer', { outputSchema: answerSchema });
    expect(r).toMatchObject({ status: 'completed', output: good, turns: 1 });
    expect(toolResults(r.messages[2]).map((b) => [b.tool_use_id, b.content])).toEqual([
      ['toolu_echo', 'echo: a'],
      ['toolu_out', 'Structured output accepted.'],
    ]);
  });
});

describe('another try, bounded', () => {
  it('an invalid answer gets is_error naming the problems, and the model tries again', async () => {
    h.fake.script(
      toolUses([output({ answer: 42, confidence: 'sure' }, 'toolu_bad'), { name: 'echo', input: { text: 'x' }, id: 'toolu_e' }]),
      toolUses([output(good, 'toolu_good')]),
    );
    const r = await h.run('toolbox', 'answer', { outputSchema: answerSchema });
    expect(r).toMatchObject({ status: 'completed', output: good, turns: 2 });
    // The model saw the rejection, beside the other call's result, in tool_use order.
    const seen = h.fake.requests[1]!.body.messages.at(-1);
    expect(toolResults(seen).map((b) => [b.tool_use_id, b.is_error ?? false])).toEqual([
      ['toolu_bad', true],
      ['toolu_e', false],
    ]);
    expect(toolResults(r.messages[2])[0]).toEqual({
      type: 'tool_result',
      tool_use_id: 'toolu_bad',
      is_error: true,
      content:
        'Your output does not match the schema: answer: must be string, got integer; confidence: must be one of "low", "medium", "high", got "sure". ' +
        `Call ${OUTPUT_TOOL} again with input that matches it (attempt 1 of 3 failed).`,
    });
  });

  it('a turn ended without the output tool is nudged', async () => {
    h.fake.script(text('The answer is 42.'), toolUses([output(good)]));
    const r = await h.run('toolbox', 'answer', { outputSchema: answerSchema });
    expect(r).toMatchObject({ status: 'completed', output: good, turns: 2 });
    expect(r.messages[2]).toEqual({
      role: 'user',
      content:
        'You ended your turn without giving your final answer as structured output. ' +
        `Call the ${OUTPUT_TOOL} tool now, with your final answer as its input (attempt 1 of 3 failed).`,
    });
    expect(h.fake.requests[1]!.body.messages.at(-1)).toMatchObject({ role: 'user' });
  });

  it('attempts used up: the run fails with one line, its transcript in the failure', async () => {
    h.fake.script(text('No.'), toolUses([output({ answer: 'x' })]));
    const run = await h.runner.start('toolbox', 'answer', { outputSchema: answerSchema, outputAttempts: 2 });
    const r = await run.result();
    expect(r).toMatchObject({ status: 'failed', stopReason: 'error', turns: 2 });
    expect(r.output).toBeUndefined();
    expect(r.error).toBe(
      'no valid structured output after 2 attempt(s): the last answer did not match the schema: (output): missing required property "confidence"',
    );
    expect(r.messages).toHaveLength(5); // prompt, "No.", nudge, the invalid call, its is_error result
    const failure = await run.temporal.result().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'StructuredOutputMissing' });
  });

  it('failed attempts carry across continue-as-new', async () => {
    // Incompressible text, so the history passes the gatekeeper's 48 KiB threshold after turn 2.
    const noise = Array.from(
      { length: 80_000 },
      () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[Math.floor(Math.random() * 64)],
    ).join('');
    h.fake.script(text('No.'), toolUses([{ name: 'echo', input: { text: noise } }]), text('Still no.'));
    const r = await h.run('gatekeeper', 'answer', { outputSchema: answerSchema, outputAttempts: 2 });
    expect(r).toMatchObject({ status: 'failed', executions: 2, turns: 3 });
    expect(r.error).toBe(
      `no valid structured output after 2 attempt(s): the model ended its turn (end_turn) without calling ${OUTPUT_TOOL}`,
    );
  });

  it('a run that stops otherwise (max_tokens) fails for want of an output', async () => {
    h.fake.script(stop('max_tokens', 'The answer is'));
    const r = await h.run('toolbox', 'answer', { outputSchema: answerSchema });
    expect(r).toMatchObject({ status: 'failed', turns: 1 });
    expect(r.error).toBe('no structured output: the run stopped (max_tokens) before the model gave a valid one');
  });
});

describe('bad schemas never start a run', () => {
  it('the library refuses before anything starts', async () => {
    const bad = { type: 'object', properties: { n: { type: 'integer', minimum: 1 } } };
    await expect(h.runner.start('toolbox', 'x', { outputSchema: bad })).rejects.toThrow(RunnerError);
    await expect(h.runner.start('toolbox', 'x', { outputSchema: bad })).rejects.toThrow(
      'output schema: properties.n: "minimum" is not supported by strict tool use',
    );
    expect(h.fake.requests).toHaveLength(0);
  });

  it('a bad schema in raw run input (another client) fails the run at once, with one line', async () => {
    const input: RunInput = { agent: 'toolbox', prompt: 'x', outputSchema: { type: 'object', additionalProperties: true } };
    const handle = await h.client.workflow.start(AGENT_WORKFLOW_TYPE, {
      taskQueue: h.taskQueue,
      workflowId: `raw-${Date.now()}`,
      args: [input],
    });
    const r = await (await h.runner.get(handle.workflowId)).result();
    expect(r).toMatchObject({ status: 'failed', turns: 0 });
    expect(r.error).toBe(
      'invalid run input: output schema: the root: additionalProperties must be false (strict tool use allows only the properties the schema names)',
    );
    expect(h.fake.requests).toHaveLength(0);
  });

  it('tool_choice none with structured output fails the run before any model call', async () => {
    const r = await h.run('toolbox', 'x', { outputSchema: answerSchema, overrides: { tool_choice: { type: 'none' } } });
    expect(r).toMatchObject({ status: 'failed', turns: 0 });
    expect(r.error).toContain('tool_choice "none" forbids every tool call');
  });
});

describe('the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'output-schema-'));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const cli = (...args: string[]) => runCli(cliEnv(h), ...args);

  it.each([
    ['missing.json', null, 'error: cannot read --output-schema DIR/missing.json: no such file'],
    ['broken.json', '{"type": "object",', 'error: --output-schema DIR/broken.json is not JSON: '],
    [
      'array.json',
      '{"type": "array", "items": {"type": "string"}}',
      'error: --output-schema DIR/array.json: output schema must have "type": "object" at the root',
    ],
    [
      'minimum.json',
      '{"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}',
      'error: --output-schema DIR/minimum.json: output schema: properties.n: "minimum" is not supported by strict tool use',
    ],
  ])('%s: one line, exit 2, nothing started', async (name, content, line) => {
    const path = content === null ? join(dir, name) : file(name, content);
    const r = await cli('start', 'toolbox', 'x', '--output-schema', path, '--wait');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr.replaceAll(dir, 'DIR')).toContain(line);
    expect(h.fake.requests).toHaveLength(0);
  });

  it('--output-attempts must be 1 to 10', async () => {
    const r = await cli(
      'start',
      'toolbox',
      'x',
      '--output-schema',
      file('ok.json', JSON.stringify(answerSchema)),
      '--output-attempts',
      '11',
    );
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toContain('error: --output-attempts must be an integer from 1 to 10');
  });

  it('start --wait, result, show and --json give the output', async () => {
    const schema = file(
      'order.json',
      JSON.stringify({
        type: 'object',
        properties: {
          orders: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                order_id: { type: 'string' },
                status: { type: 'string' },
                estimated_delivery: { type: 'string', format: 'date' },
              },
              required: ['order_id', 'status'],
            },
          },
          summary: { type: 'string' },
        },
        required: ['orders', 'summary'],
      }),
    );
    // Offline triage, answering with the output tool (after a first answer that missed it).
    h.fake.script(triageBrain, text('Order 48810 is shipped.'), withStructuredOutput(triageBrain));
    const wait = await cli('start', 'triage', 'Where is my order 48810?', '--id', 'cli-output-1', '--output-schema', schema, '--wait');
    expect(wait.stderr).toBe('');
    expect(wait.code).toBe(0);
    expectTerminalSafe(wait.stdout);
    const expected = {
      orders: [{ order_id: '48810', status: 'shipped', estimated_delivery: '2026-05-24' }],
      summary: 'Order 48810 is shipped, estimated delivery 2026-05-24.',
    };
    expect(wait.stdout).toContain(
      [
        'output:',
        ...JSON.stringify(expected, null, 2)
          .split('\n')
          .map((l) => `    ${l}`),
      ].join('\n'),
    );
    expect(wait.stdout).toContain('user (runner): You ended your turn without giving your final answer as structured output.');
    expect(wait.stdout).toContain(`→ tool ${OUTPUT_TOOL} {"orders":[{"order_id":"48810"`);
    expect(wait.stdout).toContain('status: completed · stop reason: structured_output · model calls: 3');

    const json = await cli('result', 'cli-output-1', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'completed', stopReason: 'structured_output', output: expected });

    const show = await cli('show', 'cli-output-1');
    expect(show.code).toBe(0);
    expectTerminalSafe(show.stdout);
    expect(show.stdout).toContain('user (runner): You ended your turn without giving your final answer as structured output.');
    expect(show.stdout).toContain(`    → tool ${OUTPUT_TOOL} {"orders":[{"order_id":"48810"`);
    expect(show.stdout).toContain('      ← Structured output accepted.');
    expect(show.stdout).toContain('output:\n    {\n      "orders": [');
  });

  it('show tells a rejected output', async () => {
    h.fake.script(toolUses([output({ answer: 'x', confidence: 'maybe' })]), toolUses([output(good)]));
    const r = await cli(
      'start',
      'toolbox',
      'answer',
      '--id',
      'cli-output-2',
      '--output-schema',
      file('answer.json', JSON.stringify(answerSchema)),
      '--wait',
      '--json',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).output).toEqual(good);
    const show = await cli('show', 'cli-output-2');
    expect(show.stdout).toContain(
      '      ✗ error: Your output does not match the schema: confidence: must be one of "low", "medium", "high", got "maybe".',
    );
  });
});
