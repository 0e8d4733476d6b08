/**
 * The agents bench workers serve: the test agents (toolbox with `echo`, longrun with `blob`) plus
 * `longrun-1k`, the longrun agent with room for a 1,000-turn conversation.
 *
 * Why a variant: the context policy elides old tool *results* only, so every turn still leaves
 * its assistant `tool_use` block and a placeholder result (~470 bytes with 1 KB outputs). Under
 * longrun's 300 KB budget that skeleton alone exceeds the budget near turn 650, and the run fails
 * ("the conversation exceeds 307200 bytes even with every older tool result removed"). A 1 MB
 * budget fits 1,000 turns; everything else (tools, timeouts, continue-as-new at 2 MB) is longrun's.
 */
import type { AgentDefinition } from '../agents/define.js';
import { longrunAgent, testAgents } from '../test/support/agents.js';

export const longrun1kAgent: AgentDefinition = {
  ...longrunAgent,
  name: 'longrun-1k',
  limits: { ...longrunAgent.limits, conversationMaxBytes: 1_000_000 },
};

/** The catalog (AGENT_RUNNER_AGENTS points here for bench workers). */
export const agents: AgentDefinition[] = [...testAgents, longrun1kAgent];
