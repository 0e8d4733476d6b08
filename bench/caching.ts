/**
 * Prompt caching, measured: the same 20-turn triage-style run (a support agent with a long system
 * prompt and four tools looks up 19 orders one at a time, then answers) against the fake Messages
 * API, which accounts prompt caching as the API does (devtools/fake-api/prompt-cache.ts: prefix
 * match → cache reads, a new prefix → cache writes, 1024-token minimum, entries that expire after
 * their TTL). Variants: the runner's breakpoints with a 5-minute TTL (the default for an agent
 * without approval tools), with a 1-hour TTL (the default for one with them), and caching off;
 * then the two TTLs again with 10 minutes passing on the fake's clock before turn 11, as a
 * person's approval would make (without caching, time changes nothing). Tokens come from the run's ledger; USD from the built-in price
 * table for claude-sonnet-4-6. Token counts are deterministic (the fake counts 4 characters of
 * JSON a token), so one run per variant is the measurement.
 *
 * `npm run bench:caching` (~1 min): prints the table and writes BENCHMARKS.md's `bench:caching` region.
 */
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { ContentBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { z } from 'zod';
import { defineAgent, defineTool, ToolError, type AgentDefinition } from '../agents/define.js';
import { AgentRunner } from '../client/runner.js';
import { dataConverter } from '../connection/codecs.js';
import { builtInPrices, callCost, formatUsd, noBilledUsage, priceOf, PRICES_CHECKED, type ModelSpend } from '../contract/prices.js';
import { fastModelCall } from '../devtools/agents.js';
import { message, text, textBlock, toolUse } from '../devtools/fake-api/replies.js';
import { promptSegments } from '../devtools/fake-api/prompt-cache.js';
import { FakeMessagesApi, type FakeReply, type RecordedRequest } from '../devtools/fake-api/server.js';
import { startDevServer } from '../scripts/dev-server.js';
import { BUNDLE_OPTIONS, createAgentWorker } from '../worker/create-worker.js';
import { environment, Output, progress, writeRegion } from './report.js';

const MODEL = 'claude-sonnet-4-6';
/** The orders the customer asks about: 19 lookups, one per turn, then the answer (turn 20). */
const ORDER_IDS = Array.from({ length: 19 }, (_, i) => String(70_113 + i * 37));
/** Before which turn the wait variants let time pass, and how much. */
const WAIT_BEFORE_TURN = 11;
const WAIT_MS = 10 * 60_000;

// ── The agent: a support-triage agent as a real shop would write it (long, stable instructions) ──

const REGIONS = [
  ['Pacific Northwest', 'UPS', 3, 1, '14:00 PT', 6.95],
  ['California', 'UPS', 2, 1, '15:00 PT', 5.95],
  ['Mountain West', 'FedEx', 4, 2, '13:00 MT', 7.95],
  ['Southwest', 'FedEx', 4, 2, '13:00 MT', 7.95],
  ['Midwest', 'UPS', 4, 2, '12:00 CT', 7.45],
  ['Texas and Oklahoma', 'FedEx', 4, 2, '12:00 CT', 7.45],
  ['Southeast', 'UPS', 5, 2, '11:00 ET', 8.45],
  ['Mid-Atlantic', 'UPS', 4, 2, '11:00 ET', 7.95],
  ['New England', 'USPS', 5, 2, '11:00 ET', 8.45],
  ['Alaska', 'USPS', 8, 3, '10:00 AKT', 19.95],
  ['Hawaii', 'USPS', 7, 3, '10:00 HST', 19.95],
  ['Canada (all provinces)', 'DHL', 7, 3, '10:00 PT', 24.95],
] as const;
const CATEGORIES = [
  ['Footwear', 60, 'unworn, indoor try-on only', 0, 'resoled or custom-fit boots are final sale'],
  ['Rainwear and shells', 60, 'tags attached, unwashed', 0, 'seam-taped repairs void the return'],
  ['Insulated jackets', 60, 'tags attached', 0, 'down items returned after 30 days get store credit'],
  ['Base layers and socks', 30, 'unopened packaging', 0, 'opened merino socks are final sale for hygiene reasons'],
  ['Tents and shelters', 45, 'complete, dry and clean', 10, 'a tent returned wet is refused at the warehouse'],
  ['Sleeping bags and pads', 45, 'in the original stuff sack', 10, 'pads with punctures are warranty, not returns'],
  ['Packs', 60, 'no trail wear', 0, 'custom-embroidered packs are final sale'],
  ['Stoves and fuel', 30, 'never fired', 15, 'fuel canisters cannot be returned or shipped back'],
  ['Cookware', 30, 'unused', 0, 'engraved items are final sale'],
  ['Headlamps and electronics', 30, 'with all cables, batteries removed', 15, 'lithium batteries ship back by ground only'],
  ['Climbing hardware', 14, 'unused, in sealed packaging', 0, 'ropes and harnesses that left the package are final sale'],
  ['Bikes and bike parts', 30, 'unridden', 20, 'assembled bikes are picked up by freight, not parcel'],
  ['Skis and snowboards', 30, 'unmounted bases', 15, 'mounted bindings are final sale'],
  ['Water treatment', 30, 'unused filters', 0, 'opened filter cartridges are final sale'],
  ['Gift cards', 0, 'not returnable', 0, 'lost gift cards can be reissued with the purchase receipt'],
] as const;
const BRANDS = [
  ['Summit Peak', 'lifetime against defects', 'repairs first, then replacement'],
  ['Northwall', '5 years', 'replacement with the current model'],
  ['Cascade Gear', '2 years', 'repair at the Portland service center'],
  ['Ridgeline', '3 years', 'replacement or store credit'],
  ['Trailhead Co.', '1 year', 'replacement only'],
  ['Alpenglow', 'lifetime on zippers and seams', 'free zipper repair, shipping paid by the customer'],
  ['Riverstone', '2 years', 'repair or replacement, the brand decides'],
  ['Basecamp Labs', '3 years on electronics', 'advance replacement for headlamps'],
  ['Granite Works', '10 years on frames', 'frame replacement, wear parts excluded'],
  ['Driftwood', '1 year', 'store credit only'],
  ['Polar Line', '5 years on insulation', 'refill or replacement'],
  ['Switchback', '2 years', 'repair, or replacement when repair costs more than half the price'],
] as const;

export const SYSTEM_PROMPT = [
  'You are the order-support agent of Switchback Outfitters, an online shop for outdoor gear. You answer customers and',
  'business accounts about their orders: where an order is, when it will arrive, what can be returned, what the warranty',
  'covers. You are precise, brief and friendly. You never guess an order status, a date or a price: you look it up with',
  'the tools, and when a tool cannot tell you, you say so and offer a support ticket.',
  '',
  '## How to work',
  '- Look up every order the customer mentions with get_order_status before you say anything about it. Look orders up',
  '  one at a time when the customer asks for a careful review, so that you can note what needs attention as you go.',
  '- An order needs attention when it is delayed, when the carrier reported an exception, when it has been "processing"',
  '  for more than five business days, or when its estimated delivery is later than the date the customer needs it.',
  '- For a business account, give one line per order (id, status, what to do) and a short list of the orders that need',
  '  attention at the end. Do not repeat the full tracking history unless asked.',
  '- Never promise a delivery date the carrier did not give. Say "the carrier estimates" and quote the date.',
  '- Never promise a refund amount: refunds are decided by the returns team. You may explain the policy below.',
  '- When a customer is upset, acknowledge it once, then move to what you can do. Do not apologize repeatedly.',
  '- Do not ask for or repeat payment card numbers, passwords or full addresses. Refer to a city at most.',
  '- If the customer asks something outside orders, shipping, returns and warranty, say what you can help with.',
  '- Write dates as YYYY-MM-DD. Write money with the currency, e.g. USD 12.50.',
  '',
  '## Shipping zones',
  'Orders ship from the Reno, Nevada warehouse. Orders placed before the cutoff on a business day leave the same day.',
  ...REGIONS.map(
    ([region, carrier, std, exp, cutoff, fee]) =>
      `- ${region}: carrier ${carrier}; standard ${std} business days, express ${exp} business day${exp > 1 ? 's' : ''}; cutoff ${cutoff}; ` +
      `standard shipping USD ${fee.toFixed(2)}, free above USD 99; express adds USD ${(fee * 2).toFixed(2)}.`,
  ),
  'A carrier exception (address problem, damaged parcel, weather hold) adds two business days on average; offer a ticket.',
  '',
  '## Returns',
  'Returns start at switchback.example/returns with the order id and the email of the order. The customer gets a prepaid',
  'label for items over USD 50; below that the label costs USD 6.95, taken from the refund. Refunds go to the original',
  'payment method within 10 business days of the parcel reaching the warehouse.',
  ...CATEGORIES.map(
    ([cat, days, condition, fee, exception]) =>
      `- ${cat}: ${days > 0 ? `${days} days from delivery` : 'no returns'}; condition: ${condition}; ` +
      `${fee > 0 ? `restocking fee ${fee}%` : 'no restocking fee'}; note: ${exception}.`,
  ),
  '',
  '## Warranty by brand',
  'Warranty claims need the order id and photos of the defect. Normal wear, misuse and cosmetic damage are not covered.',
  ...BRANDS.map(([brand, term, remedy]) => `- ${brand}: ${term}; remedy: ${remedy}.`),
  '',
  '## Tickets',
  'Offer a support ticket when an order needs a person: a lost parcel (no carrier scan for 5 business days), a damaged',
  'delivery, a wrong item, a warranty claim, or a refund that has not arrived after 10 business days. Summarize the',
  'problem in one or two sentences and give the customer the ticket id.',
].join('\n');

/** A deterministic order for any id: status, carrier, items and tracking events (~0.7 KB of JSON). */
export function benchOrder(orderId: string) {
  const n = [...orderId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_003, 7);
  const statuses = ['shipped', 'shipped', 'delivered', 'processing', 'delayed', 'shipped', 'exception'] as const;
  const status = statuses[n % statuses.length]!;
  const region = REGIONS[n % REGIONS.length]!;
  const gear = ['Trail running shoes', 'Rain shell', 'Down jacket', 'Merino socks (3 pairs)', '2-person tent', 'Sleeping pad'];
  const more = ['Headlamp', 'Water filter', 'Trekking poles', 'Camp stove', 'Daypack 22 L', 'Insulated bottle'];
  const items = [gear[n % gear.length]!, more[(n >> 3) % more.length]!, ...(n % 3 === 0 ? [more[(n >> 5) % more.length]!] : [])].map(
    (name, i) => ({ sku: `SW-${(n + i * 977) % 100_000}`, name, quantity: 1 + ((n >> i) % 3), unit_price_usd: 19 + ((n * (i + 3)) % 280) }),
  );
  const day = (d: number) => new Date(Date.UTC(2026, 10, 2 + d)).toISOString().slice(0, 10);
  const events = [
    { date: day(0), event: 'order placed', location: 'online' },
    ...(status === 'processing' ? [] : [{ date: day(1), event: 'left warehouse', location: 'Reno, NV' }]),
    ...(status === 'processing' ? [] : [{ date: day(2), event: 'in transit', location: `${region[1]} hub` }]),
    ...(status === 'delayed' ? [{ date: day(4), event: 'delayed: weather hold', location: `${region[1]} hub` }] : []),
    ...(status === 'exception' ? [{ date: day(4), event: 'exception: address could not be verified', location: 'local depot' }] : []),
    ...(status === 'delivered' ? [{ date: day(3 + Number(region[2])), event: 'delivered', location: 'front door' }] : []),
  ];
  return {
    order_id: orderId,
    status,
    carrier: status === 'processing' ? null : region[1],
    ship_to_region: region[0],
    ...(status === 'delivered' ? { delivered_on: events.at(-1)!.date } : { estimated_delivery: day(3 + Number(region[2]) + (n % 3)) }),
    items,
    tracking: events,
  };
}

const getOrderStatus = defineTool({
  name: 'get_order_status',
  description:
    'Look up the current status of a customer order by its id. Returns the status (processing, shipped, delayed, exception, ' +
    'delivered, cancelled), the carrier, the estimated or actual delivery date, the items with quantities and prices, and the ' +
    "carrier's tracking events. Fails if no order has that id.",
  inputSchema: z.object({
    order_id: z.string().min(1).describe('The order id exactly as the customer gave it, digits only, e.g. "70113".'),
  }),
  policy: { timeout: '10s' },
  run: ({ order_id }) => {
    if (!/^\d{4,}$/.test(order_id)) throw new ToolError(`No order with id ${order_id} was found.`);
    return benchOrder(order_id);
  },
});
const notUsed = () => {
  throw new ToolError('not available in the benchmark');
};
const getCustomer = defineTool({
  name: 'get_customer',
  description:
    "Look up a customer or business account by account id or order email: name, account type, the account's open orders " +
    'and its support history. Use it when the customer refers to "my orders" without giving ids.',
  inputSchema: z.object({
    account_id: z.string().optional().describe('The account id, e.g. "C-20931".'),
    email: z.string().optional().describe('The email the orders were placed with.'),
  }),
  run: notUsed,
});
const shippingQuote = defineTool({
  name: 'get_shipping_quote',
  description: 'Quote shipping for a replacement or exchange: the carrier, cost and business days for a service level and region.',
  inputSchema: z.object({
    region: z.string().describe('The destination region as listed in the shipping zones.'),
    service: z.enum(['standard', 'express']).describe('The service level.'),
    weight_kg: z.number().positive().max(70).describe('The parcel weight in kilograms.'),
  }),
  run: notUsed,
});
const searchHelpCenter = defineTool({
  name: 'search_help_center',
  description:
    "Search the shop's help-center articles (care instructions, sizing, product manuals, warranty forms). Returns up to five " +
    'articles with title, URL and a short excerpt. Use it for product questions the instructions above do not answer.',
  inputSchema: z.object({ query: z.string().min(2).describe('What to look for, in a few words.') }),
  run: notUsed,
});

const base = defineAgent({
  name: 'orders',
  model: MODEL,
  max_tokens: 1024,
  system: SYSTEM_PROMPT,
  tools: [getOrderStatus, getCustomer, shippingQuote, searchHelpCenter],
  maxTurns: 25,
  modelCall: fastModelCall,
});

/** The bench's agents: the same one with each caching choice. */
export const cachingAgents = {
  '5m': defineAgent({ ...base, name: 'orders-cache-5m', promptCaching: { ttl: '5m' } }),
  '1h': defineAgent({ ...base, name: 'orders-cache-1h', promptCaching: { ttl: '1h' } }),
  off: defineAgent({ ...base, name: 'orders-no-cache', promptCaching: false }),
} satisfies Record<string, AgentDefinition>;

// ── The scripted model: one lookup per turn, then the review ──

const PROMPT =
  "Hi, this is Dana from Trailside Rentals (business account C-20931). Please go through our open orders one at a time and tell me which need attention before next week's season opening: " +
  `${ORDER_IDS.join(', ')}.`;

function toolResults(req: RecordedRequest): { id: string; content: string; isError: boolean }[] {
  const out: { id: string; content: string; isError: boolean }[] = [];
  for (const m of req.body.messages) {
    if (typeof m.content === 'string') continue;
    for (const b of m.content as ContentBlockParam[]) {
      if (b.type !== 'tool_result') continue;
      const c = typeof b.content === 'string' ? b.content : (b.content ?? []).map((x) => (x.type === 'text' ? x.text : '')).join('');
      out.push({ id: b.tool_use_id, content: c, isError: b.is_error === true });
    }
  }
  return out;
}

/** The fake's "model": order i looked up in turn i+1; the review in turn 20. `beforeTurn` runs first (the clock). */
function reviewBrain(beforeTurn: (turn: number) => void) {
  return (req: RecordedRequest): FakeReply => {
    const results = toolResults(req);
    beforeTurn(results.length + 1);
    const next = ORDER_IDS[results.length];
    if (next !== undefined) {
      const lead = results.length === 0 ? 'I will check each order in turn. ' : '';
      return message([textBlock(`${lead}Checking order ${next}.`), toolUse('get_order_status', { order_id: next })], 'tool_use');
    }
    const lines = results.map((r) => {
      const o = JSON.parse(r.content) as ReturnType<typeof benchOrder>;
      const when = 'delivered_on' in o ? `delivered ${o.delivered_on}` : `the carrier estimates ${o.estimated_delivery}`;
      return `- ${o.order_id}: ${o.status}${o.carrier ? ` (${o.carrier})` : ''}, ${when}.`;
    });
    const attention = results
      .map((r) => JSON.parse(r.content) as ReturnType<typeof benchOrder>)
      .filter((o) => ['delayed', 'exception', 'processing'].includes(o.status))
      .map((o) => o.order_id);
    return text(
      `Here is the review of your ${results.length} open orders:\n${lines.join('\n')}\n\n` +
        `Needing attention: ${attention.join(', ')}. I can open a support ticket for the delayed and exception orders if you like.`,
    );
  };
}

// ── The measurement ──

interface Variant {
  label: string;
  agent: AgentDefinition;
  /** Minutes passing on the fake's clock before turn {@link WAIT_BEFORE_TURN}. */
  wait: boolean;
}

const VARIANTS: Variant[] = [
  { label: 'runner caching, 5-minute TTL (default)', agent: cachingAgents['5m'], wait: false },
  { label: 'runner caching, 1-hour TTL', agent: cachingAgents['1h'], wait: false },
  { label: 'caching off', agent: cachingAgents.off, wait: false },
  { label: `5-minute TTL, ${WAIT_MS / 60_000} min pause before turn ${WAIT_BEFORE_TURN}`, agent: cachingAgents['5m'], wait: true },
  { label: `1-hour TTL, ${WAIT_MS / 60_000} min pause before turn ${WAIT_BEFORE_TURN}`, agent: cachingAgents['1h'], wait: true },
];

export interface CachingFigures {
  label: string;
  spend: ModelSpend;
  turns: number;
  /** Tokens of the stable prefix (tools + system prompt) as the fake counts them. */
  prefixTokens: number;
}

/** Run every variant; returns the ledger of each run. */
export async function measureCaching(): Promise<CachingFigures[]> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = await startDevServer({ uiPort: false });
  const native = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, dataConverter: dataConverter() });
  const bundle = await bundleWorkflowCode({
    ...BUNDLE_OPTIONS,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  const out: CachingFigures[] = [];
  try {
    for (const [i, v] of VARIANTS.entries()) {
      progress(`${v.label} …`);
      // A fake of its own: an empty prompt cache, and a clock the wait variants move on.
      let offset = 0;
      const fake = await FakeMessagesApi.start({
        apiKey: 'bench',
        now: () => Date.now() + offset,
        brain: reviewBrain((turn) => {
          if (v.wait && turn === WAIT_BEFORE_TURN) offset += WAIT_MS;
        }),
      });
      const taskQueue = `bench-caching-${i}-${Date.now()}`;
      const worker = await createAgentWorker({
        connection: native,
        namespace: 'default',
        taskQueue,
        agents: [v.agent],
        endpoint: { apiKey: 'bench', baseURL: fake.url },
        workflowBundle: bundle,
        shutdownGraceTime: '1s',
        log: () => undefined,
      });
      const runner = await AgentRunner.connect({ client, settings: { taskQueue } });
      try {
        const r = await worker.runUntil(async () => (await runner.start(v.agent.name, PROMPT)).result());
        if (r.status !== 'completed' || fake.problems.length > 0)
          throw new Error(`${v.label}: ${r.status} ${r.error ?? ''} ${fake.problems.join('; ')}`);
        const spend = r.cost?.byModel[MODEL];
        if (!spend) throw new Error(`${v.label}: no ledger for ${MODEL}`);
        const first = fake.requests[0]!.body;
        const fixed = (first.tools?.length ?? 0) + (Array.isArray(first.system) ? first.system.length : first.system ? 1 : 0);
        const prefixTokens = promptSegments(first)
          .slice(0, fixed)
          .reduce((n, s) => n + s.tokens, 0);
        out.push({ label: v.label, spend, turns: r.turns, prefixTokens });
      } finally {
        await fake.close();
      }
    }
  } finally {
    await connection.close();
    await native.close();
    await server.stop();
  }
  return out;
}

/** The report: one table, USD by kind at the model's price. */
export function cachingReport(figures: CachingFigures[], o: Output): void {
  const price = priceOf(MODEL, builtInPrices())!;
  const usd = (part: Partial<ModelSpend>) => callCost({ ...noBilledUsage(), ...part }, price);
  // Without caching, time between calls changes nothing: the one run without caching is the reference for all.
  const off = figures.find((f) => f.label === 'caching off')!.spend.usd ?? NaN;
  const pct = (x: number) => `${x >= 0 ? '−' : '+'}${Math.abs(x * 100).toFixed(0)} %`;
  const f0 = figures[0]!;
  const prompt = (s: ModelSpend) => s.input_tokens + s.cache_write_5m_tokens + s.cache_write_1h_tokens + s.cache_read_input_tokens;
  o.line(
    `${f0.turns} model calls per run; the stable prefix (4 tools + system prompt) is ${f0.prefixTokens} tokens; ` +
      `the run sends ${prompt(f0.spend).toLocaleString('en-US')} prompt tokens in all and gets ${f0.spend.output_tokens.toLocaleString('en-US')} output tokens. ` +
      `Prices: ${MODEL} from contract/prices.ts (checked ${PRICES_CHECKED}): USD ${price.input} / MTok input, ${price.cacheWrite5m} 5-minute writes, ` +
      `${price.cacheWrite1h} 1-hour writes, ${price.cacheRead} reads, ${price.output} output.`,
  );
  o.line();
  o.table(
    ['variant', 'input at full rate', 'cache writes 5m / 1h', 'cache reads', 'prompt USD', 'output USD', 'total USD', 'vs caching off'],
    figures.map((f) => {
      const s = f.spend;
      const promptUsd = usd({
        input_tokens: s.input_tokens,
        cache_write_5m_tokens: s.cache_write_5m_tokens,
        cache_write_1h_tokens: s.cache_write_1h_tokens,
        cache_read_input_tokens: s.cache_read_input_tokens,
      });
      const total = s.usd ?? NaN;
      return [
        f.label,
        s.input_tokens.toLocaleString('en-US'),
        `${s.cache_write_5m_tokens.toLocaleString('en-US')} / ${s.cache_write_1h_tokens.toLocaleString('en-US')}`,
        s.cache_read_input_tokens.toLocaleString('en-US'),
        formatUsd(promptUsd),
        formatUsd(usd({ output_tokens: s.output_tokens })),
        `**${formatUsd(total)}**`,
        f.label.startsWith('caching off') ? '' : pct(1 - total / off),
      ];
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  const o = new Output();
  o.line('Command: `npm run bench:caching`');
  o.line();
  for (const [k, v] of Object.entries(environment())) if (['date', 'node', 'SDK'].includes(k)) o.line(`- ${k}: ${v}`);
  o.line();
  cachingReport(await measureCaching(), o);
  o.line(`Bench wall time: ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  writeRegion('caching', o.lines.join('\n'));
  console.error(`· written to BENCHMARKS.md (bench:caching)`);
}
