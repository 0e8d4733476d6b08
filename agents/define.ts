/**
 * The tool- and agent-definition API.
 *
 * One tool shape, as the Anthropic SDK's own runnable tools have it (`BetaRunnableTool`): the
 * Messages API's tool object itself — `name`, `description`, `input_schema`, `strict`,
 * `cache_control`, … sent to the API unchanged — plus `run`, `validate` and the tool's activity
 * `policy`. {@link defineTool} takes the schema as `inputSchema` (a zod object schema or a JSON
 * Schema), as the SDK's `betaZodTool` and `betaTool` helpers name it, and emits `input_schema`.
 *
 * Input is validated before the handler runs. A handler reports a business failure by throwing
 * {@link ToolError}: the model gets an `is_error` result and nothing is retried. Any other throw
 * is an infrastructure failure, retried per the tool's policy.
 */
// The SDK's root entry does not export ToolError; its package `exports` map publishes `./lib/*`
// (only `./lib/internal/*` is closed), and this is the class the SDK's own tool runners and MCP
// helper throw and catch. The one other public entry re-exporting it, `helpers/beta/toolsets`,
// would load the beta browser toolsets into every worker.
import { ToolError } from '@anthropic-ai/sdk/lib/tools/ToolError';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { z } from 'zod';
import {
  DEFAULT_APPROVAL_TIMEOUT,
  DEFAULT_TOOL_POLICY,
  type LocalActivityChoice,
  type ModelPolicy,
  type RunBudget,
  type RunLimits,
  type ToolPolicy,
} from '../contract/config.js';
import type { TextBlockParam, ThinkingConfigParam, Tool, ToolChoice, ToolResultBlockParam } from '../contract/messages.js';
import type { McpServerDefinition } from './mcp.js';

export { ToolError };

/** What a handler receives besides its input. */
export interface ToolContext {
  /**
   * `${workflowId}/${toolUseId}`: the same on every retry, after a worker crash and across
   * continue-as-new. Use it to make side effects exactly-once.
   */
  idempotencyKey: string;
  /** Aborted when the run is cancelled or the attempt times out. */
  signal: AbortSignal;
  /** Tell Temporal the tool is alive (needed when the tool's policy has a `heartbeatTimeout`). */
  heartbeat(details?: unknown): void;
  /** 1 on the first attempt. */
  attempt: number;
  workflowId: string;
  toolUseId: string;
}

/** What a handler may return: text, content blocks, or any JSON-serialisable value (sent as JSON text). */
export type ToolOutput = string | Exclude<ToolResultBlockParam['content'], string | undefined> | unknown;

/** A JSON Schema object of `type: "object"`, as the Messages API requires. */
export type JsonObjectSchema = Tool['input_schema'];

/** The outcome of checking a tool's input. */
export type ToolInputCheck<I> = { ok: true; value: I } | { ok: false; problems: string };

/** A tool as workers hold it: the API's tool object plus how to run it. Build one with {@link defineTool}. */
export interface AgentTool<I = unknown> extends Tool {
  /** Checks input before the handler runs; problems are one line, by path. */
  validate(input: unknown): ToolInputCheck<I>;
  run(input: I, ctx: ToolContext): Promise<ToolOutput> | ToolOutput;
  /** Activity options of one call (default {@link DEFAULT_TOOL_POLICY}), and whether it waits for approval. */
  policy: ToolPolicy;
  /** Set when the tool decides per call whether a person must approve it (see {@link ToolOptions.needsApproval}). */
  approvalCheck?(input: I): boolean | Promise<boolean>;
}

/** A tool's activity options, each defaulting to {@link DEFAULT_TOOL_POLICY}. */
export interface ToolPolicyOptions {
  /** Start-to-close timeout of one attempt, e.g. `'10s'`. */
  timeout?: string;
  /** For long tools that call `ctx.heartbeat()`: a tool silent this long is retried. */
  heartbeatTimeout?: string;
  retry?: Partial<ToolPolicy['retry']>;
  /** How long a call waits for a person's decision before it is denied (default `'24h'`). */
  approvalTimeout?: string;
}

/** The API fields a definition may set besides name, description and schema (sent unchanged). */
type ApiToolFields = Omit<Tool, 'name' | 'description' | 'input_schema'>;

interface ToolOptions extends ApiToolFields {
  name: string;
  description: string;
  policy?: ToolPolicyOptions;
}

/** Define a tool whose input is a zod object schema. */
export function defineTool<S extends z.ZodType<Record<string, unknown>>>(
  def: ToolOptions & {
    inputSchema: S;
    run(input: z.infer<S>, ctx: ToolContext): Promise<ToolOutput> | ToolOutput;
    /** Whether a call waits for a person's approval: `false` (default), `true`, or decided per call from the input (in an activity, so recorded). */
    needsApproval?: boolean | ((input: z.infer<S>) => boolean | Promise<boolean>);
  },
): AgentTool<z.infer<S>>;
/** Define a tool whose input is described by a JSON Schema (validated with Ajv). */
export function defineTool<I = Record<string, unknown>>(
  def: ToolOptions & {
    inputSchema: JsonObjectSchema;
    run(input: I, ctx: ToolContext): Promise<ToolOutput> | ToolOutput;
    needsApproval?: boolean | ((input: I) => boolean | Promise<boolean>);
  },
): AgentTool<I>;
export function defineTool(
  def: ToolOptions & {
    inputSchema: z.ZodType | JsonObjectSchema;
    run(input: unknown, ctx: ToolContext): Promise<ToolOutput> | ToolOutput;
    needsApproval?: boolean | ((input: never) => boolean | Promise<boolean>);
  },
): AgentTool {
  const { inputSchema, policy, run, needsApproval, ...api } = def;
  const resolved = toolPolicy(policy, needsApproval);
  const check =
    typeof needsApproval === 'function' ? { approvalCheck: needsApproval as (input: unknown) => boolean | Promise<boolean> } : {};
  if (isZod(inputSchema)) {
    // `io: 'input'`: fields with defaults are optional to the model. Objects get
    // `additionalProperties: false` (zod strips unknown keys anyway), which `strict` tools require.
    const { $schema: _ignored, ...schema } = closeObjects(z.toJSONSchema(inputSchema, { io: 'input' })) as Record<string, unknown>;
    return {
      ...api,
      input_schema: schema as JsonObjectSchema,
      policy: resolved,
      ...check,
      run,
      validate(value) {
        const parsed = inputSchema.safeParse(value);
        if (parsed.success) return { ok: true, value: parsed.data };
        return { ok: false, problems: formatZodIssues(parsed.error) };
      },
    };
  }
  if (typeof inputSchema !== 'object' || inputSchema === null) {
    throw new Error(`tool "${def.name}": inputSchema must be a zod object schema or a JSON Schema object`);
  }
  return { ...api, input_schema: inputSchema, policy: resolved, ...check, run, validate: jsonSchemaValidator(def.name, inputSchema) };
}

/** The API's tool object of an agent's tool: everything but `run`, `validate`, `policy` (and a sub-agent's name). */
export function apiTool(tool: AgentTool<unknown> | AgentAsTool): Tool {
  const {
    run: _run,
    validate: _validate,
    policy: _policy,
    approvalCheck: _check,
    subAgent: _sub,
    ...api
  } = tool as AgentTool<unknown> & Partial<AgentAsTool>;
  return api;
}

/** A tool's resolved activity policy from its options (MCP servers' tools get theirs from the server's `policy`). */
export function toolPolicy(o: ToolPolicyOptions = {}, needsApproval: boolean | ((input: never) => unknown) = false): ToolPolicy {
  const approval = needsApproval === true ? 'always' : typeof needsApproval === 'function' ? 'per_call' : undefined;
  return {
    timeout: o.timeout ?? DEFAULT_TOOL_POLICY.timeout,
    ...(o.heartbeatTimeout && { heartbeatTimeout: o.heartbeatTimeout }),
    retry: { ...DEFAULT_TOOL_POLICY.retry, ...o.retry },
    ...(approval && { approval, approvalTimeout: o.approvalTimeout ?? DEFAULT_APPROVAL_TIMEOUT }),
  };
}

function isZod(s: unknown): s is z.ZodType {
  return typeof s === 'object' && s !== null && typeof (s as { safeParse?: unknown }).safeParse === 'function';
}

/** Set `additionalProperties: false` on every object schema that does not say otherwise. */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = closeObjects(v);
  if (out.type === 'object' && !('additionalProperties' in out)) out.additionalProperties = false;
  return out;
}

function formatZodIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`).join('; ');
}

// Ajv is constructed lazily so agents defined only with zod never pay for it.
let ajv: Ajv2020 | undefined;

function jsonSchemaValidator(name: string, schema: JsonObjectSchema): AgentTool['validate'] {
  ajv ??= new Ajv2020({ strict: false, allErrors: true });
  let check;
  try {
    check = ajv.compile(schema);
  } catch (e) {
    throw new Error(`tool "${name}": invalid input schema: ${(e as Error).message}`);
  }
  return (value) => {
    if (check(value)) return { ok: true, value };
    const problems = (check.errors ?? [])
      .map((e) => `${e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(input)'}: ${e.message ?? 'invalid'}`)
      .join('; ');
    return { ok: false, problems };
  };
}

/**
 * An Anthropic server tool as the API documents it: a `type` (with its version date, e.g.
 * `web_search_20250305`), a `name` and the tool's own options. The API runs it; its
 * `server_tool_use` and result blocks stay in the transcript verbatim.
 */
export interface ServerTool {
  type: string;
  name: string;
  [option: string]: unknown;
}

/** Whether a tool of an agent's list is a server tool (no handler, a `type` other than `custom`). */
export function isServerTool(tool: AgentTool<unknown> | ServerTool | AgentAsTool): tool is ServerTool {
  const type = (tool as { type?: unknown }).type;
  return typeof (tool as { run?: unknown }).run !== 'function' && typeof type === 'string' && type !== 'custom';
}

/**
 * Another agent offered as a tool. A call starts that agent's run as a child workflow of the
 * calling run (its own history, visible as a child in the Temporal UI), with the call's `prompt`
 * as its prompt; the child's final text is the tool result (`is_error` when it fails, is
 * cancelled or stops at its budget). Its spend rolls up into the caller's ledger; cancelling the
 * caller cancels it; its approvals show in `agent-runner pending` with the caller named. Agents
 * call agents at most `MAX_AGENT_DEPTH` (3) deep. Build one with {@link agentTool}.
 */
export interface AgentAsTool {
  name: string;
  description: string;
  input_schema: JsonObjectSchema;
  /** The agent that answers, and how long its whole run may take (absent: no limit). */
  subAgent: { name: string; timeout?: string };
  policy: ToolPolicy;
}

/** Offer the agent `agent` as a tool named `name` (the model sends it `{ prompt }`). */
export function agentTool(o: {
  name: string;
  description: string;
  agent: string;
  /** Bounds the sub-agent's whole run, e.g. `'30m'` (default: none). */
  timeout?: string;
  /** Whether a call waits for a person's approval before the sub-agent starts. */
  needsApproval?: boolean;
}): AgentAsTool {
  return {
    name: o.name,
    description: o.description,
    input_schema: {
      type: 'object',
      properties: {
        prompt: { type: 'string', description: `What to ask agent "${o.agent}": the whole task, with every detail it needs.` },
      },
      required: ['prompt'],
      additionalProperties: false,
    },
    subAgent: { name: o.agent, ...(o.timeout && { timeout: o.timeout }) },
    policy: toolPolicy({}, o.needsApproval ?? false),
  };
}

/** Whether a tool of an agent's list is another agent offered as a tool. */
export function isAgentAsTool(tool: AgentTool<unknown> | ServerTool | AgentAsTool): tool is AgentAsTool {
  return typeof (tool as { subAgent?: unknown }).subAgent === 'object' && (tool as { subAgent?: unknown }).subAgent !== null;
}

/** An agent: the model request it makes and the tools it may use. */
export interface AgentDefinition {
  name: string;
  description?: string;
  model: string;
  max_tokens: number;
  /** The system prompt: text, or text blocks (which may carry your own `cache_control` marks). */
  system?: string | TextBlockParam[];
  /**
   * The agent's tools: its own (`defineTool`, run by the runner as activities) and Anthropic's
   * server tools (`{ type: 'web_search_20250305', name: 'web_search', max_uses: 5 }`, web fetch,
   * code execution, any `type`d tool), which the API runs: they are sent to it untouched; and
   * other agents offered as tools ({@link agentTool}), which run as child workflows.
   */
  tools: (AgentTool<unknown> | ServerTool | AgentAsTool)[];
  tool_choice?: ToolChoice;
  thinking?: ThinkingConfigParam;
  temperature?: number;
  stop_sequences?: string[];
  /**
   * Structured output by default: the run's answer must be JSON valid against this schema (a JSON
   * Schema object, or a zod object schema), given through the runner's output tool (see the
   * README, "Structured output"). A run's own `outputSchema` replaces it; sessions ignore it.
   */
  outputSchema?: JsonObjectSchema | z.ZodType<Record<string, unknown>>;
  /** How many times the model may try to give a valid structured output (default 3, at most 10). */
  outputAttempts?: number;
  /** Default `DEFAULT_MAX_TURNS` (100). */
  maxTurns?: number;
  /** Activity options of the model call, each defaulting to `DEFAULT_MODEL_POLICY`. */
  modelCall?: Partial<ModelPolicy>;
  /** Size limits, each defaulting to `DEFAULT_LIMITS` (tool results 100 KB, conversation 1.2 MB, continue-as-new at 16 MB of history). */
  limits?: Partial<RunLimits>;
  /**
   * Run short tools and/or the model call as local activities (default: neither). See
   * `LocalActivityChoice` and the README's "Local activities" for what it saves and costs.
   */
  localActivities?: Partial<LocalActivityChoice>;
  /**
   * What a run may spend by default (a run's `maxCostUsd` / `maxTotalTokens` overrides replace
   * these), and whether reaching it stops the run or pauses it for more. Default: no budget.
   */
  budget?: RunBudget;
  /**
   * Prompt caching: by default the runner marks the stable prefix (tools and system prompt) and
   * each request's newest message, with a 5-minute TTL — 1 hour for agents with tools that wait
   * for approval. `{ ttl }` chooses the TTL; `false` turns it off (also the way to place your own
   * `cache_control` marks in `system` or tools: the runner then adds none).
   */
  promptCaching?: false | { ttl?: '5m' | '1h' };
  /**
   * MCP servers whose tools the agent offers besides its own (see agents/mcp.ts): their tool
   * lists are fetched when a run starts and recorded with its configuration.
   */
  mcpServers?: McpServerDefinition[];
}

/** Define an agent (checked when a worker builds its registry). */
export function defineAgent<T extends AgentDefinition>(def: T): T {
  return def;
}
