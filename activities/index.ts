/**
 * The activities a worker registers (names and signatures: `contract/activities.ts`):
 * `resolveAgent` (once per run), `callModel` (once per turn) and `runTool` (once per `tool_use`,
 * MCP tools included: they go to their server over the worker's pooled sessions).
 */
import Anthropic from '@anthropic-ai/sdk';
import { log } from '@temporalio/activity';
import type { AgentActivities, ApprovalCheckInput, ResolveAgentInput } from '../contract/activities.js';
import type { RunConfig } from '../contract/config.js';
import { InvalidRunInputError, redactKeys, resolutionFailure } from '../contract/failures.js';
import { builtInPrices, priceOf, PRICES_CHECKED, type PriceTable } from '../contract/prices.js';
import { withMcpTools } from '../agents/mcp.js';
import { withStructuredOutput } from '../agents/output.js';
import type { AgentRegistry } from '../agents/registry.js';
import { listMcpTools } from './mcp/resolve.js';
import { McpSessions } from './mcp/sessions.js';
import { createModelActivity } from './model.js';
import { RateGate } from './rate-gate.js';
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
export function createActivities(opts: {
  registry: AgentRegistry;
  endpoint?: ModelEndpoint;
  /** The worker found the runs' search attributes registered (see worker/search-attributes.ts). */
  searchAttributesRegistered?: boolean;
  /** The worker's MCP sessions (closed by the worker at shutdown); default: a pool of their own. */
  mcp?: McpSessions;
  /** …and `AgentCostUsd` among them. */
  costSearchAttribute?: boolean;
  /** The price table runs are billed at (default: the built-in one, contract/prices.ts). */
  prices?: PriceTable;
  /** The worker's model-call gate (one per process). */
  gate?: RateGate;
  /** Model calls go to this task queue (a worker with its rate limit polls it). */
  modelTaskQueue?: string;
}): AgentActivities {
  const { registry, endpoint = {}, prices = builtInPrices(), mcp = new McpSessions() } = opts;
  const warnedUnpriced = new Set<string>();
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
  // Failures never carry the key, even when an API proxy echoes it in an error body.
  const secrets = [endpoint.apiKey, process.env.ANTHROPIC_API_KEY, process.env.ANTHROPIC_AUTH_TOKEN];
  const redact = (text: string) => redactKeys(text, secrets);
  return {
    async resolveAgent(input: ResolveAgentInput): Promise<RunConfig> {
      try {
        let config = registry.resolve(input.agent, input.overrides ?? {});
        // MCP servers' tools are listed now, and recorded with the configuration: the run keeps them.
        const def = registry.agent(input.agent);
        if (def?.mcpServers?.length) config = withMcpTools(config, def, await listMcpTools(mcp, def, redact), input.overrides);
        // The structured-output tool comes last, once every other tool is known (a clash is refused).
        if (def) config = withStructuredOutput(config, def, input);
        const model = config.request.model;
        const price = priceOf(model, prices) ?? null;
        if (!price && config.budget?.maxCostUsd !== undefined) {
          throw new InvalidRunInputError(
            `a budget in USD needs the price of model "${model}", which the price table lacks: add it (AGENT_RUNNER_PRICES) or budget tokens (maxTotalTokens)`,
          );
        }
        if (!price && !warnedUnpriced.has(model)) {
          warnedUnpriced.add(model);
          log.warn(`no price for model "${model}": runs of it report cost null (add it to the price table with AGENT_RUNNER_PRICES)`);
        }
        return {
          ...config,
          pricing: { price, serverTools: prices.serverTools, checked: PRICES_CHECKED },
          ...(opts.searchAttributesRegistered && { searchAttributesRegistered: true }),
          ...(opts.searchAttributesRegistered && opts.costSearchAttribute && { costSearchAttribute: true }),
          ...(opts.modelTaskQueue && { modelTaskQueue: opts.modelTaskQueue }),
        };
      } catch (e) {
        throw resolutionFailure(e);
      }
    },
    /**
     * Whether this call needs a person's approval, for tools that decide per call. Fails safe: an
     * unknown tool, invalid input or a throwing check all mean yes.
     */
    async needsApproval(input: ApprovalCheckInput): Promise<boolean> {
      const tool = registry.tool(input.agent, input.toolUse.name);
      if (!tool?.approvalCheck) return true;
      const checked = tool.validate(input.toolUse.input);
      if (!checked.ok) return true;
      try {
        return (await tool.approvalCheck(checked.value)) !== false;
      } catch {
        return true;
      }
    },
    ...createModelActivity(getClient, redact, opts.gate ?? new RateGate()),
    ...createToolActivity(registry, redact, mcp),
  };
}
