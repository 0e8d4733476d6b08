/**
 * The `agent-runner` command as a user runs it: a real child process (through the package's
 * `bin`), configured only by the environment, against the test's dev server and worker.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { AgentName, AgentStatus } from '../contract/search-attributes.js';
import { AGENT_WORKFLOW_TYPE } from '../contract/workflow.js';
import { AgentRunner, RunnerError } from '../client/runner.js';
import { invalidRequest, text, toolUses } from '../devtools/fake-api/replies.js';
import { asSent } from './support/blocks.js';
import { builtInPrices, MODEL_PRICES } from '../contract/prices.js';
import { startDevServer } from '../scripts/dev-server.js';
import { triageBrain } from '../devtools/fake-api/triage-brain.js';
import { BIN, cliEnv, expectTerminalSafe, runCli, runCliWith, type CliRun } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  // The test model priced like Claude Haiku 4.5 ($1 in, $5 out per MTok), so costs show.
  const table = builtInPrices();
  h = await startHarness({ prices: { ...table, models: { ...table.models, 'claude-test-model': MODEL_PRICES['claude-haiku-4-5']! } } });
});
afterAll(async () => h?.close());
afterEach(() => {
  expect(h.fake.problems).toEqual([]);
  h.fake.clear();
});

const cli = (...args: string[]) => runCli(cliEnv(h), ...args);

describe('agent-runner start / result', () => {
  it('start --wait --json prints exactly one JSON result and exits 0', async () => {
    h.fake.script(triageBrain, triageBrain);
    const r = await cli('start', 'triage', 'Hi, where are my orders 48810 and 99999?', '--id', 'cli-triage-1', '--wait', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({
      workflowId: 'cli-triage-1',
      status: 'completed',
      stopReason: 'end_turn',
      turns: 2,
      url: `${inject('temporalUiUrl')}/namespaces/default/workflows/cli-triage-1`,
    });
    expect(result.finalText).toContain('48810 is shipped');
    expect(Object.keys(result.usage).sort()).toEqual([
      'cache_creation_input_tokens',
      'cache_read_input_tokens',
      'input_tokens',
      'output_tokens',
    ]);
    expect(result.messages).toHaveLength(4);

    // `result` on the finished run prints the same result.
    const again = await cli('result', 'cli-triage-1', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(result);
  });

  it('start without --wait prints the workflow id and the UI link', async () => {
    h.fake.script(triageBrain, triageBrain);
    const r = await cli('start', 'triage', 'Where is 48810?', '--id', 'cli-triage-2');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`started cli-triage-2\n${inject('temporalUiUrl')}/namespaces/default/workflows/cli-triage-2\n`);
    const res = await cli('result', 'cli-triage-2');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('→ tool get_order_status {"order_id":"48810"}');
    expect(res.stdout).toContain('status: completed · stop reason: end_turn · model calls: 2');
  });

  it('a failed run exits non-zero with a one-line reason on stderr', async () => {
    h.fake.script(invalidRequest('max_tokens: too large'));
    const r = await cli('start', 'toolbox', 'hi', '--wait', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', stopReason: 'error' });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('run failed: Anthropic API 400 invalid_request_error: max_tokens: too large');
  });
});

describe('bad input: one line, non-zero exit, nothing started', () => {
  it.each([
    [['start', 'triage', '   '], 2, 'error: prompt is empty: say what the agent should do'],
    [
      ['start', 'triage'],
      2,
      'error: start takes <agent> "<prompt>", or <agent> - to read the prompt from stdin, or <agent> --prompt-file <path>',
    ],
    [
      ['frobnicate'],
      2,
      'error: unknown command "frobnicate": use start, result, watch, show, cancel, list, codec-server, pending, approve, deny, send, say, chat or budget (see agent-runner --help)',
    ],
    [
      ['--json', 'result', 'x'],
      2,
      'error: give a command first: start, result, watch, show, cancel, list, codec-server, pending, approve, deny, send, say, chat or budget',
    ],
    [
      ['start', 'triage', 'x', '--bogus'],
      2,
      'error: start does not take --bogus; its options: --id, --rerun, --wait, --json, --prompt-file, --max-cost-usd, --max-total-tokens, --output-schema, --output-attempts (see agent-runner start --help)',
    ],
    [['result', 'a', 'b'], 2, 'error: result takes <workflowId> (see agent-runner result --help)'],
    [['result', 'no-such-run-123'], 1, `error: no run with workflow id "no-such-run-123" in namespace "default" at`],
  ])('%j', async (args, code, message) => {
    const before = h.fake.requests.length;
    const r = await cli(...args);
    expect(r.code).toBe(code);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(h.fake.requests.length).toBe(before);
  });

  it.each([
    [
      ['start', 'toolbox', 'hi', '--reason', 'x', '--limit', '3'],
      'error: start does not take --reason (an option of cancel, approve, deny)',
    ],
    [['result', 'some-run', '--wait'], 'error: result does not take --wait (an option of start)'],
    [
      ['cancel', 'some-run', '--json'],
      'error: cancel does not take --json (an option of start, result, list, pending, approve, deny, send, say, budget)',
    ],
    [['list', '--id', 'x'], 'error: list does not take --id (an option of start, chat)'],
    [
      ['watch', 'some-run', '--reason', 'y'],
      'error: watch does not take --reason (an option of cancel, approve, deny); it takes no options',
    ],
    [['start', 'toolbox', 'hi', '--max-cost-usd', 'lots'], 'error: --max-cost-usd must be a number of dollars above 0, e.g. 0.50'],
    [['start', 'toolbox', 'hi', '--max-total-tokens', '0'], 'error: --max-total-tokens must be a positive integer, e.g. 200000'],
    [['budget', 'some-run', '--add-usd', 'abc'], 'error: --add-usd must be a number of dollars above 0, e.g. 1'],
    [['list', '--min-cost-usd', 'x'], 'error: --min-cost-usd must be a number of dollars, e.g. 0.05'],
  ])('each command takes only its own options: %j', async (args, message) => {
    const before = await h.client.workflow.count(`WorkflowType = 'agentRun'`);
    const requests = h.fake.requests.length;
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(h.fake.requests.length).toBe(requests);
    expect((await h.client.workflow.count(`WorkflowType = 'agentRun'`)).count).toBe(before.count);
  });

  it("--help shows one command's usage and options", async () => {
    const r = await cli('start', '--help');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^usage: agent-runner start <agent>/);
    expect(r.stdout).toContain('--prompt-file <path>');
    expect(r.stdout).not.toContain('--reason');
    const all = await cli('--help');
    expect(all.code).toBe(0);
    for (const c of ['start', 'result', 'watch', 'show', 'cancel', 'list', 'codec-server'])
      expect(all.stdout).toContain(`agent-runner ${c}`);
  });
  it('an unreachable server is one clear line', async () => {
    const r = await new Promise<CliRun>((resolve) =>
      execFile(
        process.execPath,
        [BIN, 'result', 'x'],
        { env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: '127.0.0.1:1' } },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot reach Temporal at 127\.0\.0\.1:1 .*npm run server/);
  });
});

describe('the prompt: an argument, - (stdin) or --prompt-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-runner-cli-'));

  it('- reads it from stdin', async () => {
    h.fake.script(text('ok'));
    const prompt = 'from stdin\nsecond line\n';
    const r = await runCliWith(cliEnv(h), { stdin: prompt }, 'start', 'toolbox', '-', '--wait', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).messages[0]).toEqual({ role: 'user', content: prompt });
  });

  it("--prompt-file takes a prompt past the shell's argument limit", async () => {
    const prompt = 'Where is order 48810? Please check the whole history. '.repeat(6_000); // 324 KB
    const file = join(dir, 'big.txt');
    writeFileSync(file, prompt);
    h.fake.script(text('ok'));
    const r = await cli('start', 'toolbox', '--prompt-file', file, '--wait', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).messages[0].content).toBe(prompt);
    expect(asSent(h.fake.requests[0]!.body.messages)).toEqual(asSent([{ role: 'user', content: prompt }]));
  });

  it.each([
    [['hi', '--prompt-file', '/nonexistent/p.txt'], 'error: give the prompt once: as an argument, as - (stdin) or with --prompt-file'],
    [['--prompt-file', '/nonexistent/p.txt'], 'error: cannot read --prompt-file /nonexistent/p.txt: no such file'],
    [['--prompt-file', tmpdir()], `error: cannot read --prompt-file ${tmpdir()}: it is a directory`],
    [['-'], 'error: prompt is empty: say what the agent should do'],
  ])('bad prompt %j: one line, exit 2, nothing started', async (args, message) => {
    const before = await h.client.workflow.count(`WorkflowType = 'agentRun'`);
    const r = await runCliWith(cliEnv(h), { stdin: '  \n' }, 'start', 'toolbox', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect((await h.client.workflow.count(`WorkflowType = 'agentRun'`)).count).toBe(before.count);
  });

  it('a prompt over the conversation limit on stdin: one line, exit 2; the CLI stops reading', async () => {
    const r = await runCliWith(cliEnv(h), { stdin: 'x'.repeat(3_000_000) }, 'start', 'toolbox', '-');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "error: the prompt on stdin is over the 1200000-byte limit of a run's conversation: shorten the prompt, or give the agent a tool that fetches large data\n",
    );
  });
});

/** Text a hostile model (or user) might produce: screen clear, cursor home, window title, OSC 52 clipboard write, C1 CSI, CR, and fake CLI lines. */
const HOSTILE =
  'All done.\x1b[2J\x1b[H\x1b]0;pwned-title\x07\x1b]52;c;ZXZpbCBjbGlwYm9hcmQ=\x07\u009b31mred\rX\x7f\n' +
  'status: completed · stop reason: end_turn · model calls: 1\nerror: none\n    → tool rm_rf {}';
const HOSTILE_PROMPT = 'Say it\x1b]0;prompt-title\x07\x1b[31m\nstatus: failed · fake';

/** Human output of a hostile run: no terminal controls, and its text cannot pass for the CLI's own lines. */
function expectNoImpersonation(out: string): void {
  expectTerminalSafe(out);
  const lines = out.split('\n');
  // The sequences are gone whole (not just their ESC), except inside a tool's input shown as JSON, where they are inert escapes.
  for (const gone of ['pwned-title', 'ZXZpbCBjbGlwYm9hcmQ=', 'prompt-title', '[2J', '31m']) {
    for (const l of lines.filter((x) => x.includes(gone))) expect(l).toMatch(/^ {4}→ tool echo \{"text":"All done\.\\u001b\[2J/);
  }
  expect(lines.filter((l) => l.startsWith('status: failed'))).toEqual([]);
  expect(lines.filter((l) => l.startsWith('error:'))).toEqual([]);
  expect(lines.filter((l) => /^\s*→ tool rm_rf/.test(l))).toEqual([]);
  expect(lines.filter((l) => l.startsWith('status: '))).toHaveLength(1);
  // The text is still there, marked as the continuation of the line it belongs to.
  expect(out).toContain('All done.redX');
  expect(lines.some((l) => /^\s+│ status: completed · stop reason: end_turn · model calls: 1$/.test(l))).toBe(true);
}

describe('hostile text: human output strips terminal controls, --json stays exact', () => {
  const id = `cli-hostile-${Date.now()}`;

  it('start --wait, result, show and watch print model text, tool results and the prompt harmlessly', async () => {
    h.fake.script(toolUses([{ name: 'echo', input: { text: HOSTILE } }], { text: HOSTILE }), text(HOSTILE));
    const started = await cli('start', 'toolbox', HOSTILE_PROMPT, '--id', id, '--wait');
    expect(started.code).toBe(0);
    expectNoImpersonation(started.stdout + started.stderr);
    for (const command of ['result', 'show', 'watch']) {
      const r = await cli(command, id);
      expect(r.code, command).toBe(0);
      expectNoImpersonation(r.stdout + r.stderr);
    }
  });

  it('result --json is byte-exact: the same escapes, JSON-encoded', async () => {
    const r = await cli('result', id, '--json');
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as { finalText: string; messages: { content: unknown }[]; url: string };
    expect(parsed.finalText).toBe(HOSTILE);
    expect(parsed.messages[0]!.content).toBe(HOSTILE_PROMPT);
    expect(r.stdout).toBe(`${JSON.stringify({ ...(await (await h.runner.get(id)).result()), url: parsed.url })}\n`);
    expect(r.stdout).toContain('\\u001b]52;c;ZXZpbCBjbGlwYm9hcmQ=\\u0007');
  });

  it('list keeps one run per line and seven columns, whatever the id and agent name hold', async () => {
    const evilId = `list-evil-${Date.now()}\tfake\ncolumns\x1b[2J`;
    const handle = await h.client.workflow.start(AGENT_WORKFLOW_TYPE, {
      taskQueue: h.taskQueue,
      workflowId: evilId,
      args: [{ agent: 'nobody', prompt: 'hi' }],
      typedSearchAttributes: [
        { key: AgentName, value: 'no\tbody\x1b]0;t\x07' },
        { key: AgentStatus, value: 'running' },
      ],
    });
    await handle.result().catch(() => undefined); // an unknown agent: the run fails in its first task
    let out = '';
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      out = (await cli('list', '--limit', '200')).stdout;
      if (out.includes('list-evil-')) break;
    }
    expect(out).toContain('list-evil-');
    expectTerminalSafe(out);
    for (const line of out.trimEnd().split('\n')) expect(line.split('\t'), line).toHaveLength(7);
    expect(out).toMatch(/^list-evil-\d+ fake columns\tno body\t/m);
  });
});

describe('--id', () => {
  it.each([
    ['', 'error: --id must not be empty: give an id, or leave --id out for a random one'],
    ['   ', 'error: --id must not be empty'],
    [
      'order\n48810',
      'error: --id contains U+000A at position 6: a workflow id may hold no control characters and no whitespace but spaces',
    ],
    ['order\t48810', 'error: --id contains U+0009 at position 6'],
    ['order\x1b[2J', 'error: --id contains U+001B at position 6'],
    ['order\u00a048810', 'error: --id contains U+00A0 at position 6'],
    ['order\u202848810', 'error: --id contains U+2028 at position 6'],
  ])('refuses %j: one line, exit 2, nothing started', async (id, message) => {
    const before = await h.client.workflow.count(`WorkflowType = 'agentRun'`);
    const r = await cli('start', 'toolbox', 'hi', '--id', id);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
    expect(h.fake.requests).toHaveLength(0);
    expect((await h.client.workflow.count(`WorkflowType = 'agentRun'`)).count).toBe(before.count);
  });

  it('accepts spaces', async () => {
    h.fake.script(text('ok'));
    const id = `order 48810 check ${Date.now()}`;
    const r = await cli('start', 'toolbox', 'hi', '--id', id, '--wait', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).workflowId).toBe(id);
  });

  it('the library refuses the same ids before anything starts', async () => {
    for (const [workflowId, message] of [
      ['', 'workflowId must not be empty'],
      ['a\nb', 'workflowId contains U+000A at position 2'],
    ]) {
      const err = await h.runner.start('toolbox', 'hi', { workflowId }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RunnerError);
      expect((err as Error).message).toContain(message);
    }
    expect(h.fake.requests).toHaveLength(0);
  });

  it("an id longer than the server allows: the server's own cause, in one line", async () => {
    const r = await cli('start', 'toolbox', 'hi', '--id', 'x'.repeat(1100));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: cannot start the run: WorkflowId exceeds maximum allowed length (1100/1000)\n');
  });
});

describe('a namespace without the search attributes', () => {
  it('start says so and how to register them, from the CLI and the library; nothing starts', async () => {
    const bare = await startDevServer({ uiPort: false, searchAttributes: false });
    try {
      const r = await runCli({ ...cliEnv(h), TEMPORAL_ADDRESS: bare.address }, 'start', 'toolbox', 'hi');
      expect(r.code).toBe(1);
      const hint =
        'the search attributes AgentName, AgentStatus, AgentTurns, AgentTokens are not registered on namespace "default": ' +
        'use `npm run server`, or register them with `temporal operator search-attribute create` (see README)';
      expect(r.stderr).toBe(`error: ${hint}\n`);
      const runner = await AgentRunner.connect({ settings: { connection: { address: bare.address }, taskQueue: h.taskQueue } });
      try {
        await expect(runner.start('toolbox', 'hi')).rejects.toThrow(hint);
        expect((await runner.client.workflow.count()).count).toBe(0);
      } finally {
        await runner.close();
      }
    } finally {
      await bare.stop();
    }
  }, 90_000);
});

describe('start is idempotent by id', () => {
  /** Executions with this workflow id (visibility is eventually consistent: wait until it shows `expected`, then check it stays). */
  async function executions(id: string, expected: number): Promise<number> {
    const q = `WorkflowId = '${id}'`;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      if ((await h.client.workflow.count(q)).count >= expected) break;
    }
    await new Promise((r) => setTimeout(r, 300));
    return (await h.client.workflow.count(q)).count;
  }
  const url = (id: string) => `${inject('temporalUiUrl')}/namespaces/default/workflows/${id}`;

  it('while the run is live, the same request attaches to it and a different one is refused', async () => {
    const id = `idem-live-${Date.now()}`;
    // Live for the five CLI calls below (each a Node process: ~1–2 s on a busy 2-core machine).
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'slow', delay_ms: 15_000 } }]), text('done'));
    const first = await cli('start', 'toolbox', 'check order 48810', '--id', id);
    expect(first).toMatchObject({ code: 0, stderr: '', stdout: `started ${id}\n${url(id)}\n` });
    const runId = (await h.client.workflow.getHandle(id).describe()).runId;

    const again = await cli('start', 'toolbox', 'check order 48810', '--id', id);
    expect(again).toMatchObject({
      code: 0,
      stderr: '',
      stdout: `attached to ${id}: it is already running with the same request\n${url(id)}\n`,
    });
    const json = await cli('start', 'toolbox', 'check order 48810', '--id', id, '--json');
    expect(JSON.parse(json.stdout)).toEqual({ workflowId: id, url: url(id), attached: true });

    for (const [args, why] of [
      [['toolbox', 'check order 99999'], 'its prompt differs'],
      [['triage', 'check order 48810'], 'its agent differs'],
    ] as const) {
      const other = await cli('start', ...args, '--id', id);
      expect(other.code).toBe(1);
      expect(other.stderr).toBe(
        `error: a different run is running with workflow id "${id}" (${why}): pick another id, or give the same agent, prompt and overrides to attach to it\n`,
      );
    }

    const waited = await cli('start', 'toolbox', 'check order 48810', '--id', id, '--wait', '--json');
    expect(waited.code).toBe(0);
    expect(JSON.parse(waited.stdout)).toMatchObject({ workflowId: id, status: 'completed', finalText: 'done' });
    expect((await h.client.workflow.getHandle(id).describe()).runId).toBe(runId);
    expect(await executions(id, 1)).toBe(1);
    expect(h.fake.requests).toHaveLength(2); // one run's two model calls, no more
  });

  it('after the run ended, start refuses, saying it already ran, its status and how to get its result; --rerun runs it again', async () => {
    const id = `idem-done-${Date.now()}`;
    h.fake.script(text('first answer'));
    expect((await cli('start', 'toolbox', 'hi', '--id', id, '--wait')).code).toBe(0);
    const firstRunId = (await h.client.workflow.getHandle(id).describe()).runId;

    const again = await cli('start', 'toolbox', 'hi', '--id', id);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toBe(
      `error: run "${id}" already ran (completed): get its result with \`agent-runner result ${id}\`, or start it again with --rerun\n`,
    );
    expect((await h.client.workflow.getHandle(id).describe()).runId).toBe(firstRunId);
    expect(await executions(id, 1)).toBe(1);

    h.fake.script(text('second answer'));
    const rerun = await cli('start', 'toolbox', 'hi', '--id', id, '--rerun', '--wait', '--json');
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ workflowId: id, finalText: 'second answer' });
    expect((await h.client.workflow.getHandle(id).describe()).runId).not.toBe(firstRunId);
    expect(await executions(id, 2)).toBe(2);
  });

  it('the library: a RunHandle says whether it attached; a cancelled run refuses a restart unless rerun: true', async () => {
    const workflowId = `idem-lib-${Date.now()}`;
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'slow', delay_ms: 30_000 } }]));
    const first = await h.runner.start('toolbox', 'hi', { workflowId, overrides: { maxTurns: 3 } });
    const second = await h.runner.start('toolbox', 'hi', { workflowId, overrides: { maxTurns: 3 } });
    expect([first.attached, second.attached]).toEqual([false, true]);
    await expect(h.runner.start('toolbox', 'hi', { workflowId, overrides: { maxTurns: 4 } })).rejects.toThrow(
      `a different run is running with workflow id "${workflowId}" (its overrides differ)`,
    );
    await h.runner.cancel(workflowId, 'enough');
    expect((await second.result()).status).toBe('cancelled');

    const refused = await h.runner.start('toolbox', 'hi', { workflowId, overrides: { maxTurns: 3 } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RunnerError);
    expect((refused as Error).message).toMatch(/^run "idem-lib-\d+" already ran \(cancelled\): get its result with/);
    expect(await executions(workflowId, 1)).toBe(1);

    h.fake.script(text('again'));
    const rerun = await h.runner.start('toolbox', 'hi', { workflowId, rerun: true });
    expect(rerun.attached).toBe(false);
    expect((await rerun.result()).finalText).toBe('again');
    expect(await executions(workflowId, 2)).toBe(2);
  });
});

const NO_CACHE = {
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
};

describe('spend from the command line', () => {
  it('start --max-total-tokens pauses an agent that pauses; budget shows it and raises it; watch and list tell the cost', async () => {
    h.fake.script(
      toolUses([{ name: 'echo', input: { text: 'a' } }], {
        usage: { input_tokens: 3000, output_tokens: 100, ...NO_CACHE },
      }),
      text('finished', { usage: { input_tokens: 4000, output_tokens: 20, ...NO_CACHE } }),
    );
    const started = await cli('start', 'spender', 'echo a', '--id', 'cli-budget-1', '--max-total-tokens', '5000');
    expect(started.code).toBe(0);
    let shown: CliRun | undefined;
    for (let i = 0; i < 50; i++) {
      shown = await cli('budget', 'cli-budget-1');
      if (shown.stdout.includes('stopped at the budget')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(shown?.stdout).toContain('spent $0.0035 · 3100 tokens · status awaiting budget');
    expect(shown?.stdout).toMatch(/budget 5000 tokens · next model call up to \$0\.\d{4} \/ \d+ tokens/);
    expect(shown?.stdout).toMatch(/stopped at the budget: used 3100 of 5000 tokens; the next model call may use up to \d+/);
    const refused = await cli('budget', 'cli-budget-1', '--add-usd', '1');
    expect(refused).toMatchObject({ code: 1 });
    expect(refused.stderr).toBe('error: cli-budget-1: this run has no USD budget (only a token budget): raise it with --add-tokens\n');
    const raised = await cli('budget', 'cli-budget-1', '--add-tokens', '100000', '--by', 'finance');
    expect(raised.stdout).toBe('budget of cli-budget-1 now 105000 tokens (spent $0.0035, 3100 tokens)\n');
    const result = await cli('result', 'cli-budget-1');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('cost: $0.0076');
    const watched = await cli('show', 'cli-budget-1');
    expect(watched.stdout).toContain('3000 in / 100 out tokens · $0.0035');
    expect(watched.stdout).toContain('⏸ paused at the budget');
    expect(watched.stdout).toContain('$ budget raised +100000 tokens by finance, now 105000 tokens');
    expect(watched.stdout).toContain('4000 in / 20 out tokens · $0.0041');
    expectTerminalSafe(watched.stdout);
    let listed = '';
    for (let i = 0; i < 50 && !listed.includes('$0.0076'); i++) {
      listed = (await cli('list', '--agent', 'spender', '--min-cost-usd', '0.007')).stdout;
      if (!listed.includes('$0.0076')) await new Promise((r) => setTimeout(r, 200));
    }
    expect(listed.split('\n')[0]).toBe('WORKFLOW ID\tAGENT\tSTATUS\tTURNS\tTOKENS\tCOST\tSTARTED');
    expect(listed).toMatch(/cli-budget-1\tspender\tcompleted\t2\t7120\t\$0\.0076\t/);
  });
});
