/**
 * One worker's gate in front of the Messages API. After a 429 with `retry-after`, or a response
 * saying a limit is used up (`anthropic-ratelimit-*-remaining: 0`), the gate holds every model
 * call of every run on this worker until the limit resets, instead of each run retrying into the
 * limit on its own. (Across workers, model calls share the model task queue's server-side rate
 * limit: see worker/create-worker.ts.)
 */
import { MAX_RETRY_AFTER_MS, retryAfterMs } from '../contract/failures.js';

/** The prefix of the API's rate-limit response headers. */
const PREFIX = 'anthropic-ratelimit-';

/** A worker's model-call gate. */
export class RateGate {
  private holdUntil = 0;
  /** Calls held so far, and 429s seen (for the worker's log and the tests). */
  held = 0;
  limited = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** How long a call starting now must wait, in ms. */
  waitMs(): number {
    return Math.max(0, this.holdUntil - this.now());
  }

  /** Wait until the gate opens (it may be held longer meanwhile); rejects when `signal` aborts. */
  async pass(signal: AbortSignal): Promise<void> {
    let counted = false;
    for (let ms = this.waitMs(); ms > 0; ms = this.waitMs()) {
      if (!counted) this.held++;
      counted = true;
      await new Promise<void>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', abort);
        };
        const abort = () => {
          done();
          reject(signal.reason);
        };
        const timer = setTimeout(() => {
          done();
          resolve();
        }, ms);
        if (signal.aborted) abort();
        else signal.addEventListener('abort', abort, { once: true });
      });
    }
  }

  /** Hold every call for `ms` from now (capped at {@link MAX_RETRY_AFTER_MS}). */
  hold(ms: number): void {
    if (!Number.isFinite(ms) || ms <= 0) return;
    this.holdUntil = Math.max(this.holdUntil, this.now() + Math.min(ms, MAX_RETRY_AFTER_MS));
  }

  /** A 429: hold for its `retry-after` (1 s when it gives none). */
  rateLimited(headers: Headers | undefined): void {
    this.limited++;
    this.hold(retryAfterMs(headers) ?? 1_000);
  }

  /** A response's rate-limit headers: a limit used up holds the gate until its reset. */
  observe(headers: Headers | undefined): void {
    if (!headers) return;
    for (const kind of ['requests', 'tokens', 'input-tokens', 'output-tokens']) {
      if (headers.get(`${PREFIX}${kind}-remaining`) !== '0') continue;
      const reset = Date.parse(headers.get(`${PREFIX}${kind}-reset`) ?? '');
      if (Number.isFinite(reset)) this.hold(reset - this.now());
    }
  }
}

/** The `anthropic-ratelimit-*` headers of a response, names without the prefix (what `watch` shows). */
export function rateLimitHeaders(headers: Headers | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name.startsWith(PREFIX) && Object.keys(out).length < 16) out[name.slice(PREFIX.length)] = value.slice(0, 64);
  });
  return Object.keys(out).length > 0 ? out : undefined;
}
