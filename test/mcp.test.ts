/**
 * MCP servers end to end: the real worker and dev server, the real Anthropic SDK against the fake
 * Messages API, and a real MCP server written with the official SDK (test/support/mcp-server.ts)
 * over stdio (started by the worker) and over Streamable HTTP (a process this file starts, kills
 * and restarts).
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { dataConverter } from '../connection/codecs.js';
import { text, toolUses } from '../devtools/fake-api/replies.js';
import { freePort } from '../scripts/dev-server.js';
import { toolResults as results } from './support/blocks.js';
import { decodedHistoryText } from './support/decoded-history.js';
import { startHarness, type Harness } from './support/harness.js';
import { activityEvents } from './support/history.js';
import { mcpAgents, mcpEvents, startHttpMcpServer, waitForMcpEvent, type HttpMcpServer } from './support/mcp.js';

const TOKEN = `mcp-token-${randomUUID()}`;
const LOG = fileURLToPath(new URL(`../.artifacts/mcp-${randomUUID().slice(0, 8)}.jsonl`, import.meta.url));

let h: Harness;
let http: HttpMcpServer;
const httpEnv = { MCP_TEST_LOG: LOG, MCP_TEST_TOKEN: TOKEN };

beforeAll(async () => {
  mkdirSync(fileURLToPath(new URL('../.artifacts/', import.meta.url)), { recursive: true });
  // Read by the worker (this process) when it connects: passed to the stdio server, sent as a header.
  process.env.MCP_TEST_LOG = LOG;
  process.env.MCP_TEST_TOKEN = TOKEN;
  process.env.MCP_TEST_WRONG_TOKEN = 'not-the-token-4711';
  http = await startHttpMcpServer(httpEnv);
  const downUrl = `http://127.0.0.1:${await freePort()}/mcp`;
  h = await startHarness({ agents: mcpAgents(http.url, downUrl) });
});

afterAll(async () => {
  const stdioPids = new Set(
    mcpEvents(LOG)
      .filter((e) => e.tool && e.pid !== http?.child.pid)
      .map((e) => e.pid),
  );
  await h?.close();
  http?.child.kill('SIGKILL');
  // The worker stopped its stdio servers when it shut down.
  await new Promise((r) => setTimeout(r, 500));
  const alive = [...stdioPids].filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
  expect(alive).toEqual([]);
});

afterEach(() => {
  expect(h.fake.problems).toEqual([]);
  expect(h.fake.pending()).toBe(0);
  h.fake.clear();
});

/** The run's history replays against the current workflow code (`UPDATE_GOLDEN=mcp-run` also writes it to test/golden/). */
async function replays(name: string, workflowId: string): Promise<void> {
  const history = await h.history(workflowId);
  await Worker.runReplayHistory(
    { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: dataConverter() },
    history,
    workflowId,
  );
  if (process.env.UPDATE_GOLDEN?.split(',').includes(name)) {
    writeFileSync(fileURLToPath(new URL(`./golden/${name}.json`, import.meta.url)), historyToJSON(history));
  }
}

const toolNames = (i: number) => (h.fake.requests[i]?.body.tools ?? []).map((t) => ('name' in t ? t.name : t.type));

describe('MCP over stdio', () => {
  it('offers the allowed tools and maps their results: text, isError, structured content, images, other blocks', async () => {
    h.fake.script(
      toolUses([
        { name: 'lookup_order', input: { order_id: '48810' }, id: 'toolu_found' },
        { name: 'lookup_order', input: { order_id: '99999' }, id: 'toolu_missing' },
        { name: 'stock_check', input: { sku: 'A1' }, id: 'toolu_stock' },
        { name: 'picture', input: {}, id: 'toolu_picture' },
        { name: 'legacy_lookup', input: { order_id: '48810' }, id: 'toolu_not_allowed' },
      ]),
      text('Order 48810 is shipped.'),
    );
    const r = await h.run('mcp-stdio', 'Where is order 48810?');
    expect(r.status).toBe('completed');

    // The agent's own tool first, then the server's tools the allow-list names, `stock.check` as the API allows it.
    expect(toolNames(0)).toEqual(['take_note', 'lookup_order', 'slow', 'record_key', 'picture', 'stock_check']);
    const lookup = h.fake.requests[0]?.body.tools?.find((t) => 'name' in t && t.name === 'lookup_order');
    expect(lookup).toEqual({
      name: 'lookup_order',
      description: 'Look up the status of a customer order by its id.',
      input_schema: {
        type: 'object',
        properties: { order_id: { type: 'string', description: 'The order id, e.g. "48810"' } },
        required: ['order_id'],
      },
    });

    const [found, missing, stock, picture, notAllowed] = results(r.messages[2]);
    expect(JSON.parse(String(found?.content))).toEqual({ order_id: '48810', status: 'shipped', estimated_delivery: '2026-05-24' });
    expect(found?.is_error).toBeUndefined();
    expect(missing).toMatchObject({ tool_use_id: 'toolu_missing', is_error: true, content: 'No order with id 99999 was found.' });
    expect(stock?.content).toBe('{"sku":"A1","units":7}');
    expect(picture?.content).toEqual([
      { type: 'text', text: 'A tiny picture:' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: expect.stringMatching(/^iVBOR/) as string } },
      { type: 'text', text: '{"type":"resource","resource":{"uri":"memo://note","mimeType":"text/plain","text":"a note"}}' },
    ]);
    // Not offered, not called: the workflow answers it like any unknown tool.
    expect(notAllowed).toMatchObject({ is_error: true });
    expect(String(notAllowed?.content)).toMatch(/^Unknown tool "legacy_lookup"\. Available tools: take_note, lookup_order, /);

    // Each call is a runTool activity with its summary; the server got the call's idempotency key.
    const tools = (await activityEvents(h.client, r.workflowId)).filter((e) => e.activityType === 'runTool');
    expect(tools.map((e) => e.summary)).toEqual([
      'lookup_order {"order_id":"48810"}',
      'lookup_order {"order_id":"99999"}',
      'stock_check {"sku":"A1"}',
      'picture {}',
    ]);
    const keys = mcpEvents(LOG)
      .filter((e) => e.tool === 'lookup_order' && e.key?.startsWith(`${r.workflowId}/`))
      .map((e) => e.key);
    expect(keys.sort()).toEqual([`${r.workflowId}/toolu_found`, `${r.workflowId}/toolu_missing`]);

    // The run's configuration in history names each MCP tool's origin.
    const { decoded } = await decodedHistoryText(h.client, r.workflowId);
    expect(decoded).toContain('"stock_check":{');
    expect(decoded).toMatch(/"mcp":\{"server":"orders","tool":"stock\.check"\}/);
    await replays('mcp-run', r.workflowId);
  });

  it('keeps the tools it started with when the server changes its list mid-run', async () => {
    h.fake.script(
      toolUses([{ name: 'retire_legacy', input: {} }]),
      toolUses([{ name: 'legacy_lookup', input: { order_id: '48810' }, id: 'toolu_legacy' }]),
      text('done'),
    );
    const first = await h.run('mcp-catalog', 'retire the old lookup, then use it');
    expect(first.status).toBe('completed');
    await waitForMcpEvent(LOG, (e) => e.event === 'retired', 'retired');
    // Three model calls, one tool list: the one resolved when the run started.
    expect(toolNames(0)).toContain('legacy_lookup');
    expect(toolNames(0)).not.toContain('lookup_order_v2');
    expect(toolNames(1)).toEqual(toolNames(0));
    expect(toolNames(2)).toEqual(toolNames(0));
    // The tool is still offered to the model; the server, which no longer has it, says so.
    const [legacy] = results(first.messages[4]);
    expect(legacy).toMatchObject({ tool_use_id: 'toolu_legacy', is_error: true });
    expect(String(legacy?.content)).toMatch(/legacy_lookup not found/);

    // A run started now gets the server's new list.
    h.fake.clear();
    h.fake.script(text('ok'));
    await h.run('mcp-catalog', 'which tools now?');
    expect(toolNames(0)).toContain('lookup_order_v2');
    expect(toolNames(0)).not.toContain('legacy_lookup');
  });

  it('a server killed mid-call: the call is retried on a new server process with the same idempotency key', async () => {
    h.fake.script(toolUses([{ name: 'slow', input: { ms: 1500 }, id: 'toolu_slow' }]), text('done'));
    const run = await h.runner.start('mcp-stdio', 'slow, please');
    const key = `${run.workflowId}/toolu_slow`;
    const started = await waitForMcpEvent(LOG, (e) => e.event === 'start' && e.key === key, 'slow started');
    const killedAt = Date.now();
    process.kill(started.pid, 'SIGKILL');
    const r = await run.result();
    const again = mcpEvents(LOG).find((e) => e.event === 'start' && e.key === key && e.pid !== started.pid);
    console.log(
      `stdio server killed mid-call: call restarted on a new process after ${(again?.at ?? NaN) - killedAt} ms, run completed after ${Date.now() - killedAt} ms`,
    );

    expect(r.status).toBe('completed');
    expect(results(r.messages[2])[0]).toMatchObject({ content: 'slept 1500 ms' });
    const starts = mcpEvents(LOG).filter((e) => e.event === 'start' && e.key === key);
    expect(starts).toHaveLength(2);
    expect(starts[1]?.pid).not.toBe(started.pid);
    const tool = (await activityEvents(h.client, r.workflowId)).find((e) => e.activityType === 'runTool');
    expect(tool).toMatchObject({ outcome: 'completed', attempt: 2 });
  });

  it('cancelling the run cancels the call on the server (notifications/cancelled)', async () => {
    h.fake.script(toolUses([{ name: 'slow', input: { ms: 60_000 }, id: 'toolu_long' }]));
    const run = await h.runner.start('mcp-stdio', 'wait a minute');
    const key = `${run.workflowId}/toolu_long`;
    await waitForMcpEvent(LOG, (e) => e.event === 'start' && e.key === key, 'slow started');
    const cancelledAt = Date.now();
    await h.runner.cancel(run.workflowId, 'user left');
    const r = await run.result();
    expect(r.status).toBe('cancelled');
    expect(results(r.messages[2])[0]).toMatchObject({
      is_error: true,
      content: 'Tool slow was cancelled: the run was cancelled before it finished.',
    });
    // The server's handler saw its AbortSignal fire, about one heartbeat after the cancel.
    const stopped = await waitForMcpEvent(LOG, (e) => e.event === 'cancelled' && e.key === key, 'slow cancelled', 10_000);
    console.log(`cancel → the server's handler aborted: ${stopped.at - cancelledAt} ms`);
    expect(mcpEvents(LOG).some((e) => e.event === 'done' && e.key === key)).toBe(false);
  });
});

describe('MCP over Streamable HTTP', () => {
  it('prefixes every tool, sends the header from the environment and the idempotency key, and keeps the token out of history', async () => {
    h.fake.script(
      toolUses([
        { name: 'orders_lookup_order', input: { order_id: '60042' } },
        { name: 'orders_record_key', input: {}, id: 'toolu_key' },
      ]),
      text('Order 60042 is processing.'),
    );
    const r = await h.run('mcp-http', 'Where is order 60042?');
    expect(r.status).toBe('completed');
    expect(toolNames(0)).toEqual([
      'orders_lookup_order',
      'orders_slow',
      'orders_record_key',
      'orders_picture',
      'orders_stock_check',
      'orders_legacy_lookup',
      'orders_retire_legacy',
    ]);
    const [order, key] = results(r.messages[2]);
    expect(JSON.parse(String(order?.content))).toMatchObject({ order_id: '60042', status: 'processing' });
    expect(key?.content).toBe(`key: ${r.workflowId}/toolu_key`);

    const { raw, decoded } = await decodedHistoryText(h.client, r.workflowId);
    expect(decoded).toContain('orders_record_key');
    expect(raw).not.toContain(TOKEN);
    expect(decoded).not.toContain(TOKEN);
  });

  it('a server killed mid-call and restarted: the call is retried on a new session with the same idempotency key', async () => {
    h.fake.script(toolUses([{ name: 'orders_slow', input: { ms: 1500 }, id: 'toolu_http_slow' }]), text('done'));
    const run = await h.runner.start('mcp-http', 'slow, please');
    const key = `${run.workflowId}/toolu_http_slow`;
    await waitForMcpEvent(LOG, (e) => e.event === 'start' && e.key === key, 'slow started');
    const killedPid = http.child.pid;
    const killedAt = Date.now();
    http.child.kill('SIGKILL');
    await http.exited;
    http = await startHttpMcpServer(httpEnv, http.port);
    const upAt = Date.now();
    const r = await run.result();
    const again = mcpEvents(LOG).find((e) => e.event === 'start' && e.key === key && e.pid === http.child.pid);
    console.log(
      `HTTP server killed mid-call: back up after ${upAt - killedAt} ms, call restarted after ${(again?.at ?? NaN) - killedAt} ms, run completed after ${Date.now() - killedAt} ms`,
    );

    expect(r.status).toBe('completed');
    expect(results(r.messages[2])[0]).toMatchObject({ content: 'slept 1500 ms' });
    const starts = mcpEvents(LOG).filter((e) => e.event === 'start' && e.key === key);
    expect(starts.map((e) => e.pid)).toEqual([killedPid, http.child.pid]);
    const tool = (await activityEvents(h.client, r.workflowId)).find((e) => e.activityType === 'runTool');
    expect(tool?.outcome).toBe('completed');
    expect(tool?.attempt).toBeGreaterThanOrEqual(2);
    await replays('mcp-http-crash-run', r.workflowId);
  });
});

describe('MCP servers that cannot be used', () => {
  it('a server unreachable when the run starts: resolution is retried, then the run fails with one line naming it', async () => {
    const started = Date.now();
    const r = await h.run('mcp-down', 'hi');
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(
      /^MCP server "down" of agent "mcp-down" could not be reached \(fetch failed: .*ECONNREFUSED.*\): start the server, or fix its command or url in the agent definition$/,
    );
    expect(r.error).not.toContain('\n');
    expect(h.fake.requests).toHaveLength(0); // no model call
    console.log(`unreachable MCP server: run failed after ${Date.now() - started} ms`);
  });

  it('a header whose environment variable is unset: the run fails at once, naming the variable', async () => {
    const r = await h.run('mcp-noenv', 'hi');
    expect(r.status).toBe('failed');
    expect(r.error).toBe(
      'MCP server "orders" of agent "mcp-noenv": header Authorization needs the environment variable MCP_TEST_UNSET_VARIABLE, which is not set on the worker: ' +
        "fix the agent's mcpServers definition or the worker's environment, and restart the worker",
    );
    expect(h.fake.requests).toHaveLength(0);
  });

  it('credentials the server refuses (401): the run fails at once, and the token is not in the line', async () => {
    const before = mcpEvents(LOG).filter((e) => e.event === 'unauthorized').length;
    const r = await h.run('mcp-badtoken', 'hi');
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/^MCP server "orders" of agent "mcp-badtoken": the server refused the credentials \(HTTP 401\)/);
    expect(r.error).not.toContain('not-the-token-4711');
    // Not retried: the server saw one attempt.
    expect(mcpEvents(LOG).filter((e) => e.event === 'unauthorized')).toHaveLength(before + 1);
  });
});
