/**
 * A deployment mismatch: the client's payload codecs differ from the workers'. The run cannot
 * move (its workflow task keeps failing on the worker), and instead of waiting forever
 * `result()`, `start --wait`, `show` and `watch` say so in one line: the attempts, the cause,
 * what to do.
 */
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataConverter } from '../../connection/codecs.js';
import { AgentRunner, RunStuckError } from '../../client/runner.js';
import { cliEnv, runCli } from '../support/cli.js';
import { STUCK_ON_PURPOSE } from '../support/no-stuck-tasks.js';
import { startFaultWorld, type FaultWorld } from './world.js';

const clientKey = randomBytes(32);
const workerKey = randomBytes(32);

let w: FaultWorld;
let connection: Connection;
let runner: AgentRunner;
const started: string[] = [];
beforeAll(async () => {
  w = await startFaultWorld();
  connection = await Connection.connect({ address: w.address });
  const client = new Client({
    connection,
    namespace: 'default',
    dataConverter: dataConverter({ compress: true, encryption: { keys: { default: clientKey }, encryptWith: 'default' } }),
  });
  runner = await AgentRunner.connect({ client, settings: { taskQueue: w.taskQueue, uiUrl: 'http://localhost:8233' } });
});
afterAll(async () => {
  for (const id of started)
    await w.client.workflow
      .getHandle(id)
      .terminate('codec-mismatch test done')
      .catch(() => undefined);
  await connection?.close();
  await w?.close();
});

const id = (what: string) => {
  const workflowId = `${STUCK_ON_PURPOSE}${what}-${Date.now()}`;
  started.push(workflowId);
  return workflowId;
};
const clientEnv = () => ({
  ...cliEnv({ address: w.address, taskQueue: w.taskQueue }),
  AGENT_RUNNER_ENCRYPTION_KEY: clientKey.toString('base64'),
});

describe('client and worker codecs differ', () => {
  it('two keys under one key id: result() rejects with one line (attempts, cause, what to do) instead of waiting forever', async () => {
    await w.startWorker({ AGENT_RUNNER_ENCRYPTION_KEY: workerKey.toString('base64') });
    const run = await runner.start('triage', 'Where is 48810?', { workflowId: id('two-keys') });
    const err = await run.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RunStuckError);
    const line = (err as Error).message;
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(
      new RegExp(`^run ${run.workflowId} is stuck: its workflow task has failed \\d+ time\\(s\\) and is being retried: `),
    );
    expect(line).toContain('cannot decrypt payload with key id "default": authentication failed');
    expect(line).toContain('AGENT_RUNNER_ENCRYPTION_');
    // show says the same, once, and exits non-zero.
    const show = await runCli(clientEnv(), 'show', run.workflowId);
    expect(show.code).toBe(1);
    expect(show.stderr).toMatch(/^error: run .* is stuck: its workflow task has failed \d+ time\(s\)/);
  });

  it('start --wait and watch report the stuck run and exit 1', async () => {
    const workflowId = id('wait');
    const start = await runCli(clientEnv(), 'start', 'triage', 'Where is 48810?', '--id', workflowId, '--wait');
    expect(start.code).toBe(1);
    expect(start.stderr.trim().split('\n')).toHaveLength(1);
    expect(start.stderr).toMatch(/is stuck: its workflow task has failed \d+ time\(s\).*cannot decrypt payload/);
    const watch = await runCli(clientEnv(), 'watch', workflowId);
    expect(watch.code).toBe(1);
    expect(watch.stderr).toMatch(/is stuck: its workflow task has failed/);
  });

  it('a key on the worker only: the run completes, and the client says it cannot read the result and why', async () => {
    const plain = await AgentRunner.connect({ client: w.client, settings: { taskQueue: w.taskQueue, uiUrl: 'http://localhost:8233' } });
    w.fake.script({ kind: 'message', content: [{ type: 'text', text: 'Hello.', citations: null }], stop_reason: 'end_turn' });
    const run = await plain.start('toolbox', 'hi', { workflowId: `key-on-worker-only-${Date.now()}` });
    await expect(run.result()).rejects.toThrow(
      /^cannot decrypt payload: it is encrypted with key id "default" and this process has no AGENT_RUNNER_ENCRYPTION_KEY/,
    );
    expect((await run.temporal.describe()).status.name).toBe('COMPLETED');
  });
});
