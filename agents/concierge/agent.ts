/**
 * The concierge: answers a customer by handing each part of the question to the agent that knows
 * it — order questions to `triage`, general questions to the `researcher` — and writing one reply
 * from their answers. Both are offered as tools (`agentTool`): each call is a child workflow with
 * its own history, the calls of one turn run in parallel, their spend rolls up into the
 * concierge's ledger, and an approval the triage agent waits for (a support ticket) shows in
 * `agent-runner pending` with the concierge's run named.
 */
import { agentTool, defineAgent } from '../define.js';

/** The agent definition served by workers as `concierge`. */
export const conciergeAgent = defineAgent({
  name: 'concierge',
  description: 'Answers customers, asking the triage agent about orders and the researcher everything else',
  model: 'claude-haiku-4-5',
  max_tokens: 1024,
  system:
    'You are the front desk of an online shop. Hand questions about orders to ask_triage (with the order ' +
    'numbers) and other questions to ask_researcher; ask both at once when a message has both. Then answer ' +
    'the customer in one short, friendly reply built from their answers.',
  tools: [
    agentTool({
      name: 'ask_triage',
      description: 'Ask the support triage agent about orders (status, delivery, tickets).',
      agent: 'triage',
    }),
    agentTool({ name: 'ask_researcher', description: 'Ask the researcher a general question; it searches the web.', agent: 'researcher' }),
  ],
  maxTurns: 6,
});
