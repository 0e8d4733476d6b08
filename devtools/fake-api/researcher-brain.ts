/**
 * The scripted "model" behind the researcher agent offline: Claude with web search, in the block
 * shapes the real API streams. The first request gets a turn the API paused (`pause_turn`) after
 * two searches — a short text, then `server_tool_use` and `web_search_tool_result` blocks — and
 * the resumed request gets the answer, its sentences cited (`web_search_result_location`). Usage
 * reports the searches (`server_tool_use.web_search_requests`). The "web" is a small fixed corpus.
 */
import type { ContentBlock, MessageParam, TextBlock, WebSearchResultBlock } from '@anthropic-ai/sdk/resources/messages';
import { newId, type FakeReply, type RecordedRequest } from './server.js';

interface Page {
  url: string;
  title: string;
  text: string;
  page_age: string;
}

/** The fixed "web": pages about durable execution for agents. */
export const CORPUS: Page[] = [
  {
    url: 'https://docs.temporal.io/workflow-execution',
    title: 'Temporal Workflow Execution overview',
    text: 'A Temporal Workflow Execution is durable, reliable, and scalable: its state is persisted as an event history, so it resumes after a crash exactly where it left off.',
    page_age: 'October 2, 2026',
  },
  {
    url: 'https://docs.temporal.io/activities',
    title: 'What is a Temporal Activity?',
    text: 'Activities run the failure-prone work, such as calls to external APIs, and are retried automatically according to their retry policy.',
    page_age: 'September 14, 2026',
  },
  {
    url: 'https://platform.claude.com/docs/en/agents-and-tools/tool-use/overview',
    title: 'Tool use with Claude',
    text: 'When Claude decides to use a tool, the response has stop_reason tool_use; your code runs the tool and returns a tool_result block in the next user message.',
    page_age: 'November 3, 2026',
  },
  {
    url: 'https://platform.claude.com/docs/en/build-with-claude/prompt-caching',
    title: 'Prompt caching',
    text: 'Prompt caching lets later requests reuse a prompt prefix: cache reads cost a tenth of the base input price.',
    page_age: 'October 21, 2026',
  },
];

/** An opaque token where the real API puts encrypted data (it only needs to round-trip). */
function opaque(seed: string): string {
  return Buffer.from(`agent-runner-fake:${seed}`).toString('base64');
}

function questionOf(messages: readonly MessageParam[]): string {
  const first = messages.find((m) => m.role === 'user');
  if (!first) return '';
  return typeof first.content === 'string' ? first.content : first.content.map((b) => (b.type === 'text' ? b.text : '')).join(' ');
}

/** The three pages sharing most words of 5+ letters with the query (ties in corpus order). */
function search(query: string): Page[] {
  const words = [...new Set(query.toLowerCase().match(/[a-z]{5,}/g) ?? [])];
  const score = (p: Page) => words.filter((w) => `${p.title} ${p.text}`.toLowerCase().includes(w)).length;
  return CORPUS.map((p, i) => ({ p, i, s: score(p) }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, 3)
    .map((x) => x.p);
}

const results = (pages: Page[]): WebSearchResultBlock[] =>
  pages.map((p) => ({ type: 'web_search_result', url: p.url, title: p.title, encrypted_content: opaque(p.url), page_age: p.page_age }));

const usage = (searches: number) => ({ server_tool_use: { web_search_requests: searches, web_fetch_requests: 0 } });

/** Decide the researcher's next reply: the paused searching turn, then the cited answer. */
export function researcherBrain(req: RecordedRequest): FakeReply {
  const { messages, model } = req.body;
  const question = questionOf(messages).trim() || 'durable execution';
  const resumed = messages.at(-1)?.role === 'assistant';
  if (!resumed) {
    const queries = [question.slice(0, 200), `${question.slice(0, 120)} official documentation`];
    const content: ContentBlock[] = [{ type: 'text', text: "I'll search for that.", citations: null }];
    for (const query of queries) {
      const id = newId('srvtoolu_');
      content.push({ type: 'server_tool_use', id, name: 'web_search', input: { query }, caller: { type: 'direct' } });
      content.push({ type: 'web_search_tool_result', tool_use_id: id, content: results(search(query)), caller: { type: 'direct' } });
    }
    return { kind: 'message', content, stop_reason: 'pause_turn', model, usage: usage(queries.length) };
  }
  const pages = search(question);
  const cited = (p: Page): TextBlock => ({
    type: 'text',
    text: p.text,
    citations: [
      { type: 'web_search_result_location', url: p.url, title: p.title, encrypted_index: opaque(`${p.url}#0`), cited_text: p.text },
    ],
  });
  const content: ContentBlock[] = [
    { type: 'text', text: 'Here is what the sources say. ', citations: null },
    ...pages
      .flatMap((p, i) => [cited(p), { type: 'text' as const, text: i < pages.length - 1 ? ' ' : '', citations: null }])
      .filter((b) => b.type !== 'text' || b.text !== ''),
  ];
  return { kind: 'message', content, stop_reason: 'end_turn', model, usage: usage(0) };
}
