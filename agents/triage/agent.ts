/** The support-triage agent: answers questions about orders from real order data. */
import { z } from 'zod';
import { defineAgent, defineTool, ToolError } from '../define.js';
import { findOrder } from './orders.js';

/** Looks an order up in the order store; an unknown id is a business failure (`is_error`). */
export const getOrderStatus = defineTool({
  name: 'get_order_status',
  description:
    'Look up the current status of a customer order by its id. Returns the status, carrier, ' +
    'estimated or actual delivery date and the items. Fails if no order has that id.',
  input: z.object({
    order_id: z.string().min(1).describe('The order id exactly as the customer gave it, digits only, e.g. "48810".'),
  }),
  timeout: '10s',
  run: ({ order_id }) => {
    const order = findOrder(order_id);
    if (!order) throw new ToolError(`No order with id ${order_id} was found.`);
    return order;
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
    'the number. Answer briefly and concretely.',
  tools: [getOrderStatus],
});
