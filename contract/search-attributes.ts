/**
 * The search attributes a run keeps up to date, so runs can be found and filtered in the
 * Temporal UI and by `agent-runner list`. They must be registered on the server
 * (`npm run server` and the tests do it; see the README for other clusters).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Agent name, e.g. `triage`. */
export const AgentName = defineSearchAttributeKey('AgentName', SearchAttributeType.KEYWORD);
/** `running` | `awaiting_approval` | `awaiting_message` | `awaiting_budget` | `completed` | `failed` | `cancelled`. */
export const AgentStatus = defineSearchAttributeKey('AgentStatus', SearchAttributeType.KEYWORD);
/** Model calls made so far. */
export const AgentTurns = defineSearchAttributeKey('AgentTurns', SearchAttributeType.INT);
/** Input plus output tokens so far. */
export const AgentTokens = defineSearchAttributeKey('AgentTokens', SearchAttributeType.INT);

/** USD spent so far (runs whose model has a price; set only where the worker found it registered). */
export const AgentCostUsd = defineSearchAttributeKey('AgentCostUsd', SearchAttributeType.DOUBLE);

/** The keys every run needs (set by the client at start). */
export const BASE_SEARCH_ATTRIBUTES = [AgentName, AgentStatus, AgentTurns, AgentTokens] as const;
/** Every key, for registration. */
export const SEARCH_ATTRIBUTES = [...BASE_SEARCH_ATTRIBUTES, AgentCostUsd] as const;
