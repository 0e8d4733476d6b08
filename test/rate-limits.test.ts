/**
 * One account-wide rate limit for the model calls of all runs: 50 runs at once against a fake API
 * that allows 10 requests a second. With the model calls on their own task queue, rate-limited
 * by the server at 8 a second, every run completes and only a few requests meet a 429: Temporal's
 * matching service lets each second's tasks out in a burst at the start of the second (the first
 * one larger), so the first two bursts can fall into one of the API's sliding one-second windows
 * (and now and then a later burst meets the retries). Without that limit, the worker's gate alone
 * still gets every run through: after a 429 it holds every call instead of letting each run retry
 * into the limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { text } from '../devtools/fake-api/replies.js';
import { startHarness, type Harness } from './support/harness.js';

const RUNS = 50;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function fiftyRuns(harness: Harness): Promise<{ ms: number; statuses: string[] }> {
  const started = Date.now();
  const runs = await Promise.all(Array.from({ length: RUNS }, (_, i) => harness.runner.start('toolbox', `question ${i}`)));
  const results = await Promise.all(runs.map((r) => r.result()));
  return { ms: Date.now() - started, statuses: results.map((r) => r.status) };
}

describe('model calls under one account-wide rate limit', () => {
  it('50 runs, the model queue limited to 8/s by the server against an API allowing 10/s: all complete, a few refused at the start', async () => {
    h = await startHarness({
      fake: { brain: () => text('ok'), rateLimit: { requestsPerSecond: 10 } },
      modelQueue: { requestsPerSecond: 8 },
    });
    const { ms, statuses } = await fiftyRuns(h);
    expect(statuses).toEqual(Array(RUNS).fill('completed'));
    // A few: 1–10 in 19 runs on the shared 2-core machine, most where the first two bursts meet
    // (~0.3–1.1 s), some where the gate lets the held retries go at once (~2.5 s). The gate alone: 28–45.
    const first = h.fake.requests[0]!.receivedAt;
    const at = h.fake.rateLimitedAt.map((t) => `${((t - first) / 1000).toFixed(2)} s`);
    expect(h.fake.rateLimited).toBeLessThanOrEqual(15);
    // Every model call went through the model queue's worker: the rate limit really applied (≥ 50 / 8 s).
    expect(ms).toBeGreaterThanOrEqual(((RUNS - 8) / 8) * 1000);
    console.log(
      `rate limits: shared limit 8/s: ${RUNS} runs in ${(ms / 1000).toFixed(1)} s, ${h.fake.rateLimited} requests refused with 429${at.length ? ` (at ${at.join(', ')})` : ''}`,
    );
  });

  it('without the shared limit, the worker gate holds calls after a 429: all 50 complete', async () => {
    h = await startHarness({ fake: { brain: () => text('ok'), rateLimit: { requestsPerSecond: 10 } } });
    const { ms, statuses } = await fiftyRuns(h);
    expect(statuses).toEqual(Array(RUNS).fill('completed'));
    // The first burst, sent before any response told the quota, meets 429s (about 40 of 50); after
    // that the gate paces the retries by the quota: no run is refused twice on average.
    expect(h.fake.rateLimited).toBeGreaterThan(0);
    expect(h.fake.rateLimited).toBeLessThanOrEqual(RUNS);
    console.log(`rate limits: gate only: ${RUNS} runs in ${(ms / 1000).toFixed(1)} s, ${h.fake.rateLimited} requests refused with 429`);
  });
});
