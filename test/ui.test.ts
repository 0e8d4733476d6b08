/**
 * Proof in a real browser: the Temporal Web UI served by the dev server shows a triage run's
 * story — the activity summaries, and the compressed result decoded by the codec server — finds
 * runs by their search attributes (awaiting approval; by cost, shown as a column and on the run
 * page; sorting by cost is refused by the dev server's SQLite visibility store), in headless
 * Chromium (Debian's package, driven by playwright-core). Screenshots are saved under
 * .artifacts/ui/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { text, toolUses } from '../devtools/fake-api/replies.js';
import { triageBrain } from '../devtools/fake-api/triage-brain.js';
import { launchChromium } from './support/chromium.js';
import { startHarness, type Harness } from './support/harness.js';

const SHOTS = fileURLToPath(new URL('../.artifacts/ui/', import.meta.url));

let h: Harness;
let browser: Browser;
beforeAll(async () => {
  h = await startHarness();
  browser = await launchChromium();
}, 600_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

it('the run page shows the model and tool activity summaries', async () => {
  h.fake.script(triageBrain, triageBrain);
  const run = await h.runner.start('triage', 'Hi, where are my orders 48810 and 99999?');
  expect((await run.result()).status).toBe('completed');

  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(run.url);
  for (const summary of [
    'claude-sonnet-4-6 · turn 1',
    'claude-sonnet-4-6 · turn 2',
    'get_order_status {"order_id":"48810"}',
    'get_order_status {"order_id":"99999"}',
  ]) {
    await expect(page.getByText(summary).first().waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
  }
  await expect(page.getByText(run.workflowId).first().isVisible()).resolves.toBe(true);
  // The result payload is gzip-compressed in history: the UI shows it only through the codec server.
  await expect(page.getByText('"finalText"').first().waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}triage-run.png`, fullPage: true });
  await page.close();
}, 120_000);

it('a run awaiting approval is found in the UI by its search attribute, its details saying what it waits for', async () => {
  h.fake.script(toolUses([{ name: 'payment', input: { amount: 77 }, id: 'toolu_ui' }]), text('Paid.'));
  const run = await h.runner.start('gatekeeper', 'pay 77 please');
  const deadline = Date.now() + 15_000;
  while ((await h.runner.state(run.workflowId)).pendingApprovals.length === 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const uiBase = run.url.slice(0, run.url.indexOf('/namespaces/'));
  const query = encodeURIComponent(`AgentStatus="awaiting_approval"`);
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${uiBase}/namespaces/default/workflows?query=${query}`);
  await expect(page.getByText(run.workflowId).first().waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}awaiting-approval-list.png`, fullPage: true });
  // The run's page: its current details name the call that waits.
  await page.goto(run.url);
  // The approval's timer is named in the timeline; the current details (User Metadata) say what it waits for.
  await expect(page.getByText('approval: payment (toolu_ui)').first().waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
  await page.getByText('User Metadata').first().click();
  // The UI renders user metadata (markdown) in a sandboxed frame.
  const details = async () => {
    for (const frame of page.frames()) {
      const text = await frame.textContent('body').catch(() => '');
      if (text?.includes('awaiting approval: payment (toolu_ui)')) return true;
    }
    return false;
  };
  const until = Date.now() + 20_000;
  while (!(await details()) && Date.now() < until) await page.waitForTimeout(250);
  expect(await details()).toBe(true);
  await page.screenshot({ path: `${SHOTS}awaiting-approval-run.png`, fullPage: true });
  await page.screenshot({ path: `${SHOTS}awaiting-approval-run.png`, fullPage: true });
  await page.close();
  await h.runner.approve(run.workflowId, { by: 'ui test' });
  expect((await run.result()).status).toBe('completed');
}, 120_000);

it('a sub-agent is a child workflow of its caller: named in the timeline, listed under Relationships, with its own page', async () => {
  h.fake.script(
    toolUses([{ name: 'ask_triage', input: { prompt: 'Where is order 48810?' }, id: 'toolu_ui_child' }]),
    triageBrain,
    triageBrain,
    text('Triage says it shipped.'),
  );
  const r = await h.run('delegator', 'Ask triage about order 48810.');
  expect(r.status).toBe('completed');
  const childId = `${r.workflowId}/toolu_ui_child`;
  const parentUrl = `${inject('temporalUiUrl')}/namespaces/default/workflows/${encodeURIComponent(r.workflowId)}`;

  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(parentUrl);
  // The child's start, with the summary the caller gave it, in the caller's timeline.
  await expect(page.getByText('triage · for delegator (toolu_ui_child)').first().waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
  await page.getByText('Relationships').first().click();
  const child = page.getByText(childId).first();
  await expect(child.waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}sub-agent-relationships.png`, fullPage: true });
  // Its own page: its own history, its prompt as input.
  await page.goto(`${inject('temporalUiUrl')}/namespaces/default/workflows/${encodeURIComponent(childId)}`);
  await expect(page.getByText('"Where is order 48810?"').first().waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
  await expect(page.getByText('claude-sonnet-4-6 · turn 1').first().waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
  await page.close();
}, 120_000);

it('runs are found and shown by cost (AgentCostUsd): the list filtered by cost, the cost as a column and on the run page', async () => {
  // Two triage runs (claude-sonnet-4-6: $3 in, $15 out per million tokens) of very different cost.
  h.fake.script(text('A cheap answer.', { usage: { input_tokens: 1000, output_tokens: 100 } }));
  const cheap = await h.runner.start('triage', 'a cheap question');
  expect((await cheap.result()).cost?.usd).toBeCloseTo(0.0045, 12);
  h.fake.script(text('An expensive answer.', { usage: { input_tokens: 200_000, output_tokens: 2000 } }));
  const pricey = await h.runner.start('triage', 'an expensive question');
  expect((await pricey.result()).cost?.usd).toBeCloseTo(0.63, 12);
  // Both are in the visibility store before the page asks.
  const deadline = Date.now() + 15_000;
  const listed = async () => (await h.runner.list({ agent: 'triage', limit: 100 })).filter((r) => r.costUsd !== null);
  while ((await listed()).filter((r) => [cheap.workflowId, pricey.workflowId].includes(r.workflowId)).length < 2 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));

  const uiBase = pricey.url.slice(0, pricey.url.indexOf('/namespaces/'));
  // Wide enough for the list's default columns and one more.
  const page = await browser.newPage({ viewport: { width: 1920, height: 900 } });
  await page.goto(`${uiBase}/namespaces/default/workflows?query=${encodeURIComponent('AgentCostUsd > 0.1')}`);
  await expect(page.getByText(pricey.workflowId).first().waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
  await expect(page.getByText(cheap.workflowId).count()).resolves.toBe(0);
  // The cost as a column of the list: Configure Columns → add the custom search attribute AgentCostUsd.
  await page.getByTestId('workflows-summary-table-configuration-button').click();
  await page.getByRole('button', { name: 'Add AgentCostUsd column' }).click();
  await page.getByRole('button', { name: 'Close Workflows Table configuration' }).click();
  await page.getByText('Configure Workflows Table').waitFor({ state: 'hidden' });
  const row = page.locator('tr', { hasText: pricey.workflowId });
  await expect(row.getByText('0.63', { exact: true }).waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
  await expect(page.getByRole('columnheader', { name: 'AgentCostUsd' }).count()).resolves.toBe(1);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}cost-list.png`, fullPage: true });

  // Sorting by cost: the dev server's SQLite visibility store refuses every ORDER BY, the UI says so.
  await page.goto(`${uiBase}/namespaces/default/workflows?query=${encodeURIComponent('ORDER BY AgentCostUsd DESC')}`);
  await expect(page.getByText('Error Filtering Workflows').waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
  await expect(page.getByText("invalid query: operation is not supported: 'ORDER BY' clause").count()).resolves.toBe(1);
  await page.screenshot({ path: `${SHOTS}cost-order-by-refused.png`, fullPage: true });
  const sorted = async () => {
    for await (const _ of h.client.workflow.list({ query: 'ORDER BY AgentCostUsd DESC' })) break;
  };
  const refusal = await sorted().then(
    () => undefined,
    (e: Error) => e,
  );
  expect((refusal?.cause as Error | undefined)?.message).toBe(
    "3 INVALID_ARGUMENT: invalid query: operation is not supported: 'ORDER BY' clause",
  );

  // The run page: its Search Attributes tab shows the cost.
  await page.goto(pricey.url);
  await page.getByText('Search Attributes', { exact: true }).first().click();
  await expect(page.getByText('"AgentCostUsd"').first().waitFor({ timeout: 20_000 })).resolves.toBeUndefined();
  const attributes = await page.locator('main').innerText();
  expect(attributes.replace(/\s+/g, ' ')).toContain('"AgentCostUsd": 0.63,');
  await page.screenshot({ path: `${SHOTS}cost-search-attributes.png`, fullPage: true });
  await page.close();
}, 120_000);
