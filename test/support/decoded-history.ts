/**
 * A run's history as text with every payload decoded (codecs undone), for searching it: a
 * compressed or encrypted payload would hide a secret from a plain text search.
 */
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

function isPayload(x: unknown): x is Payload {
  return typeof x === 'object' && x !== null && (x as Payload).data instanceof Uint8Array && typeof (x as Payload).metadata === 'object';
}

/** The history JSON followed by the decoded text of every payload in it. */
export async function decodedHistoryText(client: Client, workflowId: string): Promise<{ raw: string; decoded: string; payloads: number }> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const found: Payload[] = [];
  const walk = (x: unknown): void => {
    if (isPayload(x)) found.push(x);
    else if (Array.isArray(x)) x.forEach(walk);
    else if (typeof x === 'object' && x !== null && !(x instanceof Uint8Array)) Object.values(x).forEach(walk);
  };
  walk(history);
  let decoded = found;
  for (const codec of [...client.options.loadedDataConverter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  const text = decoded.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8')).join('\n');
  return { raw: historyToJSON(history), decoded: text, payloads: found.length };
}
