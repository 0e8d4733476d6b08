/**
 * A client in another language: the official Temporal Python SDK (PyPI `temporalio`) runs the
 * documented example (examples/python/agent_runner_client.py) against the dev server with the
 * project's default settings — starts a run, queries its state, cancels another, reads both results.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FakeReply, RecordedRequest } from '../devtools/fake-api/server.js';
import { triageBrain } from '../devtools/fake-api/triage-brain.js';
import { ensurePythonClient } from '../scripts/python-client.js';
import { startHarness, type Harness } from './support/harness.js';

const EXAMPLE = fileURLToPath(new URL('../examples/python/agent_runner_client.py', import.meta.url));

/** The second run's question streams slowly, so the cancel finds it mid-call. */
function brain(req: RecordedRequest): FakeReply {
  const first = req.body.messages[0];
  const slow = JSON.stringify(first?.content ?? '').includes('48811');
  const reply = triageBrain(req);
  return slow && reply.kind === 'message' ? { ...reply, chunks: 50, chunkDelayMs: 200 } : reply;
}

let h: Harness;
let python: string;
beforeAll(async () => {
  python = ensurePythonClient((l) => console.log(l));
  h = await startHarness({ fake: { brain } });
}, 600_000);
afterAll(async () => h?.close());

it('starts a run, queries its state, cancels another and reads both results, with the default codec settings', async () => {
  const out = await new Promise<{ code: number; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    execFile(
      python,
      [EXAMPLE],
      {
        env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: h.address, AGENT_RUNNER_TASK_QUEUE: h.taskQueue, AGENT: 'triage' },
        timeout: 60_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, signal: err?.signal ?? null, stdout, stderr }),
    ),
  );
  // All of it in one assertion, so a failure says how the process ended and what it printed.
  expect({ code: out.code, signal: out.signal, stderr: out.stderr, stdout: out.code === 0 ? '(ok)' : out.stdout }).toEqual({
    code: 0,
    signal: null,
    stderr: '',
    stdout: '(ok)',
  });
  const report = JSON.parse(out.stdout) as {
    started: string[];
    state: { phase: string; status: string };
    results: { workflowId: string; status: string; stopReason: string; finalText: string; error?: string; messages: number }[];
  };
  expect(report.started).toHaveLength(2);
  expect(['starting', 'calling_model', 'running_tools', 'done']).toContain(report.state.phase);
  const [answered, cancelled] = report.results;
  expect(answered).toMatchObject({ status: 'completed', stopReason: 'end_turn', messages: 4 });
  expect(answered?.finalText).toContain('Order 48810 is shipped');
  expect(cancelled).toMatchObject({ status: 'cancelled', stopReason: 'cancelled', error: 'cancelled from Python' });
  // The TypeScript client reads the runs the Python client started.
  expect((await (await h.runner.get(report.started[0]!)).result()).finalText).toBe(answered?.finalText);
});
