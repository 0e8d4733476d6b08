/**
 * Traces and metrics of a worker process, both opt-in and free when off.
 *
 * | variable | effect |
 * |---|---|
 * | OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) | traces over OTLP/HTTP: Temporal's workflow and activity spans (@temporalio/interceptors-opentelemetry) with a span per model call (`chat <model>`) and per tool call (`execute_tool <name>`) carrying the GenAI semantic-convention attributes |
 * | OTEL_SERVICE_NAME | the traces' `service.name` (default `agent-runner-worker`) |
 * | AGENT_RUNNER_METRICS_ADDRESS (`host:port`) or AGENT_RUNNER_METRICS_PORT | Prometheus metrics at `http://<address>/metrics`: the Temporal runtime's own plus `agent_runner_*` (model-call latency, turns, tokens by kind, tool errors by tool, runs by final status); a bare port binds 127.0.0.1 |
 */
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import type { RuntimeOptions, WorkerOptions } from '@temporalio/worker';

/** Tracing for a worker: its plugin, and how to flush and stop it. */
export interface Tracing {
  plugin: NonNullable<WorkerOptions['plugins']>[number];
  endpoint: string;
  shutdown(): Promise<void>;
}

/** OTLP tracing when the standard OpenTelemetry variables ask for it; undefined (nothing loaded, nothing spent) otherwise. */
export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || (base && `${base.replace(/\/+$/, '')}/v1/traces`);
  if (!endpoint) return undefined;
  try {
    new URL(endpoint);
  } catch {
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT=${endpoint} is not a URL such as http://localhost:4318`);
  }
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || 'agent-runner-worker' });
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }), { scheduledDelayMillis: 1_000 });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Global, so the activities' own GenAI spans (activities/telemetry.ts) reach the same exporter,
  // and with a context manager, so they nest under the activity spans the interceptors open.
  provider.register({ contextManager: new AsyncLocalStorageContextManager() });
  return { plugin: new OpenTelemetryPlugin({ resource, spanProcessor }), endpoint, shutdown: () => provider.shutdown() };
}

/** The Temporal runtime's metrics option for Prometheus, when asked for. */
export function metricsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): NonNullable<RuntimeOptions['telemetryOptions']>['metrics'] | undefined {
  const address =
    env.AGENT_RUNNER_METRICS_ADDRESS?.trim() ||
    (env.AGENT_RUNNER_METRICS_PORT?.trim() && `127.0.0.1:${env.AGENT_RUNNER_METRICS_PORT.trim()}`);
  if (!address) return undefined;
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`AGENT_RUNNER_METRICS_ADDRESS=${address} is not host:port (or set AGENT_RUNNER_METRICS_PORT to a port)`);
  }
  return { prometheus: { bindAddress: address } };
}
