/**
 * The `agent-runner` command as a user runs it: a real child process (through the package's
 * `bin`), configured only by the environment, against the test's dev server and worker.
 */
import { execFile } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { invalidRequest } from '../devtools/fake-api/replies.js';
import { triageBrain } from '../devtools/fake-api/triage-brain.js';
import { BIN, cliEnv, runCli, type CliRun } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
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
    [['start', 'triage', '   '], 1, 'error: prompt is empty: say what the agent should do'],
    [['start', 'triage'], 2, 'error: start takes <agent> "<prompt>" (see agent-runner --help)'],
    [['frobnicate'], 2, 'error: unknown command "frobnicate" (see agent-runner --help)'],
    [['start', 'triage', 'x', '--bogus'], 2, "error: Unknown option '--bogus'"],
    [['result', 'no-such-run-123'], 1, `error: no run with workflow id "no-such-run-123" in namespace "default" at`],
  ])('%j', async (args, code, message) => {
    const before = h.fake.requests.length;
    const r = await cli(...args);
    expect(r.code).toBe(code);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(h.fake.requests.length).toBe(before);
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
