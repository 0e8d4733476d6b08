/** At worker start: the search attributes are found, registered where the worker may, or the exact command is printed. */
import { describe, expect, it } from 'vitest';
import { ensureSearchAttributes, registeredSearchAttributes, type OperatorConnection } from '../../worker/search-attributes.js';

function operator(existing: Record<string, number>, add?: (req: unknown) => Promise<unknown>) {
  const added: unknown[] = [];
  const connection = {
    operatorService: {
      listSearchAttributes: async () => ({ customAttributes: existing }),
      addSearchAttributes: async (req: unknown) => {
        added.push(req);
        return add ? add(req) : {};
      },
    },
  } as unknown as OperatorConnection;
  return { connection, added };
}

describe('ensureSearchAttributes', () => {
  it('all registered: true, nothing added', async () => {
    const { connection, added } = operator({ AgentName: 2, AgentStatus: 2, AgentTurns: 3, AgentTokens: 3, AgentCostUsd: 4 });
    const log: string[] = [];
    expect(await ensureSearchAttributes(connection, 'default', (l) => log.push(l))).toBe(true);
    expect(added).toEqual([]);
    expect(log).toEqual([]);
  });

  it('missing and allowed: registers exactly the missing ones with their types', async () => {
    const { connection, added } = operator({ AgentName: 2 });
    const log: string[] = [];
    expect(await ensureSearchAttributes(connection, 'ns1', (l) => log.push(l))).toBe(true);
    expect(added).toEqual([{ namespace: 'ns1', searchAttributes: { AgentStatus: 2, AgentTurns: 3, AgentTokens: 3, AgentCostUsd: 4 } }]);
    expect(log).toEqual(['worker: registered the search attributes AgentStatus, AgentTurns, AgentTokens, AgentCostUsd on namespace ns1']);
  });

  it('missing and not allowed: false, and one line with the exact command', async () => {
    const { connection } = operator({}, async () => {
      throw new Error('7 PERMISSION_DENIED: Request unauthorized.');
    });
    const log: string[] = [];
    expect(await ensureSearchAttributes(connection, 'prod', (l) => log.push(l))).toBe(false);
    expect(log).toHaveLength(1);
    expect(log[0]).toContain('may not register them (7 PERMISSION_DENIED: Request unauthorized.)');
    expect(log[0]).toContain(
      'run `temporal operator search-attribute create --namespace prod --name AgentName --type Keyword && ' +
        'temporal operator search-attribute create --namespace prod --name AgentStatus --type Keyword && ' +
        'temporal operator search-attribute create --namespace prod --name AgentTurns --type Int && ' +
        'temporal operator search-attribute create --namespace prod --name AgentTokens --type Int && ' +
        'temporal operator search-attribute create --namespace prod --name AgentCostUsd --type Double`',
    );
  });

  it('a cluster set up before AgentCostUsd, where the worker may not add it: the others are used, the cost attribute is not', async () => {
    const { connection } = operator({ AgentName: 2, AgentStatus: 2, AgentTurns: 3, AgentTokens: 3 }, async () => {
      throw new Error('7 PERMISSION_DENIED: Request unauthorized.');
    });
    const log: string[] = [];
    const found = await registeredSearchAttributes(connection, 'prod', (l) => log.push(l));
    expect([...found].sort()).toEqual(['AgentName', 'AgentStatus', 'AgentTokens', 'AgentTurns']);
    expect(log[0]).toContain('--name AgentCostUsd --type Double');
  });
});
