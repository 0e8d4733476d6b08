/**
 * A durable local ticket store that makes `create_support_ticket` exactly-once.
 *
 * One file per ticket, named by a hash of the idempotency key, published with `link(2)`: the
 * link either creates the name atomically or fails with EEXIST, so two attempts (a retry, a
 * worker that crashed and one that took over, two worker processes) can never create two
 * tickets for one `tool_use`, and a crash mid-write never leaves a half-written ticket.
 */
import { createHash, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A support ticket as stored. */
export interface Ticket {
  ticket_id: string;
  order_id: string | null;
  summary: string;
  priority: 'low' | 'normal' | 'high';
  created_at: string;
  /** The idempotency key it was created under (workflow id / tool_use id). */
  idempotency_key: string;
}

/** Where tickets live: AGENT_RUNNER_DATA_DIR (default `.data/` in the project), `tickets/`. */
export function ticketDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.AGENT_RUNNER_DATA_DIR || fileURLToPath(new URL('../../.data/', import.meta.url));
  return join(base, 'tickets');
}

/**
 * Create the ticket for this idempotency key, or return the one already created for it.
 * `created` says which.
 */
export function createTicketOnce(
  key: string,
  fields: Pick<Ticket, 'order_id' | 'summary' | 'priority'>,
  dir = ticketDir(),
): { ticket: Ticket; created: boolean } {
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha256').update(key).digest('hex');
  const path = join(dir, `${hash}.json`);
  const ticket: Ticket = {
    ticket_id: `T-${hash.slice(0, 8).toUpperCase()}`,
    ...fields,
    created_at: new Date().toISOString(),
    idempotency_key: key,
  };
  const tmp = join(dir, `.${hash}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, JSON.stringify(ticket));
  try {
    linkSync(tmp, path);
    return { ticket, created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return { ticket: JSON.parse(readFileSync(path, 'utf8')) as Ticket, created: false };
  } finally {
    unlinkSync(tmp);
  }
}

/** Every ticket in the store. */
export function listTickets(dir = ticketDir()): Ticket[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as Ticket);
}
