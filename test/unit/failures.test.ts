/** The error table: each SDK error class to retryable or not, and retry-after to nextRetryDelay. */
import { APIConnectionError, APIError, APIUserAbortError, AnthropicError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, modelFailure, ModelNotConfiguredError, retryAfterMs } from '../../contract/failures.js';

const apiError = (status: number, type: string, headers: Record<string, string> = {}) =>
  APIError.generate(
    status,
    { type: 'error', error: { type, message: `${type} happened` } },
    undefined,
    new Headers({ 'request-id': 'req_1', ...headers }),
  );

describe('modelFailure', () => {
  it.each([400, 401, 403, 404, 413, 422])('%i is non-retryable', (status) => {
    const f = modelFailure(apiError(status, 'invalid_request_error'));
    expect(f.nonRetryable).toBe(true);
    expect(f.type).toBe('ModelRequestRejected');
    expect(f.message).toMatch(new RegExp(`^Anthropic API ${status} invalid_request_error: invalid_request_error happened \\(`));
  });

  it.each([408, 409, 429, 500, 502, 503, 529])('%i is retryable', (status) => {
    const f = modelFailure(apiError(status, 'overloaded_error'));
    expect(f.nonRetryable).toBe(false);
    expect(f.type).toBe('ModelTemporarilyUnavailable');
  });

  it('turns retry-after into nextRetryDelay', () => {
    expect(modelFailure(apiError(429, 'rate_limit_error', { 'retry-after': '7' })).nextRetryDelay).toBe(7000);
    expect(modelFailure(apiError(529, 'overloaded_error', { 'retry-after-ms': '250' })).nextRetryDelay).toBe(250);
    expect(modelFailure(apiError(500, 'api_error')).nextRetryDelay).toBeUndefined();
  });

  it('classifies a mid-stream error by its type', () => {
    const overloaded = new APIError(
      undefined,
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      undefined,
      undefined,
    );
    expect(modelFailure(overloaded)).toMatchObject({ nonRetryable: false, message: 'model stream failed: overloaded_error: Overloaded' });
    const invalid = new APIError(
      undefined,
      { type: 'error', error: { type: 'invalid_request_error', message: 'bad' } },
      undefined,
      undefined,
    );
    expect(modelFailure(invalid).nonRetryable).toBe(true);
  });

  it('connection errors, stray aborts and streams that end early are retryable; a missing key is not', () => {
    expect(modelFailure(new APIConnectionError({ message: 'ECONNRESET' })).nonRetryable).toBe(false);
    expect(modelFailure(new APIUserAbortError()).nonRetryable).toBe(false);
    expect(modelFailure(new AnthropicError('request ended without sending any chunks'))).toMatchObject({
      nonRetryable: false,
      type: 'ModelTemporarilyUnavailable',
    });
    const noKey = modelFailure(new ModelNotConfiguredError());
    expect(noKey).toMatchObject({ nonRetryable: true, type: 'ModelNotConfigured' });
    expect(noKey.message).toMatch(/^ANTHROPIC_API_KEY is not set on the worker/);
  });
});

describe('retryAfterMs', () => {
  const h = (o: Record<string, string>) => new Headers(o);
  it('prefers retry-after-ms, reads seconds and HTTP dates, caps, ignores junk', () => {
    expect(retryAfterMs(h({ 'retry-after-ms': '1200', 'retry-after': '9' }))).toBe(1200);
    expect(retryAfterMs(h({ 'retry-after': '3' }))).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(h({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterMs(h({ 'retry-after': '99999' }))).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs(h({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});
