/**
 * The activities a worker registers (names and signatures: `contract/activities.ts`):
 * `resolveAgent` (once per run), `callModel` (once per turn) and `runTool` (once per `tool_use`,
 * MCP tools included: they go to their server over the worker's pooled sessions).
 */
import Anthropic from '@anthropic-ai/sdk';
import type { AgentActivities, ApprovalCheckInput, ResolveAgentInput } from '../contract/activities.js';
import type { RunConfig } from '../contract/config.js';
import { redactKeys, resolutionFailure } from '../contract/failures.js';
import { withMcpTools } from '../agents/mcp.js';
import type { AgentRegistry } from '../agents/registry.js';
import { listMcpTools } from './mcp/resolve.js';
import { McpSessions } from './mcp/sessions.js';
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
export function createActivities(opts: {
  registry: AgentRegistry;
  endpoint?: ModelEndpoint;
  /** The worker found the runs' search attributes registered (see worker/search-attributes.ts). */
  searchAttributesRegistered?: boolean;
  /** The worker's MCP sessions (closed by the worker at shutdown); default: a pool of their own. */
  mcp?: McpSessions;
}): AgentActivities {
  const { registry, endpoint = {}, mcp = new McpSessions() } = opts;
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
        return opts.searchAttributesRegistered ? { ...config, searchAttributesRegistered: true } : config;
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
    ...createModelActivity(getClient, redact),
    ...createToolActivity(registry, redact, mcp),
  };
}
