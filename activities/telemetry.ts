/**
 * What the activities report besides their results: a span per model call and per tool call with
 * the OpenTelemetry GenAI semantic-convention attributes (children of the activity's span when the
 * worker traces; no-ops costing nothing when it does not), and the agent's metrics through the
 * worker's Temporal metric meter (exported with the runtime's own metrics, e.g. to Prometheus).
 */
import { Context } from '@temporalio/activity';
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Message, MessageCreateParamsBase } from '../contract/messages.js';

const tracer = trace.getTracer('agent-runner');

/** Start the span of one model call: `chat <model>` (semconv: {operation} {model}, kind CLIENT). */
export function startModelSpan(request: Pick<MessageCreateParamsBase, 'model' | 'max_tokens'> & { temperature?: unknown }): Span {
  return tracer.startSpan(`chat ${request.model}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.system': 'anthropic', // the name before semconv 1.37, still read by many backends
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': request.model,
      'gen_ai.request.max_tokens': request.max_tokens,
      ...(typeof request.temperature === 'number' && { 'gen_ai.request.temperature': request.temperature }),
    },
  });
}

/** Run `fn` with `span` as the active span (the Anthropic SDK's own API-call span nests under it). */
export function withSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Record a reply on its span, and its tokens and latency as metrics. */
export function endModelSpan(span: Span, message: Message, startedAt: number): void {
  const u = message.usage;
  const cacheRead = u.cache_read_input_tokens ?? 0;
  const cacheWrite = u.cache_creation_input_tokens ?? 0;
  span.setAttributes({
    'gen_ai.response.id': message.id,
    'gen_ai.response.model': message.model,
    'gen_ai.response.finish_reasons': [message.stop_reason ?? 'unknown'],
    // Anthropic's input_tokens excludes the cache; the convention's includes it.
    'gen_ai.usage.input_tokens': u.input_tokens + cacheRead + cacheWrite,
    'gen_ai.usage.output_tokens': u.output_tokens,
    'gen_ai.usage.cache_read.input_tokens': cacheRead,
    'gen_ai.usage.cache_creation.input_tokens': cacheWrite,
  });
  span.end();
  const meter = Context.current().metricMeter;
  meter
    .createHistogram('agent_runner_model_call_latency', 'int', 'ms', 'Model call latency, one successful attempt')
    .record(Date.now() - startedAt, { model: message.model });
  const tokens = meter.createCounter('agent_runner_tokens', 'tokens', 'Tokens by kind, summed over model calls');
  for (const [kind, n] of [
    ['input', u.input_tokens],
    ['output', u.output_tokens],
    ['cache_read', cacheRead],
    ['cache_write', cacheWrite],
  ] as const) {
    if (n > 0) tokens.add(n, { kind, model: message.model });
  }
}

/** End a span that failed, with the error's type and one line. */
export function failSpan(span: Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  span.setAttribute('error.type', (e as { type?: string }).type ?? e.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
  span.end();
}

/** Start the span of one tool call: `execute_tool <name>`. */
export function startToolSpan(name: string, toolUseId: string): Span {
  return tracer.startSpan(`execute_tool ${name}`, {
    kind: SpanKind.INTERNAL,
    attributes: {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': name,
      'gen_ai.tool.call.id': toolUseId,
      'gen_ai.tool.type': 'function',
    },
  });
}

/** End a tool call's span: `is_error` results are marked as errors (the run goes on). */
export function endToolSpan(span: Span, isError: boolean): void {
  if (isError) {
    span.setAttribute('error.type', 'tool_error');
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
