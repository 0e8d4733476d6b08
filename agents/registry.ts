/**
 * The set of agents a worker serves, checked once at worker start, and the resolution of an
 * agent plus a run's overrides into the run's fixed {@link RunConfig}.
 */
import {
  DEFAULT_LIMITS,
  DEFAULT_MAX_TURNS,
  DEFAULT_MODEL_POLICY,
  MAX_CONVERSATION_BYTES,
  type PromptCaching,
  type RunBudget,
  type RunConfig,
} from '../contract/config.js';
import { AgentDefinitionError, InvalidRunInputError, UnknownAgentError } from '../contract/failures.js';
import type { RunOverrides } from '../contract/run.js';
import type { ToolUnion } from '../contract/messages.js';
import { MAX_BUDGET_USD, overridesProblem } from '../contract/run-input.js';
import { apiTool, isAgentAsTool, isServerTool, type AgentAsTool, type AgentDefinition, type AgentTool, type ServerTool } from './define.js';
import { checkMcpServers } from './mcp.js';
import { agentOutputProblem } from './output.js';
import { OUTPUT_TOOL } from '../contract/output-schema.js';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
/** Server tools' types carry their version date: `web_search_20250305`, `code_execution_20250825`, … */
const SERVER_TOOL_TYPE = /^[a-z][a-z0-9_]*_\d{8}$/;
const AGENT_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;
const DURATION = /^\d+(\.\d+)?\s*(ms|s|m|h|d)$/;

/** Agents by name, with each agent's tools by name. */
export class AgentRegistry {
  private readonly agents = new Map<
    string,
    { def: AgentDefinition; tools: Map<string, AgentTool<unknown>>; serverTools: ServerTool[]; subAgents: AgentAsTool[] }
  >();

  /** Checks every definition; throws an {@link AgentDefinitionError} naming the first problem. */
  constructor(defs: readonly AgentDefinition[]) {
    for (const def of defs) {
      const bad = (what: string) => new AgentDefinitionError(`agent "${def.name}"${what}`);
      if (!AGENT_NAME.test(def.name)) throw bad(`: name must match ${AGENT_NAME}`);
      if (this.agents.has(def.name)) throw bad(' is defined twice');
      if (!def.model) throw bad(': model is required');
      if (!Number.isInteger(def.max_tokens) || def.max_tokens < 1) throw bad(': max_tokens must be a positive integer');
      for (const [k, v] of Object.entries(def.limits ?? {})) {
        if (!Number.isInteger(v) || v < 1) throw bad(`: limits.${k} must be a positive integer`);
      }
      if ((def.limits?.conversationMaxBytes ?? 0) > MAX_CONVERSATION_BYTES) {
        throw bad(
          `: limits.conversationMaxBytes may be at most ${MAX_CONVERSATION_BYTES} (a run's conversation must stay well under Temporal's 2 MB payload limit)`,
        );
      }
      const budgetProblem = agentBudgetProblem(def.budget);
      if (budgetProblem) throw bad(`: budget.${budgetProblem}`);
      const pc = def.promptCaching;
      if (pc !== undefined && pc !== false && (typeof pc !== 'object' || (pc.ttl !== undefined && pc.ttl !== '5m' && pc.ttl !== '1h'))) {
        throw bad(": promptCaching must be false or { ttl?: '5m' | '1h' }");
      }
      const tools = new Map<string, AgentTool<unknown>>();
      const serverTools: ServerTool[] = [];
      const subAgents: AgentAsTool[] = [];
      const names = new Set<string>();
      for (const tool of def.tools) {
        const where = `, tool "${String(tool.name)}"`;
        if (typeof tool.name !== 'string' || !TOOL_NAME.test(tool.name)) throw bad(`${where}: name must match ${TOOL_NAME}`);
        if (names.has(tool.name)) throw bad(`${where}: duplicate tool name`);
        if (tool.name === OUTPUT_TOOL) throw bad(`${where}: the name is reserved for the runner's structured-output tool`);
        names.add(tool.name);
        if (isServerTool(tool)) {
          // Sent to the API as written; the API checks the type's own options.
          if (!SERVER_TOOL_TYPE.test(tool.type))
            throw bad(`${where}: server tool type "${tool.type}" is not a versioned type such as web_search_20250305`);
          serverTools.push(tool);
          continue;
        }
        if (isAgentAsTool(tool)) {
          if (typeof tool.subAgent.name !== 'string' || !AGENT_NAME.test(tool.subAgent.name))
            throw bad(`${where}: agent must be an agent's name`);
          if (tool.subAgent.timeout !== undefined && !DURATION.test(tool.subAgent.timeout))
            throw bad(`${where}: timeout must be a duration like '30m'`);
          subAgents.push(tool);
          continue;
        }
        if (tool.input_schema?.type !== 'object') throw bad(`${where}: input schema must have type "object"`);
        if (typeof tool.run !== 'function') throw bad(`${where}: a tool of the agent's own needs run() (define it with defineTool)`);
        tools.set(tool.name, tool);
      }
      checkMcpServers(def.name, def.mcpServers);
      const outputProblem = agentOutputProblem(def);
      if (outputProblem) throw bad(`: ${outputProblem}`);
      this.agents.set(def.name, { def, tools, serverTools, subAgents });
    }
    // Agents offered as tools must be served here too (a child run starts on the same task queue).
    for (const [name, { subAgents }] of this.agents) {
      for (const t of subAgents) {
        if (!this.agents.has(t.subAgent.name)) {
          throw new AgentDefinitionError(
            `agent "${name}", tool "${t.name}": offers agent "${t.subAgent.name}", which this worker does not serve (serve it too)`,
          );
        }
      }
    }
  }

  /** Names of the agents served. */
  names(): string[] {
    return [...this.agents.keys()];
  }

  /** Names of an agent's tools ([] for an unknown agent). */
  toolNames(agent: string): string[] {
    return [...(this.agents.get(agent)?.tools.keys() ?? [])];
  }

  /** The definition of an agent, or undefined. */
  agent(name: string): AgentDefinition | undefined {
    return this.agents.get(name)?.def;
  }

  /** A tool of an agent, or undefined. */
  tool(agent: string, name: string): AgentTool<unknown> | undefined {
    return this.agents.get(agent)?.tools.get(name);
  }

  /** The run's configuration: the agent's definition with the caller's overrides applied and checked. */
  resolve(agentName: string, overrides: RunOverrides = {}): RunConfig {
    const def = this.agent(agentName);
    if (!def) throw new UnknownAgentError(agentName, this.names());
    const problem = overridesProblem(overrides);
    if (problem) throw new InvalidRunInputError(problem);
    const tc = overrides.tool_choice;
    // With MCP servers the whole tool list is known only once they are listed (agents/mcp.ts checks then).
    if (tc?.type === 'tool' && !def.tools.some((t) => t.name === tc.name) && !def.mcpServers?.length) {
      throw new InvalidRunInputError(`override tool_choice names tool "${String(tc.name)}", which agent "${def.name}" does not offer`);
    }
    const own = [...(this.agents.get(agentName)?.tools.values() ?? [])];
    const subAgents = this.agents.get(agentName)?.subAgents ?? [];
    // The agent's tools in its order, server tools exactly as written.
    const tools = def.tools.map((t) => (isServerTool(t) ? (t as unknown as ToolUnion) : apiTool(t)));
    const toolChoice = overrides.tool_choice ?? def.tool_choice;
    return {
      agent: def.name,
      request: {
        model: overrides.model ?? def.model,
        max_tokens: overrides.max_tokens ?? def.max_tokens,
        ...(def.system !== undefined && { system: def.system }),
        ...(tools.length > 0 && { tools }),
        ...(toolChoice && { tool_choice: toolChoice }),
        ...(def.thinking && { thinking: def.thinking }),
        ...(def.temperature !== undefined && { temperature: def.temperature }),
        ...(def.stop_sequences && { stop_sequences: def.stop_sequences }),
      },
      maxTurns: overrides.maxTurns ?? def.maxTurns ?? DEFAULT_MAX_TURNS,
      model: { ...DEFAULT_MODEL_POLICY, ...def.modelCall },
      tools: Object.fromEntries([
        ...own.map((t) => [t.name, t.policy]),
        ...subAgents.map((t) => [t.name, { ...t.policy, agent: t.subAgent }]),
      ]),
      limits: { ...DEFAULT_LIMITS, ...def.limits },
      // Only when chosen, so the recorded configuration of every other run stays as it was.
      ...((def.localActivities?.tools || def.localActivities?.model) && {
        local: { tools: def.localActivities.tools === true, model: def.localActivities.model === true },
      }),
      ...budgetOf(def, overrides),
      ...cachingOf(def),
    };
  }
}

/** The run's budget: the agent's, with the caller's limits replacing the agent's. */
function budgetOf(def: AgentDefinition, o: RunOverrides): { budget?: RunBudget } {
  const budget: RunBudget = { ...def.budget };
  if (o.maxCostUsd !== undefined) budget.maxCostUsd = o.maxCostUsd;
  if (o.maxTotalTokens !== undefined) budget.maxTotalTokens = o.maxTotalTokens;
  return budget.maxCostUsd === undefined && budget.maxTotalTokens === undefined ? {} : { budget };
}

/**
 * Runner-placed cache breakpoints, unless the agent turned them off or marks its own (a
 * `cache_control` in its system prompt or tools). TTL: the agent's, else 1 hour when a tool waits
 * for approval (a person takes longer than five minutes), else 5 minutes.
 */
function cachingOf(def: AgentDefinition): { promptCaching?: PromptCaching } {
  if (def.promptCaching === false) return {};
  const own = JSON.stringify([def.system, def.tools.map((t) => (isServerTool(t) ? t : apiTool(t)))]).includes('"cache_control"');
  if (own) return {};
  const waits = def.tools.some((t) => !isServerTool(t) && t.policy.approval !== undefined);
  return { promptCaching: { ttl: def.promptCaching?.ttl ?? (waits ? '1h' : '5m') } };
}

/** The problem with an agent's budget, or null. */
function agentBudgetProblem(b: RunBudget | undefined): string | null {
  if (b === undefined) return null;
  if (b.maxCostUsd !== undefined && !(Number.isFinite(b.maxCostUsd) && b.maxCostUsd > 0 && b.maxCostUsd <= MAX_BUDGET_USD))
    return `maxCostUsd must be a number of dollars above 0 and at most ${MAX_BUDGET_USD}`;
  if (b.maxTotalTokens !== undefined && !(Number.isInteger(b.maxTotalTokens) && b.maxTotalTokens > 0))
    return 'maxTotalTokens must be a positive integer';
  if (b.onExceeded !== undefined && b.onExceeded !== 'stop' && b.onExceeded !== 'pause') return "onExceeded must be 'stop' or 'pause'";
  if (b.pauseTimeout !== undefined && !/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/.test(b.pauseTimeout))
    return "pauseTimeout must be a duration like '30m' or '24h'";
  return null;
}
