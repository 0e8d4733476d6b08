/**
 * The model activity: one Messages API call, streamed.
 *
 * Liveness and stall detection are separate. The activity heartbeats every second while its
 * worker is alive (a crashed worker's call is retried elsewhere after the short heartbeat
 * timeout), and a watchdog aborts a stream that has sent no bytes — events or SSE pings — for the
 * stall timeout, failing the attempt so Temporal retries it. The activity's cancellation signal is
 * passed to the SDK, so cancelling the run aborts the HTTP request at once.
 *
 * What comes back is checked before the loop acts on it: token counters are coerced to integers,
 * and a `tool_use` reply whose tool input did not arrive whole (a stream cut inside the JSON) or
 * that repeats a `tool_use` id is a failed attempt — no tool ever runs on a half-read input.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { Context } from '@temporalio/activity';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { PROGRESS_TEXT_CHARS, type ModelCallInput, type ModelCallResult, type ModelProgress } from '../contract/activities.js';
import { DEFAULT_MODEL_POLICY } from '../contract/config.js';
import { modelFailure, ModelNotConfiguredError, ModelOutputInvalidError } from '../contract/failures.js';
import type { Message, Usage } from '../contract/messages.js';
import { addBilled, billedTokens, billedUsage, noBilledUsage, type BilledUsage } from '../contract/prices.js';
import { tokenCount } from '../contract/run.js';
import { withCacheBreakpoints } from './cache-control.js';
import { RateGate, rateLimitHeaders } from './rate-gate.js';
import { endModelSpan, failSpan, startModelSpan, withSpan } from './telemetry.js';

/** A model call sends no heartbeat before it has run this long (see callModel). */
export const FIRST_HEARTBEAT_MS = 1_000;

/** `fetch` whose response bodies call `onBytes` for every chunk received. */
function tappedFetch(onBytes: () => void): typeof fetch {
  return async (url, init) => {
    const res = await fetch(url, init);
    if (!res.body) return res;
    const body = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          onBytes();
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/** Builds the `callModel` activity around a client factory (clients are built with `maxRetries: 0`). */
export function createModelActivity(
  getClient: (fetchImpl: typeof fetch) => Anthropic,
  redact: (text: string) => string,
  gate: RateGate = new RateGate(),
) {
  return {
    /** One model call; see the module comment. */
    async callModel(input: ModelCallInput): Promise<ModelCallResult> {
      const ctx = Context.current();
      const progress: ModelProgress = { phase: 'waiting', outputTokens: 0, events: 0 };
      const stallMs = msToNumber(input.stallTimeout ?? DEFAULT_MODEL_POLICY.stallTimeout);
      let streamedChars = 0;
      let lastBytesAt = Date.now();
      let stalled = false;
      const stall = new AbortController();
      // Every heartbeat is a server call and a write of the run's state, so a call that finishes
      // within the first second (most do at low latency) sends none: heartbeats start once the
      // call has run FIRST_HEARTBEAT_MS (or a third of a shorter heartbeat timeout). Liveness is
      // unchanged: a dead worker's call still times out after the heartbeat timeout; cancellation
      // still arrives with the first heartbeat's response (heartbeats are throttled to 1 s anyway).
      const startedAt = Date.now();
      const firstBeatAfter = Math.min(FIRST_HEARTBEAT_MS, (ctx.info.heartbeatTimeoutMs || Infinity) / 3);
      // A local activity cannot heartbeat (the workflow task's own timeout covers it).
      const beat = () => {
        if (!ctx.info.isLocal && Date.now() - startedAt >= firstBeatAfter) ctx.heartbeat(progress);
      };
      // Liveness: one heartbeat a second (the worker throttles to that), whatever the stream does.
      const alive = setInterval(beat, Math.min(1_000, firstBeatAfter));
      // Stalls: once the response has started, a stream silent for stallMs is aborted. (Until the
      // headers arrive, the SDK's request timeout bounds the wait.)
      const watchdog = setInterval(
        () => {
          if (progress.phase === 'streaming' && Date.now() - lastBytesAt > stallMs) {
            stalled = true;
            stall.abort();
          }
        },
        Math.max(50, Math.min(1_000, stallMs / 4)),
      );
      const rawToolInput = new Map<number, string>();
      // Billing of failed attempts: what earlier attempts were billed comes with the last
      // heartbeat; this attempt's usage so far is added as the stream reports it.
      const prior = priorBilled(ctx.info.heartbeatDetails);
      const usageSoFar: Record<string, unknown> = {};
      const billedNow = (): BilledUsage => billedUsage(usageSoFar);
      const billed = () => {
        const mine = billedNow();
        return billedTokens(mine) > 0 ? { attempts: prior.attempts + 1, usage: addBilled(prior.usage, mine) } : prior;
      };
      if (prior.attempts > 0) progress.billed = prior;
      const request = input.cacheTtl ? withCacheBreakpoints(input.request, input.cacheTtl) : input.request;
      const span = startModelSpan(input.request);
      let responseHeaders: Headers | undefined;
      try {
        // A rate limit this worker has seen holds the call here (heartbeats go on meanwhile).
        await gate.pass(ctx.cancellationSignal);
        const client = getClient(
          tappedFetch(() => {
            lastBytesAt = Date.now(); // any byte on the wire (an SSE ping too) proves the stream alive
          }),
        );
        // No credential of any kind: a configuration fact, known before any request is made.
        if (!client.apiKey && !client.authToken && !client.credentials) throw new ModelNotConfiguredError();
        const signal = AbortSignal.any([ctx.cancellationSignal, stall.signal]);
        const stream = withSpan(span, () => client.messages.stream(request, { signal }));
        stream.on('connect', () => {
          responseHeaders = stream.response?.headers;
          gate.observe(responseHeaders);
          progress.phase = 'streaming';
          lastBytesAt = Date.now();
          beat();
        });
        stream.on('streamEvent', (event) => {
          progress.events++;
          if (event.type === 'message_start' || event.type === 'message_delta') {
            // message_delta's counters are cumulative; the ones it leaves null keep message_start's.
            const u = (event.type === 'message_start' ? event.message.usage : event.usage) as unknown as Record<string, unknown>;
            for (const [k, v] of Object.entries(u ?? {})) if (v !== null && v !== undefined) usageSoFar[k] = v;
            const b = billed();
            if (b.attempts > 0) progress.billed = b;
          }
          if (
            event.type === 'content_block_start' &&
            (event.content_block.type === 'tool_use' || event.content_block.type === 'server_tool_use')
          ) {
            rawToolInput.set(event.index, '');
          } else if (event.type === 'content_block_delta') {
            const d = event.delta;
            if (d.type === 'input_json_delta') rawToolInput.set(event.index, (rawToolInput.get(event.index) ?? '') + d.partial_json);
            if (d.type === 'text_delta') {
              // The live text: a bounded tail, so a heartbeat stays small whatever the answer's length.
              progress.text = ((progress.text ?? '') + d.text).slice(-PROGRESS_TEXT_CHARS);
              progress.textChars = (progress.textChars ?? 0) + d.text.length;
            }
            streamedChars +=
              d.type === 'text_delta'
                ? d.text.length
                : d.type === 'input_json_delta'
                  ? d.partial_json.length
                  : d.type === 'thinking_delta'
                    ? d.thinking.length
                    : 0;
            progress.outputTokens = Math.max(progress.outputTokens, Math.ceil(streamedChars / 4));
          } else if (event.type === 'message_delta') {
            progress.outputTokens = tokenCount(event.usage.output_tokens);
          }
          beat();
        });
        const message = await stream.finalMessage();
        if (message.stop_reason === 'tool_use') checkToolUses(message, rawToolInput);
        const checked = { ...message, usage: checkedUsage(message.usage) };
        endModelSpan(span, checked, startedAt);
        const rateLimit = rateLimitHeaders(responseHeaders);
        return {
          message: checked,
          ...(prior.attempts > 0 && { failedAttempts: prior }),
          ...(rateLimit && { rateLimit }),
        };
      } catch (err) {
        // Cancellation must be reported as cancellation (the SDK throws APIUserAbortError, which
        // Temporal would record as a failure): rethrow the signal's reason, a CancelledFailure.
        if (ctx.cancellationSignal.aborted) {
          failSpan(span, ctx.cancellationSignal.reason);
          throw ctx.cancellationSignal.reason;
        }
        if ((err as { status?: unknown }).status === 429) gate.rateLimited((err as { headers?: Headers }).headers);
        // What this attempt was billed goes to the next attempt with the last heartbeat (sent with the failure).
        const b = billed();
        if (b.attempts > 0 && !ctx.info.isLocal) ctx.heartbeat({ ...progress, billed: b });
        const failure = modelFailure(
          stalled ? new Error(`model stream stalled: no bytes for ${stallMs / 1000} s (stall timeout)`) : err,
          redact,
        );
        failSpan(span, failure);
        throw failure;
      } finally {
        clearInterval(alive);
        clearInterval(watchdog);
      }
    },
  };
}

/**
 * A reply the loop will act on must be whole: every `tool_use` input parses as a JSON object in
 * full (the SDK's partial-JSON parser would turn a cut stream into an object with fields missing),
 * and no `tool_use` id repeats (two results with one id would be unanswerable).
 */
function checkToolUses(message: Message, rawToolInput: ReadonlyMap<number, string>): void {
  const seen = new Set<string>();
  message.content.forEach((block, index) => {
    if (block.type !== 'tool_use') return;
    if (seen.has(block.id))
      throw new ModelOutputInvalidError(`the model's reply has two tool_use blocks with id ${block.id}: the call is made again`);
    seen.add(block.id);
    const raw = rawToolInput.get(index);
    if (raw === undefined || raw === '') return; // no input streamed: the API's {} for a tool without parameters
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ModelOutputInvalidError(
        `the input of tool_use ${block.id} (${block.name}) arrived incomplete: ${raw.length} characters that are not a whole JSON object; the call is made again`,
      );
    }
  });
}

/** The billing of earlier attempts, from the last heartbeat's details (checked: any shape counts as none). */
function priorBilled(details: unknown): { attempts: number; usage: BilledUsage } {
  const b: unknown = typeof details === 'object' && details !== null ? (details as { billed?: unknown }).billed : undefined;
  if (typeof b !== 'object' || b === null) return { attempts: 0, usage: noBilledUsage() };
  const usage = noBilledUsage();
  const raw = ((b as { usage?: unknown }).usage ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(usage) as (keyof BilledUsage)[]) usage[k] = tokenCount(raw[k]);
  return { attempts: tokenCount((b as { attempts?: unknown }).attempts), usage };
}

/** Usage with every counter a non-negative integer (see `tokenCount`); absent cache counters stay null. */
function checkedUsage(usage: Usage): Usage {
  const orNull = (v: unknown) => (v === null || v === undefined ? null : tokenCount(v));
  return {
    ...usage,
    input_tokens: tokenCount(usage.input_tokens),
    output_tokens: tokenCount(usage.output_tokens),
    cache_creation_input_tokens: orNull(usage.cache_creation_input_tokens),
    cache_read_input_tokens: orNull(usage.cache_read_input_tokens),
  };
}
