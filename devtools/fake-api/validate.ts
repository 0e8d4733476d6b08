/**
 * Request validation for the fake Messages API.
 *
 * The point is not to re-implement the real API's schema but to reject the mistakes a
 * tool-use loop actually makes (missing `tool_result`s, stray ids, bad tool definitions,
 * thinking misconfiguration) with the same 400 wording the real API uses, so that tests
 * against the fake fail where production would. Wording of the id-mismatch errors comes
 * from real responses quoted in public issues (see REFERENCE.md §12).
 */

import type { MessageCreateParamsBase } from '@anthropic-ai/sdk/resources/messages';
import { breakpointCount, breakpointTtls, MAX_BREAKPOINTS } from './prompt-cache.js';
import { checkStrictTools } from './strict.js';

type Obj = Record<string, unknown>;

/** Result of a single check: an error message, or null when the input is acceptable. */
type Problem = string | null;

/** Top-level body fields the real API accepts; anything else is "Extra inputs are not permitted". */
const KNOWN_FIELDS = new Set([
  'model',
  'messages',
  'max_tokens',
  'system',
  'tools',
  'tool_choice',
  'thinking',
  'stream',
  'metadata',
  'stop_sequences',
  'temperature',
  'top_k',
  'top_p',
  'service_tier',
  'container',
  'cache_control',
  'diagnostics',
  'inference_geo',
  'output_config',
  'output_format',
  'speed',
  'user_profile_id',
  'workspace_id',
  'mcp_servers',
  'context_management',
]);

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const CHOICE_TYPES = ['auto', 'any', 'tool', 'none'];
const THINKING_TYPES = ['enabled', 'disabled', 'adaptive', 'between_tools'];
const MIN_THINKING_BUDGET = 1024;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validate a parsed `POST /v1/messages` body the way the real API does.
 *
 * @returns the `invalid_request_error` message the real API would give, or null when the
 *   request is acceptable.
 */
export function validateMessagesRequest(body: unknown): string | null {
  if (!isObj(body)) return 'Input should be a valid dictionary';
  for (const key of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(key)) return `${key}: Extra inputs are not permitted`;
  }
  return (
    checkModel(body.model) ??
    checkMaxTokens(body.max_tokens) ??
    checkScalars(body) ??
    checkMessages(body.messages) ??
    checkSystem(body.system) ??
    checkTools(body.tools) ??
    checkToolChoice(body.tool_choice, body.tools) ??
    checkThinking(body.thinking, body.max_tokens, body.tool_choice) ??
    checkBreakpoints(body)
  );
}

/** The API's limit on cache breakpoints (blocks with `cache_control`). */
function checkBreakpoints(body: Record<string, unknown>): string | null {
  const n = breakpointCount(body as unknown as MessageCreateParamsBase);
  if (n > MAX_BREAKPOINTS) return `A maximum of ${MAX_BREAKPOINTS} blocks with cache_control may be provided. Found ${n}.`;
  // Longer-lived entries come first: a 1-hour breakpoint after a 5-minute one is refused.
  const ttls = breakpointTtls(body as unknown as MessageCreateParamsBase);
  const short = ttls.indexOf('5m');
  if (short >= 0 && ttls.indexOf('1h', short) > short)
    return "cache_control: a breakpoint with ttl='1h' must not come after one with ttl='5m' (longer TTLs first)";
  const messages = Array.isArray(body.messages) ? (body.messages as { content?: unknown }[]) : [];
  for (const [i, m] of messages.entries()) {
    if (!Array.isArray(m.content)) continue;
    for (const [j, b] of (m.content as Record<string, unknown>[]).entries()) {
      if ((b?.type === 'thinking' || b?.type === 'redacted_thinking') && b.cache_control)
        return `messages.${i}.content.${j}.${String(b.type)}.cache_control: Extra inputs are not permitted`;
    }
  }
  return null;
}

function checkModel(model: unknown): Problem {
  if (model === undefined) return 'model: Field required';
  if (typeof model !== 'string') return 'model: Input should be a valid string';
  if (model.length === 0) return 'model: String should have at least 1 character';
  return null;
}

function checkMaxTokens(maxTokens: unknown): Problem {
  if (maxTokens === undefined) return 'max_tokens: Field required';
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens)) return 'max_tokens: Input should be a valid integer';
  if (maxTokens < 1) return 'max_tokens: Input should be greater than or equal to 1';
  return null;
}

function checkScalars(body: Obj): Problem {
  if (body.stream !== undefined && typeof body.stream !== 'boolean') return 'stream: Input should be a valid boolean';
  const t = body.temperature;
  if (t !== undefined && (typeof t !== 'number' || t < 0 || t > 1)) return 'temperature: Input should be less than or equal to 1';
  const stops = body.stop_sequences;
  if (stops !== undefined && (!Array.isArray(stops) || stops.some((s) => typeof s !== 'string'))) {
    return 'stop_sequences: Input should be a valid list of strings';
  }
  return null;
}

function checkMessages(messages: unknown): Problem {
  if (messages === undefined) return 'messages: Field required';
  if (!Array.isArray(messages)) return 'messages: Input should be a valid list';
  if (messages.length === 0) return 'messages: at least one message is required';
  for (const [i, m] of messages.entries()) {
    const problem = checkMessageShape(m, i, i === messages.length - 1);
    if (problem) return problem;
  }
  const list = messages as Obj[];
  if (list[0]?.role !== 'user') return 'messages: first message must use the "user" role';
  for (const [i, m] of list.entries()) {
    const problem = checkResultsCiteUses(m, list[i - 1], i) ?? checkUsesAnswered(m, list[i + 1], i);
    if (problem) return problem;
  }
  return null;
}

function checkMessageShape(m: unknown, i: number, isLast: boolean): Problem {
  if (!isObj(m)) return `messages.${i}: Input should be a valid dictionary`;
  if (m.role === 'system') {
    return 'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.';
  }
  if (m.role !== 'user' && m.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
  const content = m.content;
  // The real API lets only a final assistant message (a prefill) be empty.
  const emptyOk = isLast && m.role === 'assistant';
  const empty = `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
  if (typeof content === 'string') return content.length === 0 && !emptyOk ? empty : null;
  if (!Array.isArray(content)) return `messages.${i}.content: Input should be a valid string or a valid list`;
  if (content.length === 0 && !emptyOk) return empty;
  for (const [j, block] of content.entries()) {
    const problem = checkBlock(block, m.role, `messages.${i}.content.${j}`);
    if (problem) return problem;
  }
  return null;
}

function checkBlock(block: unknown, role: 'user' | 'assistant', at: string): Problem {
  if (!isObj(block)) return `${at}: Input should be a valid dictionary`;
  switch (block.type) {
    case 'text':
      if (typeof block.text !== 'string') return `${at}.text.text: Field required`;
      return block.text.length === 0 ? 'messages: text content blocks must be non-empty' : null;
    case 'tool_use':
      if (typeof block.id !== 'string' || block.id.length === 0) return `${at}.tool_use.id: Field required`;
      if (typeof block.name !== 'string') return `${at}.tool_use.name: Field required`;
      return isObj(block.input) ? null : `${at}.tool_use.input: Input should be a valid dictionary`;
    case 'tool_result':
      if (role !== 'user') return `${at}: \`tool_result\` blocks can only be in \`user\` messages`;
      return typeof block.tool_use_id === 'string' ? null : `${at}.tool_result.tool_use_id: Field required`;
    case 'thinking':
      if (typeof block.thinking !== 'string') return `${at}.thinking.thinking: Field required`;
      return typeof block.signature === 'string' ? null : `${at}.thinking.signature: Field required`;
    case 'redacted_thinking':
      return typeof block.data === 'string' ? null : `${at}.redacted_thinking.data: Field required`;
    case undefined:
      return `${at}.type: Field required`;
    default:
      // Images, documents, server-tool blocks, …: accepted without looking inside.
      return typeof block.type === 'string' ? null : `${at}.type: Input should be a valid string`;
  }
}

function blocksOf(m: Obj | undefined): Obj[] {
  return Array.isArray(m?.content) ? (m.content as Obj[]) : [];
}

function toolUseIds(m: Obj | undefined): string[] {
  if (m?.role !== 'assistant') return [];
  return blocksOf(m)
    .filter((b) => b.type === 'tool_use')
    .map((b) => String(b.id));
}

/** Every `tool_result` in a user message must answer a `tool_use` of the message right before it. */
function checkResultsCiteUses(m: Obj, prev: Obj | undefined, i: number): Problem {
  if (m.role !== 'user') {
    const ids = toolUseIds(m);
    const dup = ids.find((id, k) => ids.indexOf(id) !== k);
    if (dup !== undefined) return `messages.${i}.content.${ids.lastIndexOf(dup)}: \`tool_use\` ids must be unique`;
    return null;
  }
  const offered = new Set(toolUseIds(prev));
  const seen = new Set<string>();
  for (const [j, b] of blocksOf(m).entries()) {
    if (b.type !== 'tool_result') continue;
    const id = String(b.tool_use_id);
    if (!offered.has(id)) {
      return `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
    }
    if (seen.has(id)) {
      return `messages.${i}.content.${j}: each tool_use must have a single result. Found multiple \`tool_result\` blocks with id: ${id}`;
    }
    seen.add(id);
  }
  return null;
}

/** Every `tool_use` must be answered by `tool_result`s at the start of the next (user) message. */
function checkUsesAnswered(m: Obj, next: Obj | undefined, i: number): Problem {
  const ids = toolUseIds(m);
  if (ids.length === 0) return null;
  const answered = new Set<string>();
  if (next?.role === 'user') {
    for (const b of blocksOf(next)) {
      if (b.type !== 'tool_result') break; // results must lead the message
      answered.add(String(b.tool_use_id));
    }
  }
  const missing = ids.filter((id) => !answered.has(id));
  if (missing.length === 0) return null;
  return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
}

function checkSystem(system: unknown): Problem {
  if (system === undefined || typeof system === 'string') return null;
  if (!Array.isArray(system)) return 'system: Input should be a valid string';
  for (const [k, b] of system.entries()) {
    if (!isObj(b) || b.type !== 'text') return `system.${k}.type: Input should be 'text'`;
    if (typeof b.text !== 'string') return `system.${k}.text: Field required`;
    if (b.text.length === 0) return 'system: text content blocks must be non-empty';
  }
  return null;
}

function checkTools(tools: unknown): Problem {
  if (tools === undefined) return null;
  if (!Array.isArray(tools)) return 'tools: Input should be a valid list';
  const names = new Set<string>();
  for (const [n, tool] of tools.entries()) {
    if (!isObj(tool)) return `tools.${n}: Input should be a valid dictionary`;
    const custom = tool.type === undefined || tool.type === null || tool.type === 'custom';
    const at = custom ? `tools.${n}.custom` : `tools.${n}.${String(tool.type)}`;
    if (typeof tool.name !== 'string') return `${at}.name: Field required`;
    if (custom) {
      if (!TOOL_NAME.test(tool.name)) return `${at}.name: String should match pattern '${TOOL_NAME.source}'`;
      if (tool.input_schema === undefined) return `${at}.input_schema: Field required`;
      if (!isObj(tool.input_schema)) return `${at}.input_schema: Input should be a valid dictionary`;
      if (tool.input_schema.type !== 'object') return `${at}.input_schema.type: Input should be 'object'`;
    }
    if (names.has(tool.name)) return 'tools: Tool names must be unique.';
    names.add(tool.name);
  }
  return checkStrictTools(tools);
}

function checkToolChoice(choice: unknown, tools: unknown): Problem {
  if (choice === undefined) return null;
  const type = isObj(choice) ? choice.type : undefined;
  if (!isObj(choice) || typeof type !== 'string' || !CHOICE_TYPES.includes(type)) {
    return `tool_choice: Input tag '${String(type)}' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'`;
  }
  const parallel = choice.disable_parallel_tool_use;
  if (parallel !== undefined) {
    if (type === 'none') return 'tool_choice.none.disable_parallel_tool_use: Extra inputs are not permitted';
    if (typeof parallel !== 'boolean') return `tool_choice.${type}.disable_parallel_tool_use: Input should be a valid boolean`;
  }
  if (type === 'tool' && typeof choice.name !== 'string') return 'tool_choice.tool.name: Field required';
  const offered = Array.isArray(tools) ? tools.filter(isObj).map((t) => t.name) : [];
  if ((type === 'any' || type === 'tool') && offered.length === 0) {
    return 'tool_choice: tool_choice may only be specified while providing tools.';
  }
  if (type === 'tool' && !offered.includes(choice.name)) {
    return `tool_choice.tool.name: Tool '${String(choice.name)}' not found in provided tools`;
  }
  return null;
}

function checkThinking(thinking: unknown, maxTokens: unknown, choice: unknown): Problem {
  if (thinking === undefined) return null;
  const type = isObj(thinking) ? thinking.type : undefined;
  if (!isObj(thinking) || typeof type !== 'string' || !THINKING_TYPES.includes(type)) {
    return `thinking: Input tag '${String(type)}' found using 'type' does not match any of the expected tags: ${THINKING_TYPES.map((t) => `'${t}'`).join(', ')}`;
  }
  if (type === 'enabled') {
    const budget = thinking.budget_tokens;
    if (budget === undefined) return 'thinking.enabled.budget_tokens: Field required';
    if (typeof budget !== 'number' || !Number.isInteger(budget)) return 'thinking.enabled.budget_tokens: Input should be a valid integer';
    if (budget < MIN_THINKING_BUDGET)
      return `thinking.enabled.budget_tokens: Input should be greater than or equal to ${MIN_THINKING_BUDGET}`;
    if (typeof maxTokens === 'number' && budget >= maxTokens) {
      return '`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size';
    }
  }
  const forced = isObj(choice) && (choice.type === 'any' || choice.type === 'tool');
  if ((type === 'enabled' || type === 'adaptive') && forced) {
    return 'Thinking may not be enabled when tool_choice forces tool use.';
  }
  return null;
}
