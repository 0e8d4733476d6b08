/**
 * One account-wide rate limit for the model calls of all runs: 50 runs at once against a fake API
 * that allows 10 requests a second. With the model calls on their own task queue, rate-limited
 * by the server at 8 a second, every run completes and (almost) no request meets a 429. Without
 * that limit, the worker's gate alone still gets every run through: after a 429 it holds every
 * call instead of letting each run retry into the limit.
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
  it('50 runs, the model queue limited to 8/s by the server against an API allowing 10/s: all complete, at most 2 are refused', async () => {
    h = await startHarness({
      fake: { brain: () => text('ok'), rateLimit: { requestsPerSecond: 10 } },
      modelQueue: { requestsPerSecond: 8 },
    });
    const { ms, statuses } = await fiftyRuns(h);
    expect(statuses).toEqual(Array(RUNS).fill('completed'));
    expect(h.fake.rateLimited).toBeLessThanOrEqual(2);
    // Every model call went through the model queue's worker: the rate limit really applied (≥ 50 / 8 s).
    expect(ms).toBeGreaterThanOrEqual(((RUNS - 8) / 8) * 1000);
    console.log(
      `rate limits: shared limit 8/s: ${RUNS} runs in ${(ms / 1000).toFixed(1)} s, ${h.fake.rateLimited} requests refused with 429`,
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
