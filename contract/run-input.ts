/**
 * Checks on a run's input that need no agent definition. Pure: used by the client (so nothing is
 * started) and by the workflow (so a bad input from any other client fails the run at once with
 * the same line). Agent-specific checks (a `tool_choice` naming a tool the agent lacks, a model
 * the agent's key may not use) happen when the run resolves its agent, in its first task.
 */
import { MAX_CONVERSATION_BYTES } from './config.js';
import { MAX_OUTPUT_ATTEMPTS, outputSchemaProblem } from './output-schema.js';
import { MAX_AGENT_DEPTH, OVERRIDE_KEYS, type RunInput } from './run.js';

/** A duration Temporal reads: a number and a unit. */
const DURATION = /^\d+(\.\d+)?\s*(ms|s|m|h|d)$/;

/** UTF-8 bytes of a value as JSON (what a payload carries), without Node's Buffer. */
export function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value) ?? '').length;
}

/** The one line for a conversation over its byte limit, wherever it is found. */
export function conversationTooLarge(bytes: number, limit: number, when = ''): string {
  return (
    `the conversation is ${bytes} bytes${when}, over the ${limit}-byte limit of a run's conversation: ` +
    'shorten the prompt, or give the agent a tool that fetches large data'
  );
}

/** The first problem with a run's input, as one line saying what to do, or null when it is fine. */
export function runInputProblem(input: unknown): string | null {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return 'run input must be an object { agent, prompt | messages, overrides? }';
  const i = input as Partial<Record<keyof RunInput, unknown>>;
  if (typeof i.agent !== 'string' || i.agent.trim() === '') return 'agent name is required (e.g. "triage")';
  const output = outputProblem(i);
  if (output) return output;
  const hasPrompt = i.prompt !== undefined;
  const hasMessages = i.messages !== undefined;
  if (i.session !== undefined) {
    const s = i.session as { idleTimeout?: unknown } | null;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) return 'session must be an object { idleTimeout? }';
    if (s.idleTimeout !== undefined && (typeof s.idleTimeout !== 'string' || !DURATION.test(s.idleTimeout))) {
      return 'session.idleTimeout must be a duration such as "30m", "24h" or "7d"';
    }
    if (hasPrompt && hasMessages) return 'give at most one of prompt or messages';
    if (!hasPrompt && !hasMessages) return null; // a session may start empty: its first message is sent
  } else if (hasPrompt === hasMessages) return 'give exactly one of prompt or messages';
  if (hasPrompt && typeof i.prompt !== 'string') return `prompt must be a string, got ${kind(i.prompt)}`;
  if (hasPrompt && (i.prompt as string).trim() === '') return 'prompt is empty: say what the agent should do';
  if (hasMessages) {
    if (!Array.isArray(i.messages) || i.messages.length === 0) return 'messages must be a non-empty array';
    for (const [n, m] of i.messages.entries()) {
      if (typeof m !== 'object' || m === null) return `messages.${n} must be an object { role, content }`;
      const { role, content } = m as { role?: unknown; content?: unknown };
      if (role !== 'user' && role !== 'assistant') return `messages.${n}.role must be "user" or "assistant"`;
      if (typeof content !== 'string' && !Array.isArray(content)) return `messages.${n}.content must be a string or an array of blocks`;
    }
    if ((i.messages[0] as { role: string }).role !== 'user') return 'the first message must have role "user"';
  }
  const overrides = overridesProblem(i.overrides);
  if (overrides) return overrides;
  const parent = parentProblem(i.parent);
  if (parent) return parent;
  const bytes = jsonBytes(hasPrompt ? [{ role: 'user', content: i.prompt }] : i.messages);
  if (bytes > MAX_CONVERSATION_BYTES) return conversationTooLarge(bytes, MAX_CONVERSATION_BYTES);
  return null;
}

/** The largest USD budget a run may be given (or raised to): a typo guard, not a policy. */
export const MAX_BUDGET_USD = 1_000_000;

/** The first problem with a run's overrides (their shapes; the agent checks the rest), or null. */
export function overridesProblem(o: unknown): string | null {
  if (o === undefined) return null;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return `overrides must be an object { ${OVERRIDE_KEYS.join('?, ')}? }`;
  const known: readonly string[] = OVERRIDE_KEYS;
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) return `unknown override "${k}": use ${OVERRIDE_KEYS.slice(0, -1).join(', ')} or ${OVERRIDE_KEYS.at(-1)}`;
  }
  const v = o as Record<string, unknown>;
  if (v.model !== undefined && (typeof v.model !== 'string' || v.model.trim() === '')) return 'override model must be a non-empty string';
  for (const k of ['max_tokens', 'maxTurns', 'maxTotalTokens'] as const) {
    const n = v[k];
    if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 1)) {
      return `override ${k} must be a positive integer, got ${JSON.stringify(n) ?? kind(n)}`;
    }
  }
  const usd = v.maxCostUsd;
  if (usd !== undefined && (typeof usd !== 'number' || !Number.isFinite(usd) || usd <= 0 || usd > MAX_BUDGET_USD)) {
    return `override maxCostUsd must be a number of dollars above 0 and at most ${MAX_BUDGET_USD}, got ${JSON.stringify(usd) ?? kind(usd)}`;
  }
  const tc = v.tool_choice;
  if (tc !== undefined) {
    const type = typeof tc === 'object' && tc !== null ? (tc as { type?: unknown }).type : undefined;
    if (typeof type !== 'string' || !['auto', 'any', 'tool', 'none'].includes(type))
      return 'override tool_choice.type must be one of auto, any, tool, none';
    if (type === 'tool' && typeof (tc as { name?: unknown }).name !== 'string')
      return 'override tool_choice of type "tool" needs the tool\'s name';
  }
  return null;
}

/** The problem with a run's `parent` (set by a parent run starting a sub-agent), or null. */
function parentProblem(p: unknown): string | null {
  if (p === undefined) return null;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'parent must be an object { workflowId, agent, toolUseId, depth }';
  const { workflowId, agent, toolUseId, depth } = p as Record<string, unknown>;
  if (typeof workflowId !== 'string' || typeof agent !== 'string' || typeof toolUseId !== 'string')
    return 'parent.workflowId, parent.agent and parent.toolUseId must be strings';
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1 || depth > MAX_AGENT_DEPTH)
    return `parent.depth must be an integer from 1 to ${MAX_AGENT_DEPTH} (agents call agents at most ${MAX_AGENT_DEPTH} deep)`;
  return null;
}

/** The problem with a run's structured output (its schema and attempts), or null. */
function outputProblem(i: Partial<Record<keyof RunInput, unknown>>): string | null {
  const n = i.outputAttempts;
  if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_OUTPUT_ATTEMPTS))
    return `outputAttempts must be an integer from 1 to ${MAX_OUTPUT_ATTEMPTS}, got ${JSON.stringify(n) ?? kind(n)}`;
  if (i.outputSchema === undefined) return null;
  if (i.session !== undefined) return 'outputSchema is for one-shot runs: a session has no structured output';
  return outputSchemaProblem(i.outputSchema);
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}
