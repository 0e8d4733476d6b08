/**
 * Traces and metrics from a real worker process during a triage run: spans received by an
 * in-process OTLP/HTTP receiver (Temporal's workflow and activity spans, and a span per model call
 * and per tool call with the GenAI attributes), and the Prometheus endpoint scraped for the
 * runtime's metrics and the agent's.
 */
import { Client, Connection } from '@temporalio/client';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { AgentRunner } from '../client/runner.js';
import { dataConverter } from '../connection/codecs.js';
import { FakeMessagesApi } from '../devtools/fake-api/server.js';
import { triageBrain } from '../devtools/fake-api/triage-brain.js';
import { freePort } from '../scripts/dev-server.js';
import { spawnWorker, type WorkerProcess } from './support/worker-process.js';

const KEY = 'sk-ant-telemetry-test-0000';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: {
    key: string;
    value: { stringValue?: string; intValue?: string | number; arrayValue?: { values: { stringValue?: string }[] } };
  }[];
}

const spans: OtlpSpan[] = [];
let receiver: Server;
let fake: FakeMessagesApi;
let worker: WorkerProcess;
let metricsPort: number;
let connection: Connection;
let runner: AgentRunner;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const msg = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of msg.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  fake = await FakeMessagesApi.start({ apiKey: KEY, brain: triageBrain });
  metricsPort = await freePort();
  const taskQueue = `telemetry-${randomUUID().slice(0, 8)}`;
  worker = spawnWorker({
    address: inject('temporalAddress'),
    taskQueue,
    baseURL: fake.url,
    apiKey: KEY,
    // No prebuilt bundle: the worker bundles the workflows with the tracing interceptors.
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      OTEL_SERVICE_NAME: 'agent-runner-test',
      AGENT_RUNNER_METRICS_PORT: String(metricsPort),
    },
  });
  await worker.ready;
  connection = await Connection.connect({ address: inject('temporalAddress') });
  runner = await AgentRunner.connect({
    client: new Client({ connection, dataConverter: dataConverter() }),
    settings: { taskQueue, uiUrl: 'http://localhost:8233' },
  });
}, 120_000);

afterAll(async () => {
  worker?.kill('SIGTERM');
  await worker?.exited;
  await connection?.close();
  await fake?.close();
  receiver?.close();
});

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : v?.arrayValue?.values.map((x) => x.stringValue));
};

it('a triage run is traced and counted', async () => {
  const run = await runner.start('triage', 'Hi, where are my orders 48810 and 99999?');
  const r = await run.result();
  expect(r.status).toBe('completed');

  // Metrics: the runtime's own and the agent's, with the run's real values.
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const value = (name: string, labels: Record<string, string>) => {
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
    return line ? Number(line.split(' ').at(-1)) : undefined;
  };
  expect(text).toMatch(/^temporal_workflow_completed/m);
  expect(value('agent_runner_turns', { agent: 'triage' })).toBe(2);
  expect(value('agent_runner_runs', { agent: 'triage', status: 'completed' })).toBe(1);
  expect(value('agent_runner_tool_errors', { agent: 'triage', tool: 'get_order_status' })).toBe(1);
  expect(value('agent_runner_tokens', { kind: 'input' })).toBe(r.usage.input_tokens);
  expect(value('agent_runner_tokens', { kind: 'output' })).toBe(r.usage.output_tokens);
  expect(value('agent_runner_model_call_latency_count', { model: 'claude-sonnet-4-6' })).toBe(2);

  // Traces: one trace, with the workflow, its activities, and the GenAI spans inside them.
  // Spans arrive in batches (one a second): the last model call's span ends after both tool
  // spans and may come a batch later, so wait for every span asserted on below.
  const deadline = Date.now() + 15_000;
  const count = (prefix: string) => spans.filter((s) => s.name.startsWith(prefix)).length;
  while ((count('execute_tool') < 2 || count('chat ') < 2 || count('RunWorkflow:') < 1) && Date.now() < deadline)
    await new Promise((res) => setTimeout(res, 200));
  const chats = spans.filter((s) => s.name === 'chat claude-sonnet-4-6');
  const tools = spans.filter((s) => s.name === 'execute_tool get_order_status');
  expect(chats).toHaveLength(2);
  expect(tools).toHaveLength(2);
  expect(spans.some((s) => s.name === 'RunWorkflow:agentRun')).toBe(true);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (const s of [...chats, ...tools])
    expect(byId.get(s.parentSpanId ?? '')?.name ?? 'no parent').toMatch(/^RunActivity:(callModel|runTool)$/);
  expect(new Set(spans.filter((s) => s.traceId === chats[0]!.traceId).map((s) => s.name))).toContain('RunWorkflow:agentRun');
  const first = chats[0]!;
  expect(attr(first, 'gen_ai.provider.name')).toBe('anthropic');
  expect(attr(first, 'gen_ai.system')).toBe('anthropic');
  expect(attr(first, 'gen_ai.request.model')).toBe('claude-sonnet-4-6');
  expect(chats.map((c) => attr(c, 'gen_ai.response.finish_reasons'))).toEqual(expect.arrayContaining([['tool_use'], ['end_turn']]));
  expect(chats.reduce((n, c) => n + Number(attr(c, 'gen_ai.usage.output_tokens')), 0)).toBe(r.usage.output_tokens);
  expect(tools.map((t) => attr(t, 'gen_ai.tool.name'))).toEqual(['get_order_status', 'get_order_status']);
});
