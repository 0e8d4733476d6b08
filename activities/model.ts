/**
 * The model activity: one Messages API call, streamed.
 *
 * Streaming keeps long responses within HTTP limits and gives a liveness signal: the activity
 * heartbeats as events arrive, so a stream that stalls is caught by the heartbeat timeout and
 * retried. The activity's cancellation signal is passed to the SDK, so cancelling the run aborts
 * the HTTP request at once instead of waiting it out.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { Context } from '@temporalio/activity';
import type { ModelCallInput, ModelCallResult, ModelProgress } from '../contract/activities.js';
import { modelFailure, ModelNotConfiguredError } from '../contract/failures.js';

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

/** Builds the `callModel` activity around one Anthropic client (built with `maxRetries: 0`). */
export function createModelActivity(getClient: (fetchImpl: typeof fetch) => Anthropic) {
  return {
    /** One model call; see the module comment. */
    async callModel(input: ModelCallInput): Promise<ModelCallResult> {
      const ctx = Context.current();
      const progress: ModelProgress = { phase: 'waiting', outputTokens: 0, events: 0 };
      let streamedChars = 0;
      ctx.heartbeat(progress);
      // Until the headers arrive the SDK's own request timeout bounds the wait; keep the
      // heartbeat alive meanwhile. Once streaming, only real events heartbeat.
      const waitingBeatMs = Math.max(100, Math.min(5_000, (ctx.info.heartbeatTimeoutMs ?? 15_000) / 3));
      const waiting = setInterval(() => ctx.heartbeat(progress), waitingBeatMs);
      try {
        // Any byte on the wire (an SSE ping too) proves the connection alive.
        const onBytes = () => ctx.heartbeat(progress);
        const client = getClient(tappedFetch(onBytes));
        // No credential of any kind: a configuration fact, known before any request is made.
        if (!client.apiKey && !client.authToken && !client.credentials) throw new ModelNotConfiguredError();
        const stream = client.messages.stream(input.request, { signal: ctx.cancellationSignal });
        stream.on('connect', () => {
          clearInterval(waiting);
          progress.phase = 'streaming';
          ctx.heartbeat(progress);
        });
        stream.on('streamEvent', (event) => {
          progress.events++;
          if (event.type === 'content_block_delta') {
            const d = event.delta;
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
            progress.outputTokens = event.usage.output_tokens;
          }
          ctx.heartbeat(progress);
        });
        const message = await stream.finalMessage();
        return { message };
      } catch (err) {
        // Cancellation must be reported as cancellation (the SDK throws APIUserAbortError, which
        // Temporal would record as a failure): rethrow the signal's reason, a CancelledFailure.
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        throw modelFailure(err);
      } finally {
        clearInterval(waiting);
      }
    },
  };
}
