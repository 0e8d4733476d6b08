/**
 * `npm run cluster` registers exactly the contract's search attributes (contract/search-attributes.ts),
 * each with the operator service's type for its contract type — a new attribute added to the
 * contract is registered without touching the cluster's code.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../contract/search-attributes.js';
import { clusterSearchAttributes, ensureSearchAttributes } from '../../scripts/cluster/namespace.js';
import { Probe } from '../../scripts/cluster/probe.js';
import { SEARCH_ATTRIBUTE_TYPES, searchAttributeSpecs } from '../../worker/search-attributes.js';

const IndexedValueType = proto.temporal.api.enums.v1.IndexedValueType;

/** A probe whose namespace holds `existing`; what is added appears at once. */
class FakeProbe extends Probe {
  readonly added: Record<string, number>[] = [];

  constructor(private readonly existing: Record<string, number>) {
    super('127.0.0.1:1', 'ns', () => []);
  }

  override async searchAttributes(): Promise<Record<string, number>> {
    return { ...this.existing };
  }

  override async addSearchAttributes(searchAttributes: Record<string, number>): Promise<void> {
    this.added.push(searchAttributes);
    Object.assign(this.existing, searchAttributes);
  }
}

describe('search attributes of the local cluster', () => {
  it('maps every contract type to the IndexedValueType of the same name, and to the CLI name', () => {
    for (const type of Object.values(SearchAttributeType)) {
      expect(SEARCH_ATTRIBUTE_TYPES[type].proto, type).toBe(IndexedValueType[`INDEXED_VALUE_TYPE_${type}`]);
    }
    expect(SEARCH_ATTRIBUTE_TYPES.DOUBLE).toEqual({ proto: 4, cli: 'Double' });
    expect(SEARCH_ATTRIBUTE_TYPES.KEYWORD_LIST.cli).toBe('KeywordList');
  });

  it('registers exactly the contract list, with the mapped types', () => {
    expect(clusterSearchAttributes()).toEqual(
      SEARCH_ATTRIBUTES.map((k) => ({
        name: k.name,
        type: SEARCH_ATTRIBUTE_TYPES[k.type].cli,
        indexedValueType: IndexedValueType[`INDEXED_VALUE_TYPE_${k.type}`],
      })),
    );
    expect(clusterSearchAttributes().map((a) => a.name)).toEqual(expect.arrayContaining(['AgentName', 'AgentStatus', 'AgentTurns']));
    expect(searchAttributeSpecs()).toEqual(SEARCH_ATTRIBUTES.map((k) => `${k.name}=${SEARCH_ATTRIBUTE_TYPES[k.type].cli}`));
  });

  it('adds the missing ones in one request and is done once they are listed', async () => {
    const probe = new FakeProbe({ AgentName: 2 });
    const log: string[] = [];
    await ensureSearchAttributes(probe, 'ns', (l) => log.push(l));
    const expected = Object.fromEntries(clusterSearchAttributes().map((a) => [a.name, a.indexedValueType]));
    delete expected.AgentName;
    expect(probe.added).toEqual([expected]);
    expect(log).toHaveLength(1);
  });

  it('adds nothing when all are there', async () => {
    const probe = new FakeProbe(Object.fromEntries(clusterSearchAttributes().map((a) => [a.name, a.indexedValueType])));
    await ensureSearchAttributes(probe, 'ns', () => undefined);
    expect(probe.added).toEqual([]);
  });

  it('refuses at once an attribute registered with another type', async () => {
    const probe = new FakeProbe({ AgentTurns: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD });
    const started = Date.now();
    await expect(ensureSearchAttributes(probe, 'ns', () => undefined)).rejects.toThrow(
      'search attribute AgentTurns exists on namespace ns with another type (not Int)',
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(probe.added).toEqual([]);
  });

  it('a key added to the contract later (e.g. a Double such as AgentCostUsd) is registered with no change here', async () => {
    // The contract's list is a plain array at run time: extend it for this test only.
    const list = SEARCH_ATTRIBUTES as unknown as ReturnType<typeof defineSearchAttributeKey>[];
    list.push(defineSearchAttributeKey('TestOnlyCostUsd', SearchAttributeType.DOUBLE));
    try {
      expect(clusterSearchAttributes().at(-1)).toEqual({ name: 'TestOnlyCostUsd', type: 'Double', indexedValueType: 4 });
      const probe = new FakeProbe(
        Object.fromEntries(SEARCH_ATTRIBUTES.slice(0, -1).map((k) => [k.name, SEARCH_ATTRIBUTE_TYPES[k.type].proto])),
      );
      await ensureSearchAttributes(probe, 'ns', () => undefined);
      expect(probe.added).toEqual([{ TestOnlyCostUsd: 4 }]);
      expect(searchAttributeSpecs().at(-1)).toBe('TestOnlyCostUsd=Double');
    } finally {
      list.pop();
    }
  });
});
