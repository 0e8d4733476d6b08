/**
 * Waiting for people with a deadline: `condition(fn, timeout)` with a timer the Temporal UI can
 * name (the summary says what it waits for). Costs nothing while it waits: one timer, no polling.
 */
import { CancellationScope, condition, sleep } from '@temporalio/workflow';

/**
 * Resolve true once `fn()` holds, false when `ms` pass first. The timer is cancelled as soon as
 * `fn()` holds; a cancelled run's wait throws its cancellation.
 */
export async function waitUntil(fn: () => boolean, ms: number, summary: string): Promise<boolean> {
  let timedOut = false;
  const timerScope = new CancellationScope();
  const timer = timerScope
    .run(() => sleep(Math.max(1, ms), { summary }))
    .then(() => {
      timedOut = true;
    });
  timer.catch(() => undefined); // cancelled when `fn()` holds first, or with the run
  await condition(() => fn() || timedOut);
  if (!timedOut) timerScope.cancel();
  return !timedOut;
}
