/**
 * Checks on a run's input that need no agent definition. Pure: used by the workflow (so a bad
 * input fails the run at once with a clear message) and by the client (so nothing is started).
 */
import type { RunInput } from './types.js';

/** The first problem with a run's input, as one line saying what to do, or null when it is fine. */
export function runInputProblem(input: unknown): string | null {
  if (typeof input !== 'object' || input === null) return 'run input must be an object { agent, prompt | messages, overrides? }';
  const i = input as Partial<Record<keyof RunInput, unknown>>;
  if (typeof i.agent !== 'string' || i.agent.trim() === '') return 'agent name is required (e.g. "triage")';
  const hasPrompt = i.prompt !== undefined;
  const hasMessages = i.messages !== undefined;
  if (hasPrompt === hasMessages) return 'give exactly one of prompt or messages';
  if (hasPrompt && (typeof i.prompt !== 'string' || i.prompt.trim() === '')) return 'prompt is empty: say what the agent should do';
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
  if (i.overrides !== undefined && (typeof i.overrides !== 'object' || i.overrides === null || Array.isArray(i.overrides))) {
    return 'overrides must be an object { model?, max_tokens?, tool_choice?, maxTurns? }';
  }
  return null;
}
