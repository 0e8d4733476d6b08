/**
 * The researcher: answers questions from the web with Claude's own web search (a server tool the
 * API runs), citing its sources. The runner sends the tool to the API untouched, keeps the
 * `server_tool_use`, search results and citations verbatim in the transcript, resumes paused
 * turns (`pause_turn`), and bills each search ($10 per 1 000) into the run's ledger.
 */
import { defineAgent } from '../define.js';

/** The agent definition served by workers as `researcher`. */
export const researcherAgent = defineAgent({
  name: 'researcher',
  description: 'Answers questions from the web, citing its sources',
  model: 'claude-sonnet-4-6',
  max_tokens: 2048,
  system:
    'You are a careful research assistant. Search the web before you answer, prefer primary sources ' +
    '(official documentation, the authors themselves), cite every claim you take from a page, and say ' +
    'plainly when the sources disagree or do not answer the question. Answer in a few short paragraphs.',
  tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 5 }],
  maxTurns: 10,
});
