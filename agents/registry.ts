/**
 * The set of agents a worker serves, checked once at worker start, and the resolution of an
 * agent plus a run's overrides into the run's fixed {@link RunConfig}.
 */
import type { Tool } from '@anthropic-ai/sdk/resources/messages';
import { DEFAULT_LIMITS, DEFAULT_MAX_TURNS, type RunConfig, type RunOverrides, type ToolPolicy } from '../workflows/types.js';
import type { AgentDefinition, ToolDefinition } from './define.js';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const AGENT_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

/** An error in a run's input or an agent definition, with a one-line message saying what to do. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
}

/** Agents by name, with each agent's tools by name. */
export class AgentRegistry {
  private readonly agents = new Map<string, { def: AgentDefinition; tools: Map<string, ToolDefinition<unknown>> }>();

  /** Checks every definition; throws one clear error naming the first problem. */
  constructor(defs: readonly AgentDefinition[]) {
    for (const def of defs) {
      if (!AGENT_NAME.test(def.name)) throw new InvalidInputError(`agent "${def.name}": name must match ${AGENT_NAME}`);
      if (this.agents.has(def.name)) throw new InvalidInputError(`agent "${def.name}" is defined twice`);
      if (!def.model) throw new InvalidInputError(`agent "${def.name}": model is required`);
      if (!Number.isInteger(def.max_tokens) || def.max_tokens < 1)
        throw new InvalidInputError(`agent "${def.name}": max_tokens must be a positive integer`);
      for (const [k, v] of Object.entries(def.limits ?? {})) {
        if (!Number.isInteger(v) || v < 1) throw new InvalidInputError(`agent "${def.name}": limits.${k} must be a positive integer`);
      }
      if ((def.limits?.conversationMaxBytes ?? 0) > 1_900_000) {
        throw new InvalidInputError(`agent "${def.name}": limits.conversationMaxBytes must stay under Temporal's 2 MB payload limit (at most 1900000)`);
      }
      const tools = new Map<string, ToolDefinition<unknown>>();
      for (const tool of def.tools) {
        const where = `agent "${def.name}", tool "${tool.name}"`;
        if (!TOOL_NAME.test(tool.name)) throw new InvalidInputError(`${where}: name must match ${TOOL_NAME}`);
        if (tools.has(tool.name)) throw new InvalidInputError(`${where}: duplicate tool name`);
        if (tool.inputSchema?.type !== 'object')
          throw new InvalidInputError(`${where}: input schema must have type "object"`);
        tools.set(tool.name, tool);
      }
      this.agents.set(def.name, { def, tools });
    }
  }

  /** Names of the agents served. */
  names(): string[] {
    return [...this.agents.keys()];
  }

  /** The definition of an agent, or undefined. */
  agent(name: string): AgentDefinition | undefined {
    return this.agents.get(name)?.def;
  }

  /** A tool of an agent, or undefined. */
  tool(agent: string, name: string): ToolDefinition<unknown> | undefined {
    return this.agents.get(agent)?.tools.get(name);
  }

  /** The run's configuration: the agent's definition with the caller's overrides applied and checked. */
  resolve(agentName: string, overrides: RunOverrides = {}): RunConfig {
    const def = this.agent(agentName);
    if (!def) {
      throw new InvalidInputError(
        `unknown agent "${agentName}": this worker serves ${this.names().map((n) => `"${n}"`).join(', ') || 'no agents'}`,
      );
    }
    checkOverrides(def, overrides);
    const tools: Tool[] = def.tools.map((t) => ({
      name: t.name,
      description: t.description,
      input_schema: t.inputSchema,
      ...(t.strict !== undefined && { strict: t.strict }),
      ...(t.cache_control && { cache_control: t.cache_control }),
    }));
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
      model: {
        timeout: def.modelCall?.timeout ?? '10m',
        heartbeatTimeout: def.modelCall?.heartbeatTimeout ?? '30s',
        maximumAttempts: def.modelCall?.maximumAttempts ?? 10,
        initialInterval: def.modelCall?.initialInterval ?? '1s',
        maximumInterval: def.modelCall?.maximumInterval ?? '60s',
      },
      tools: Object.fromEntries(def.tools.map((t) => [t.name, toolPolicy(t)])),
      limits: { ...DEFAULT_LIMITS, ...def.limits },
    };
  }
}

function toolPolicy(t: ToolDefinition<unknown>): ToolPolicy {
  return {
    timeout: t.timeout ?? '60s',
    ...(t.heartbeatTimeout && { heartbeatTimeout: t.heartbeatTimeout }),
    retry: {
      maximumAttempts: t.retry?.maximumAttempts ?? 3,
      initialInterval: t.retry?.initialInterval ?? '1s',
      backoffCoefficient: t.retry?.backoffCoefficient ?? 2,
      maximumInterval: t.retry?.maximumInterval ?? '10s',
    },
  };
}

function checkOverrides(def: AgentDefinition, o: RunOverrides): void {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InvalidInputError('overrides must be an object');
  const known = new Set(['model', 'max_tokens', 'tool_choice', 'maxTurns']);
  for (const k of Object.keys(o)) {
    if (!known.has(k)) throw new InvalidInputError(`unknown override "${k}": use model, max_tokens, tool_choice or maxTurns`);
  }
  if (o.model !== undefined && (typeof o.model !== 'string' || o.model.trim() === ''))
    throw new InvalidInputError('override model must be a non-empty string');
  for (const k of ['max_tokens', 'maxTurns'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new InvalidInputError(`override ${k} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  const tc = o.tool_choice;
  if (tc !== undefined) {
    if (typeof tc !== 'object' || tc === null || !['auto', 'any', 'tool', 'none'].includes(tc.type))
      throw new InvalidInputError('override tool_choice.type must be one of auto, any, tool, none');
    if (tc.type === 'tool' && !def.tools.some((t) => t.name === tc.name))
      throw new InvalidInputError(`override tool_choice names tool "${String(tc.name)}", which agent "${def.name}" does not offer`);
  }
}
