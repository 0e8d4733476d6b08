/**
 * The tool- and agent-definition API.
 *
 * A tool is a handler plus a schema (zod or JSON Schema). Input is validated before the handler
 * runs. A handler reports a business failure by throwing {@link ToolError}: the model gets an
 * `is_error` result and nothing is retried. Any other throw is an infrastructure failure, retried
 * per the tool's policy.
 */
import type { Tool, ToolChoice, ThinkingConfigParam, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { ToolError } from '@anthropic-ai/sdk/lib/tools/ToolError';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { RunLimits } from '../workflows/types.js';
import { z } from 'zod';

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
  /** Tell Temporal the tool is alive (needed when the tool has a `heartbeatTimeout`). */
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

/** Retry policy of a tool (durations as Temporal strings, e.g. `'2s'`). */
export interface ToolRetryOptions {
  maximumAttempts?: number;
  initialInterval?: string;
  backoffCoefficient?: number;
  maximumInterval?: string;
}

/** A tool as the worker holds it. Build one with {@link defineTool}. */
export interface ToolDefinition<I = unknown> {
  name: string;
  description: string;
  /** JSON Schema sent to the API. */
  inputSchema: JsonObjectSchema;
  /** Validates input before the handler runs; returns problems, one per line, or null. */
  validate(input: unknown): { ok: true; value: I } | { ok: false; problems: string };
  strict?: boolean;
  cache_control?: Tool['cache_control'];
  /** Start-to-close timeout of one attempt (default `'60s'`). */
  timeout?: string;
  heartbeatTimeout?: string;
  retry?: ToolRetryOptions;
  run(input: I, ctx: ToolContext): Promise<ToolOutput> | ToolOutput;
}

interface ToolOptions {
  name: string;
  description: string;
  strict?: boolean;
  cache_control?: Tool['cache_control'];
  timeout?: string;
  heartbeatTimeout?: string;
  retry?: ToolRetryOptions;
}

/** Define a tool whose input is a zod object schema. */
export function defineTool<S extends z.ZodType<Record<string, unknown>>>(
  def: ToolOptions & { input: S; run(input: z.infer<S>, ctx: ToolContext): Promise<ToolOutput> | ToolOutput },
): ToolDefinition<z.infer<S>>;
/** Define a tool whose input is described by a JSON Schema (validated with Ajv). */
export function defineTool<I = Record<string, unknown>>(
  def: ToolOptions & { inputSchema: JsonObjectSchema; run(input: I, ctx: ToolContext): Promise<ToolOutput> | ToolOutput },
): ToolDefinition<I>;
export function defineTool(
  def: ToolOptions & {
    input?: z.ZodType;
    inputSchema?: JsonObjectSchema;
    run(input: unknown, ctx: ToolContext): Promise<ToolOutput> | ToolOutput;
  },
): ToolDefinition {
  const { input, inputSchema, ...rest } = def;
  if (input) {
    // `io: 'input'`: fields with defaults are optional to the model. Objects get
    // `additionalProperties: false` (zod strips unknown keys anyway), which `strict` tools require.
    const { $schema: _ignored, ...schema } = closeObjects(z.toJSONSchema(input, { io: 'input' })) as Record<string, unknown>;
    return {
      ...rest,
      inputSchema: schema as JsonObjectSchema,
      validate(value) {
        const parsed = input.safeParse(value);
        if (parsed.success) return { ok: true, value: parsed.data };
        return { ok: false, problems: formatZodIssues(parsed.error) };
      },
    };
  }
  if (!inputSchema) throw new Error(`tool "${def.name}": give either \`input\` (zod) or \`inputSchema\` (JSON Schema)`);
  return { ...rest, inputSchema, validate: jsonSchemaValidator(def.name, inputSchema) };
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

function jsonSchemaValidator(name: string, schema: JsonObjectSchema): ToolDefinition['validate'] {
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

/** Activity options for the model call of an agent. */
export interface ModelCallOptions {
  /** Start-to-close timeout of one attempt (default `'10m'`). */
  timeout?: string;
  /** A stream with no bytes (events or pings) for this long is stalled: the attempt is retried (default `'30s'`). It also bounds how long a crashed worker's model call takes to be retried elsewhere. */
  heartbeatTimeout?: string;
  /** Default 10. */
  maximumAttempts?: number;
  /** Default `'1s'`. */
  initialInterval?: string;
  /** Default `'60s'`. */
  maximumInterval?: string;
}

/** An agent: the model request it makes and the tools it may use. */
export interface AgentDefinition {
  name: string;
  description?: string;
  model: string;
  max_tokens: number;
  system?: string;
  tools: ToolDefinition<unknown>[];
  tool_choice?: ToolChoice;
  thinking?: ThinkingConfigParam;
  temperature?: number;
  stop_sequences?: string[];
  /** Default {@link DEFAULT_MAX_TURNS} (100). */
  maxTurns?: number;
  modelCall?: ModelCallOptions;
  /** Size limits (defaults: tool results 100 KB, conversation 1.2 MB, continue-as-new at 16 MB of history). */
  limits?: Partial<RunLimits>;
}

/** Define an agent (checked when a worker builds its registry). */
export function defineAgent<T extends AgentDefinition>(def: T): T {
  return def;
}
