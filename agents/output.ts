/**
 * Structured output at resolution: the run's output schema (or the agent's default) becomes the
 * runner's output tool — `strict: true`, the schema normalized for strict mode as its
 * `input_schema` — plus a paragraph of the system prompt asking the model to finish with it. The
 * result is recorded with the run's configuration (`RunConfig.output`); the workflow validates
 * the model's call against it (workflows/output.ts).
 */
import { z } from 'zod';
import type { ResolveAgentInput } from '../contract/activities.js';
import type { RunConfig } from '../contract/config.js';
import { InvalidRunInputError } from '../contract/failures.js';
import type { TextBlockParam, Tool } from '../contract/messages.js';
import {
  DEFAULT_OUTPUT_ATTEMPTS,
  MAX_OUTPUT_ATTEMPTS,
  normalizeOutputSchema,
  OUTPUT_TOOL,
  OUTPUT_TOOL_DESCRIPTION,
  outputInstruction,
  outputSchemaProblem,
  type JsonSchema,
} from '../contract/output-schema.js';
import type { AgentDefinition } from './define.js';

/**
 * An agent's default output schema as JSON Schema: a zod schema converted. What zod writes on its
 * own that strict tool use lacks is left out: a `pattern` beside a `format` (`z.iso.date()`: the
 * format says it), and `z.int()`'s safe-integer bounds. Bounds the schema sets itself stay, and
 * are refused with the rest.
 */
export function agentOutputSchema(def: Pick<AgentDefinition, 'outputSchema'>): JsonSchema | undefined {
  const s = def.outputSchema;
  if (s === undefined) return undefined;
  if (typeof (s as { safeParse?: unknown }).safeParse !== 'function') return s as JsonSchema;
  return dropZodImplicits(z.toJSONSchema(s as z.ZodType, { io: 'input' })) as JsonSchema;
}

function dropZodImplicits(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(dropZodImplicits);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = dropZodImplicits(v);
  if (typeof out.format === 'string' && typeof out.pattern === 'string') delete out.pattern;
  if (out.type === 'integer' && out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
  if (out.type === 'integer' && out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  return out;
}

/** The problem with an agent's structured-output defaults, or null (checked when a worker starts). */
export function agentOutputProblem(def: AgentDefinition): string | null {
  const n = def.outputAttempts;
  if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= MAX_OUTPUT_ATTEMPTS))
    return `outputAttempts must be an integer from 1 to ${MAX_OUTPUT_ATTEMPTS}`;
  let schema: JsonSchema | undefined;
  try {
    schema = agentOutputSchema(def);
  } catch (e) {
    return `outputSchema: ${(e as Error).message}`;
  }
  return schema === undefined ? null : outputSchemaProblem(schema);
}

/**
 * The run's configuration with its structured output: the output tool added last to the tools,
 * the instruction to the system prompt, `output` recorded. Unchanged when neither the run nor
 * the agent asks for structured output (and for sessions). Throws {@link InvalidRunInputError}
 * when the rest of the configuration makes it impossible.
 */
export function withStructuredOutput(
  config: RunConfig,
  def: AgentDefinition,
  request: Pick<ResolveAgentInput, 'output' | 'session'>,
): RunConfig {
  if (request.session) return config;
  const schema = request.output?.schema ?? agentOutputSchema(def);
  if (schema === undefined) {
    if (request.output?.maxAttempts !== undefined)
      throw new InvalidRunInputError(`outputAttempts was given, but neither the run nor agent "${def.name}" has an output schema`);
    return config;
  }
  const problem = outputSchemaProblem(schema);
  if (problem) throw new InvalidRunInputError(problem);
  const tools = config.request.tools ?? [];
  if (tools.some((t) => 'name' in t && t.name === OUTPUT_TOOL)) {
    throw new InvalidRunInputError(
      `agent "${def.name}" offers a tool named "${OUTPUT_TOOL}", the name of the runner's structured-output tool: rename it (for an MCP server's tool, give the server a prefix)`,
    );
  }
  const tc = config.request.tool_choice;
  if (tc?.type === 'none')
    throw new InvalidRunInputError('tool_choice "none" forbids every tool call, the structured output\'s too: use "auto" or "any"');
  if (tc?.type === 'tool') {
    throw new InvalidRunInputError(
      `tool_choice forces tool "${tc.name}" on every call, so the model could never give its structured output: use "auto" or "any"`,
    );
  }
  const inputSchema = normalizeOutputSchema(schema);
  const tool: Tool = {
    name: OUTPUT_TOOL,
    description: OUTPUT_TOOL_DESCRIPTION,
    input_schema: inputSchema as Tool['input_schema'],
    strict: true,
  };
  const instruction = outputInstruction(OUTPUT_TOOL);
  const system = config.request.system;
  return {
    ...config,
    request: {
      ...config.request,
      system:
        system === undefined
          ? instruction
          : typeof system === 'string'
            ? `${system}\n\n${instruction}`
            : [...system, { type: 'text', text: instruction } satisfies TextBlockParam],
      tools: [...tools, tool],
    },
    output: {
      tool: OUTPUT_TOOL,
      schema: inputSchema,
      maxAttempts: request.output?.maxAttempts ?? def.outputAttempts ?? DEFAULT_OUTPUT_ATTEMPTS,
    },
  };
}
