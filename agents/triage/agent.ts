/** The support-triage agent: answers questions about orders from real order data. */
import { z } from 'zod';
import { defineAgent, defineTool, ToolError } from '../define.js';
import { findOrder } from './orders.js';
import { createTicketOnce } from './tickets.js';

/** Looks an order up in the order store; an unknown id is a business failure (`is_error`). */
export const getOrderStatus = defineTool({
  name: 'get_order_status',
  description:
    'Look up the current status of a customer order by its id. Returns the status, carrier, ' +
    'estimated or actual delivery date and the items. Fails if no order has that id.',
  inputSchema: z.object({
    order_id: z.string().min(1).describe('The order id exactly as the customer gave it, digits only, e.g. "48810".'),
  }),
  policy: { timeout: '10s' },
  run: ({ order_id }) => {
    const order = findOrder(order_id);
    if (!order) throw new ToolError(`No order with id ${order_id} was found.`);
    return order;
  },
});

/**
 * Opens a support ticket: a side effect, made exactly-once by the idempotency key (the same
 * `tool_use` never opens two tickets, whatever retries or crashes happen), and only once a person
 * has approved the call.
 */
export const createSupportTicket = defineTool({
  name: 'create_support_ticket',
  description:
    'Open a support ticket for a human agent to follow up, e.g. when an order cannot be found or is late. ' +
    'Returns the ticket id to give to the customer.',
  inputSchema: z.object({
    summary: z.string().min(1).max(2000).describe('What the customer needs, in one or two sentences.'),
    order_id: z.string().optional().describe('The order concerned, if any.'),
    priority: z.enum(['low', 'normal', 'high']).default('normal').describe('How urgent it is.'),
  }),
  policy: { timeout: '10s', retry: { maximumAttempts: 5 } },
  // A ticket puts a person to work: one approves it first (agent-runner pending / approve / deny).
  needsApproval: true,
  run: ({ summary, order_id, priority }, ctx) => {
    const { ticket, created } = createTicketOnce(ctx.idempotencyKey, { summary, order_id: order_id ?? null, priority });
    return { ticket_id: ticket.ticket_id, status: created ? 'created' : 'already created for this request' };
  },
});

/** The agent definition served by workers as `triage`. */
export const triageAgent = defineAgent({
  name: 'triage',
  description: 'Customer-support triage for order questions',
  model: 'claude-sonnet-4-6',
  max_tokens: 1024,
  system:
    'You are a customer-support agent for an outdoor-gear shop. Use the tools to look up real order ' +
    'data; never guess or invent an order status. When a customer mentions several orders, look them ' +
    'all up (in parallel). If an order cannot be found, say so plainly and ask the customer to check ' +
    'the number. Open a support ticket only when the customer asks for one or a human must follow up. ' +
    'Answer briefly and concretely.',
  tools: [getOrderStatus, createSupportTicket],
});
