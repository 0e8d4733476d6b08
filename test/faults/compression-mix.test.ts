/**
 * AGENT_RUNNER_COMPRESSION only decides what a process writes: every process reads `binary/gzip`
 * whatever its own setting. A worker process and a client that disagree still read each other's
 * payloads, in both directions (during a rollout that turns compression on or off, say).
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentRunner } from '../../client/runner.js';
import { codecSettingsFromEnv, dataConverter } from '../../connection/codecs.js';
import { triageBrain } from '../../devtools/fake-api/triage-brain.js';
import { startFaultWorld, type FaultWorld } from './world.js';

// Over 1 KiB once serialized (GzipCodec's threshold), so a compressing client compresses the run input too.
const PROMPT = `Where is my order 48810? ${'I have been waiting for a long time and would like to know. '.repeat(20)}`;

describe.each([
  ['on', 'off'],
  ['off', 'on'],
])('a worker with compression %s, a client with compression %s', (workerCompression, clientCompression) => {
  let w: FaultWorld;
  let connection: Connection;
  beforeAll(async () => {
    w = await startFaultWorld({ fake: { brain: triageBrain } });
    await w.startWorker({ AGENT_RUNNER_COMPRESSION: workerCompression });
    connection = await Connection.connect({ address: w.address });
  });
  afterAll(async () => {
    await connection?.close();
    await w?.close();
  });

  it('read each other: the run completes and the client reads its result and history', async () => {
    const settings = codecSettingsFromEnv({ AGENT_RUNNER_COMPRESSION: clientCompression });
    const client = new Client({ connection, dataConverter: dataConverter(settings) });
    const runner = await AgentRunner.connect({ client, settings: { taskQueue: w.taskQueue } });
    const run = await runner.start('triage', PROMPT);
    const result = await Promise.race([
      run.result(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no result in 30 s')), 30_000)),
    ]);
    expect(result).toMatchObject({ status: 'completed', finalText: 'Order 48810 is shipped, estimated delivery 2026-05-24.' });
    // Whoever compresses did compress: the test covers the mixed case it claims to.
    const history = await client.workflow.getHandle(run.workflowId).fetchHistory();
    const encodings = new Set(
      history.events?.flatMap((e) =>
        [
          e.workflowExecutionStartedEventAttributes?.input,
          e.activityTaskCompletedEventAttributes?.result,
          ...Object.values(e.markerRecordedEventAttributes?.details ?? {}), // local activities' results
        ].flatMap((p) => (p?.payloads ?? []).map((x) => Buffer.from(x.metadata?.encoding ?? []).toString())),
      ),
    );
    expect(encodings).toContain('binary/gzip');
    expect(encodings).toContain('json/plain');
    const failedTasks = history.events?.filter((e) => e.workflowTaskFailedEventAttributes) ?? [];
    expect(failedTasks.map((e) => e.workflowTaskFailedEventAttributes?.failure?.message)).toEqual([]);
  });
});
