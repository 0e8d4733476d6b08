/**
 * The activities a worker registers: `resolveAgent` (once per run), `callModel` (once per turn)
 * and `runTool` (once per `tool_use` block).
 */
import Anthropic from '@anthropic-ai/sdk';
import { ApplicationFailure } from '@temporalio/common';
import { AgentRegistry, InvalidInputError } from '../agents/registry.js';
import { FailureTypes, type RunConfig, type RunOverrides } from '../workflows/types.js';
import { createModelActivity } from './model.js';
import { createToolActivity } from './tools.js';

/** How the model activity reaches the Messages API. Read by the worker only, never sent into history. */
export interface ModelEndpoint {
  /** Default: the SDK's own ANTHROPIC_API_KEY. */
  apiKey?: string;
  /** Default: the SDK's own ANTHROPIC_BASE_URL, else the real API. */
  baseURL?: string;
  /** Time to wait for response headers, ms (default 120 000). */
  requestTimeoutMs?: number;
}

/** Build every activity over the agents this worker serves. */
export function createActivities(opts: { registry: AgentRegistry; endpoint?: ModelEndpoint }) {
  const { registry, endpoint = {} } = opts;
  // One client per model call, built when the call starts: a worker without a key still starts
  // (the first call then fails with a clear, non-retryable message), and each call's `fetch`
  // reports bytes arriving on its own stream, SSE pings included (the SDK drops pings, so its
  // events alone cannot tell a model that is quietly thinking from a dead connection).
  const getClient = (fetchImpl: typeof fetch) =>
    new Anthropic({
      ...(endpoint.apiKey !== undefined && { apiKey: endpoint.apiKey }),
      ...(endpoint.baseURL !== undefined && { baseURL: endpoint.baseURL }),
      maxRetries: 0, // Temporal owns retries, and they show in the UI.
      timeout: endpoint.requestTimeoutMs ?? 120_000,
      fetch: fetchImpl,
    });
  return {
    /** Resolve the agent and the caller's overrides into the run's fixed configuration. */
    async resolveAgent(input: { agent: string; overrides?: RunOverrides }): Promise<RunConfig> {
      try {
        return registry.resolve(input.agent, input.overrides ?? {});
      } catch (e) {
        if (e instanceof InvalidInputError) {
          const type = e.message.startsWith('unknown agent') ? FailureTypes.unknownAgent : FailureTypes.invalidInput;
          throw ApplicationFailure.create({ type, message: e.message, nonRetryable: true });
        }
        throw e;
      }
    },
    ...createModelActivity(getClient),
    ...createToolActivity(registry),
  };
}

/** The activity interface the workflow proxies (type only). */
export type AgentActivities = ReturnType<typeof createActivities>;
