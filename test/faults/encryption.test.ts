/**
 * Payload encryption end to end: a worker process and a client sharing an AES-GCM key. The
 * history holds only ciphertext (not even the prompt is readable), the client reads the result,
 * and the codec server decodes what the UI would send it.
 */
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCodecServer } from '../../connection/codec-server.js';
import { codecSettingsFromEnv, dataConverter, payloadCodecs } from '../../connection/codecs.js';
import { AgentRunner } from '../../client/runner.js';
import { triageBrain } from '../../devtools/fake-api/triage-brain.js';
import { startFaultWorld, type FaultWorld } from './world.js';

const KEY_ENV = { AGENT_RUNNER_ENCRYPTION_KEY: randomBytes(32).toString('base64'), AGENT_RUNNER_ENCRYPTION_KEY_ID: 'k1' };

let w: FaultWorld;
let connection: Connection;
beforeAll(async () => {
  w = await startFaultWorld({ fake: { brain: triageBrain } });
  await w.startWorker(KEY_ENV);
  connection = await Connection.connect({ address: w.address });
});
afterAll(async () => {
  await connection?.close();
  await w?.close();
});

it('history holds ciphertext only; the client and the codec server decode it', async () => {
  const settings = codecSettingsFromEnv(KEY_ENV);
  const client = new Client({ connection, dataConverter: dataConverter(settings) });
  const runner = await AgentRunner.connect({ client, settings: { taskQueue: w.taskQueue } });
  const run = await runner.start('triage', 'Where is my secret order 48810?');
  const r = await run.result();
  expect(r).toMatchObject({ status: 'completed', finalText: 'Order 48810 is shipped, estimated delivery 2026-05-24.' });

  const history = await client.workflow.getHandle(run.workflowId).fetchHistory();
  const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  expect(Buffer.from(input?.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
  expect(Buffer.from(input?.metadata?.['encryption-key-id'] ?? []).toString()).toBe('k1');
  const everything = JSON.stringify(history.events, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
  expect(everything).not.toContain('secret order');
  expect(everything).not.toContain('shipped');

  // What the UI sends to the codec server: the payload in proto3 JSON, base64 fields.
  const codec = await startCodecServer({ codecs: payloadCodecs(settings), port: 0 });
  try {
    const res = await fetch(`${codec.url}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: 'http://localhost:8233' },
      body: JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(Object.entries(input?.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
            data: Buffer.from(input?.data ?? []).toString('base64'),
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    const { payloads } = (await res.json()) as { payloads: { data: string }[] };
    expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString())).toEqual({
      agent: 'triage',
      prompt: 'Where is my secret order 48810?',
    });
  } finally {
    await codec.close();
  }
  // A client without the key cannot read the run.
  const keyless = new Client({ connection, dataConverter: dataConverter({ compress: true }) });
  await expect(keyless.workflow.getHandle(run.workflowId).result()).rejects.toThrow();
});
