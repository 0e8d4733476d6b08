/**
 * Claude's server tools: an agent declares web search beside (or instead of) its own tools; the
 * tool goes to the API untouched; the paused turn (`pause_turn`) is sent back verbatim and
 * resumed; `server_tool_use`, search results and citations stay byte-identical in the transcript;
 * each search is billed into the ledger; `show` renders it all readably. Scripted from the real
 * block shapes (devtools/fake-api/researcher-brain.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { researcherAgent } from '../agents/researcher/agent.js';
import { AgentRegistry } from '../agents/registry.js';
import { builtInPrices, MODEL_PRICES } from '../contract/prices.js';
import { researcherBrain } from '../devtools/fake-api/researcher-brain.js';
import { asSent } from './support/blocks.js';
import { cliEnv, expectTerminalSafe, runCli } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());
afterEach(() => {
  const problems = [...h.fake.problems];
  h.fake.clear();
  expect(problems).toEqual([]);
});

describe('server tools', () => {
  it('web search: sent untouched, the paused turn resumed verbatim, results and citations kept, searches billed', async () => {
    h.fake.script(researcherBrain, researcherBrain);
    const r = await h.run('researcher', 'How does durable execution keep an agent from losing work?');
    expect(r).toMatchObject({ status: 'completed', stopReason: 'end_turn', turns: 2 });

    // The tool as the agent wrote it, in every request.
    for (const q of h.fake.requests) expect(q.body.tools).toEqual([{ type: 'web_search_20250305', name: 'web_search', max_uses: 5 }]);

    // The paused turn went back as the API sent it: server_tool_use and results byte-identical.
    const paused = r.messages[1]!;
    expect(paused.role).toBe('assistant');
    const types = (paused.content as { type: string }[]).map((b) => b.type);
    expect(types).toEqual(['text', 'server_tool_use', 'web_search_tool_result', 'server_tool_use', 'web_search_tool_result']);
    const resumed = h.fake.requests[1]!.body.messages;
    expect(resumed.at(-1)?.role).toBe('assistant');
    expect(asSent(resumed)).toEqual(asSent(r.messages.slice(0, 2)));

    // The answer's citations, verbatim.
    const answer = r.messages[2]!.content as {
      type: string;
      citations?: { type: string; url: string; encrypted_index: string }[] | null;
    }[];
    const citations = answer.flatMap((b) => b.citations ?? []);
    expect(citations.length).toBeGreaterThan(0);
    expect(citations[0]).toMatchObject({ type: 'web_search_result_location', url: expect.stringMatching(/^https:\/\//) });

    // Two searches reached the ledger, beside the tokens.
    expect(r.cost?.byModel['claude-sonnet-4-6']).toMatchObject({ web_search_requests: 2, calls: 2 });
    expect(r.cost?.usd).toBeGreaterThan(0.02); // the searches alone are $0.02

    // show: the searches, their results and the sources, readable and terminal-safe.
    const shown = await runCli(cliEnv(h), 'show', r.workflowId);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('⚙ server tool web_search {"query":"How does durable execution keep an agent from losing work?"}');
    expect(shown.stdout).toMatch(/← 3 results: Temporal Workflow Execution overview <docs\.temporal\.io>; /);
    expect(shown.stdout).toMatch(/\[1\] .+ — https:\/\/docs\.temporal\.io\//);
    expectTerminalSafe(shown.stdout);
  });

  it('a server tool beside the agent’s own is checked when the worker starts: a bad type or a clash is one line', () => {
    const withType = (type: string) => ({ ...researcherAgent, name: 'r2', tools: [{ type, name: 'web_search' }] });
    expect(() => new AgentRegistry([withType('web_search')])).toThrow(
      'agent "r2", tool "web_search": server tool type "web_search" is not a versioned type such as web_search_20250305',
    );
    const clash = { ...researcherAgent, name: 'r3', tools: [...researcherAgent.tools, { type: 'web_fetch_20250910', name: 'web_search' }] };
    expect(() => new AgentRegistry([clash])).toThrow('agent "r3", tool "web_search": duplicate tool name');
    const config = new AgentRegistry([researcherAgent]).resolve('researcher');
    expect(config.request.tools).toEqual([{ type: 'web_search_20250305', name: 'web_search', max_uses: 5 }]);
    expect(config.tools).toEqual({}); // nothing for the runner to run
  });

  it('web searches are priced at $10 per 1000', () => {
    expect(builtInPrices().serverTools.webSearch).toBe(0.01);
    expect(MODEL_PRICES['claude-sonnet-4-6']).toBeDefined();
  });
});
