/**
 * The offline demo's "model": it plays whichever shipped agent asks, told apart by the tools the
 * request offers — web search → the researcher, the agents-as-tools → the concierge, else triage.
 */
import { conciergeBrain } from './concierge-brain.js';
import { researcherBrain } from './researcher-brain.js';
import type { FakeReply, RecordedRequest } from './server.js';
import { triageBrain } from './triage-brain.js';

const offers = (req: RecordedRequest, name: string) => (req.body.tools ?? []).some((t) => 'name' in t && t.name === name);

/** A reply for any request of the shipped agents. */
export function demoBrain(req: RecordedRequest): FakeReply {
  if (offers(req, 'web_search')) return researcherBrain(req);
  if (offers(req, 'ask_researcher')) return conciergeBrain(req);
  return triageBrain(req);
}
