/** The small order store shipped with the triage example: read-only reference data. */

/** One order as the store knows it. */
export interface Order {
  order_id: string;
  status: 'processing' | 'shipped' | 'delivered' | 'cancelled';
  carrier?: string;
  estimated_delivery?: string;
  delivered_on?: string;
  items: string[];
}

const ORDERS: readonly Order[] = [
  { order_id: '48810', status: 'shipped', carrier: 'UPS', estimated_delivery: '2026-05-24', items: ['Trail running shoes'] },
  { order_id: '48811', status: 'processing', estimated_delivery: '2026-05-30', items: ['Rain jacket', 'Wool socks'] },
  { order_id: '51200', status: 'delivered', carrier: 'DHL', delivered_on: '2026-04-02', items: ['Headlamp'] },
  { order_id: '51377', status: 'cancelled', items: ['Camping stove'] },
  { order_id: '60042', status: 'shipped', carrier: 'FedEx', estimated_delivery: '2026-06-01', items: ['Tent', 'Sleeping mat'] },
];

/** The order with this id, or undefined. */
export function findOrder(orderId: string): Order | undefined {
  return ORDERS.find((o) => o.order_id === orderId.trim());
}
