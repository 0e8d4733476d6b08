/**
 * One worker's gate in front of the Messages API. After a 429 with `retry-after`, or a response
 * saying a limit is used up (`anthropic-ratelimit-*-remaining: 0`), the gate holds every model
 * call of every run on this worker until the limit resets, instead of each run retrying into the
 * limit on its own. Between those, it paces calls by the request quota the last response
 * reported: each call takes one of the `requests-remaining`, and when none are left the next
 * waits for the reset (then the quota is the whole `requests-limit` again). (Across workers, model
 * calls share the model task queue's server-side rate limit: see worker/create-worker.ts.)
 */
import { MAX_RETRY_AFTER_MS, retryAfterMs } from '../contract/failures.js';

/** The prefix of the API's rate-limit response headers. */
const PREFIX = 'anthropic-ratelimit-';

/** A worker's model-call gate. */
export class RateGate {
  private holdUntil = 0;
  /** The request quota as the last response told it: the limit, what is left, when it is whole again. */
  private limit: number | undefined;
  private remaining: number | undefined;
  private resetAt: number | undefined;
  /** Calls held so far, and 429s seen (for the worker's log and the tests). */
  held = 0;
  limited = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** How long a call starting now must wait, in ms. */
  waitMs(): number {
    return Math.max(0, this.holdUntil - this.now());
  }

  /** Wait until the gate opens and the quota has a request left (taking it); rejects when `signal` aborts. */
  async pass(signal: AbortSignal): Promise<void> {
    let counted = false;
    for (let ms = this.nextWaitMs(); ms > 0; ms = this.nextWaitMs()) {
      if (!counted) this.held++;
      counted = true;
      await sleep(ms, signal);
    }
  }

  /** 0 when a call may start now (its request then taken from the quota), else how long to wait first. */
  private nextWaitMs(): number {
    const held = this.waitMs();
    if (held > 0) return held;
    if (this.remaining === undefined) return 0;
    const now = this.now();
    if (this.resetAt !== undefined && now >= this.resetAt) {
      this.remaining = this.limit;
      this.resetAt = undefined;
      if (this.remaining === undefined) return 0;
    }
    if (this.remaining > 0) {
      this.remaining--;
      return 0;
    }
    // None left: wait for the reset, or (reset unknown) briefly for a response that tells more.
    if (this.resetAt !== undefined) return Math.min(this.resetAt - now, MAX_RETRY_AFTER_MS);
    this.remaining = 1; // after this wait, one call probes
    return 250;
  }

  /** Hold every call for `ms` from now (capped at {@link MAX_RETRY_AFTER_MS}). */
  hold(ms: number): void {
    if (!Number.isFinite(ms) || ms <= 0) return;
    this.holdUntil = Math.max(this.holdUntil, this.now() + Math.min(ms, MAX_RETRY_AFTER_MS));
  }

  /** A 429: hold for its `retry-after` (1 s when it gives none). */
  rateLimited(headers: Headers | undefined): void {
    this.limited++;
    const ms = retryAfterMs(headers) ?? 1_000;
    this.hold(ms);
    this.remaining = 0;
    this.resetAt = this.now() + ms;
    this.observeLimit(headers);
  }

  /** A response's rate-limit headers: the request quota paces calls; a limit used up holds the gate until its reset. */
  observe(headers: Headers | undefined): void {
    if (!headers) return;
    this.observeLimit(headers);
    const left = Number(headers.get(`${PREFIX}requests-remaining`) ?? NaN);
    if (Number.isInteger(left) && left >= 0) {
      this.remaining = left;
      const reset = Date.parse(headers.get(`${PREFIX}requests-reset`) ?? '');
      this.resetAt = Number.isFinite(reset) ? reset : undefined;
    }
    for (const kind of ['tokens', 'input-tokens', 'output-tokens']) {
      if (headers.get(`${PREFIX}${kind}-remaining`) !== '0') continue;
      const reset = Date.parse(headers.get(`${PREFIX}${kind}-reset`) ?? '');
      if (Number.isFinite(reset)) this.hold(reset - this.now());
    }
  }

  private observeLimit(headers: Headers | undefined): void {
    const limit = Number(headers?.get(`${PREFIX}requests-limit`) ?? NaN);
    if (Number.isInteger(limit) && limit > 0) this.limit = limit;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
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

/** The `anthropic-ratelimit-*` headers of a response, names without the prefix (what `watch` shows). */
export function rateLimitHeaders(headers: Headers | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name.startsWith(PREFIX) && Object.keys(out).length < 16) out[name.slice(PREFIX.length)] = value.slice(0, 64);
  });
  return Object.keys(out).length > 0 ? out : undefined;
}
