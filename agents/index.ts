/** Every agent the project's workers serve. Add yours here. */
import { conciergeAgent } from './concierge/agent.js';
import type { AgentDefinition } from './define.js';
import { researcherAgent } from './researcher/agent.js';
import { triageAgent } from './triage/agent.js';

/** The agents served by `npm run worker`. */
export const agents: AgentDefinition[] = [triageAgent, researcherAgent, conciergeAgent];
