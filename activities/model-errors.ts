/**
 * The one table that turns Anthropic SDK errors into Temporal failures.
 *
 * Temporal owns retries (the client has `maxRetries: 0`), so every error leaves the model
 * activity as an `ApplicationFailure` whose `nonRetryable` flag and `nextRetryDelay` decide what
 * Temporal does next. Messages are one line and say what to do; they never contain the API key.
 */
import {
  AnthropicError,
  APIConnectionError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../workflows/types.js';

/** `retry-after` hints above this are capped, so one header cannot park a run for hours. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

interface Rule {
  retryable: boolean;
  hint: string;
}

/** HTTP status → what it means for the run. Statuses not listed: 5xx retryable, other 4xx fatal. */
const BY_STATUS: Record<number, Rule> = {
  400: { retryable: false, hint: 'the request was invalid; fix the agent definition or the conversation' },
  401: { retryable: false, hint: 'the API key was rejected; check ANTHROPIC_API_KEY on the worker' },
  402: { retryable: false, hint: 'billing problem on the Anthropic account' },
  403: { retryable: false, hint: 'the API key may not use this model or feature' },
  404: { retryable: false, hint: 'not found; check the model name and ANTHROPIC_BASE_URL' },
  408: { retryable: true, hint: 'request timed out' },
  409: { retryable: true, hint: 'conflict' },
  413: { retryable: false, hint: 'the request is too large; shorten the conversation or tool results' },
  422: { retryable: false, hint: 'the request could not be processed; fix the request' },
  429: { retryable: true, hint: 'rate limited' },
  529: { retryable: true, hint: 'the API is overloaded' },
};

/** Error `type`s that arrive inside an SSE stream (status undefined) and are worth another attempt. */
const RETRYABLE_STREAM_TYPES = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error']);

/** Convert anything thrown by the SDK into an `ApplicationFailure` (never throws itself). */
export function toModelFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof APIUserAbortError) {
    // Aborted without the activity being cancelled: e.g. our own stall guard. Try again.
    return retryable(`model request aborted: ${oneLine(err.message)}`, err);
  }
  if (err instanceof APIConnectionError) {
    return retryable(`could not reach the Anthropic API (${oneLine(err.message)})`, err);
  }
  if (err instanceof APIError) {
    const requestId = err.requestID ?? undefined;
    const details = [{ status: err.status ?? null, type: err.type ?? null, requestId: requestId ?? null }];
    if (err.status === undefined) {
      // An `event: error` in the middle of a stream: classify by the body's type.
      const ok = RETRYABLE_STREAM_TYPES.has(err.type ?? '');
      const msg = `model stream failed: ${err.type ?? 'error'}: ${oneLine(err.apiMessage ?? err.message)}`;
      return ok
        ? ApplicationFailure.create({ type: FailureTypes.modelRetryable, message: msg, details, cause: err })
        : ApplicationFailure.create({ type: FailureTypes.modelFatal, nonRetryable: true, message: msg, details, cause: err });
    }
    const rule = BY_STATUS[err.status] ?? { retryable: err.status >= 500, hint: err.status >= 500 ? 'server error' : 'request rejected' };
    const message = `Anthropic API ${err.status} ${err.type ?? ''}: ${oneLine(err.apiMessage ?? err.message)} (${rule.hint})`.replace('  ', ' ');
    if (!rule.retryable) {
      return ApplicationFailure.create({ type: FailureTypes.modelFatal, nonRetryable: true, message, details, cause: err });
    }
    const delay = retryAfterMs(err.headers);
    return ApplicationFailure.create({
      type: FailureTypes.modelRetryable,
      message,
      details,
      cause: err,
      ...(delay !== undefined && { nextRetryDelay: delay }),
    });
  }
  if (err instanceof AnthropicError && /api[_ ]?key|authentication/i.test(err.message)) {
    return ApplicationFailure.create({
      type: FailureTypes.modelConfig,
      nonRetryable: true,
      message: 'ANTHROPIC_API_KEY is not set on the worker: set it (or ANTHROPIC_BASE_URL for a local server) and restart the worker',
    });
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return retryable(`model call failed: ${oneLine(e.message)}`, e);
}

function retryable(message: string, cause: Error): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureTypes.modelRetryable, message, cause });
}

/** `retry-after-ms` (milliseconds) wins over `retry-after` (seconds or an HTTP date); capped. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  let ms: number | undefined;
  const msHeader = headers.get('retry-after-ms');
  if (msHeader && Number.isFinite(Number(msHeader))) ms = Number(msHeader);
  const header = headers.get('retry-after');
  if (ms === undefined && header) {
    const secs = Number(header);
    if (Number.isFinite(secs)) ms = secs * 1000;
    else {
      const at = Date.parse(header);
      if (!Number.isNaN(at)) ms = at - now;
    }
  }
  if (ms === undefined || ms < 0) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
