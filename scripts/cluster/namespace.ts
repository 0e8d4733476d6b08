/**
 * What a fresh cluster needs before agent-runner can use it: the namespace, and every search
 * attribute of the contract (contract/search-attributes.ts SEARCH_ATTRIBUTES, whatever it lists),
 * mapped to the operator service's types by worker/search-attributes.ts.
 */
import { SEARCH_ATTRIBUTES } from '../../contract/search-attributes.js';
import { SEARCH_ATTRIBUTE_TYPES } from '../../worker/search-attributes.js';
import type { Probe } from './probe.js';
import { cleanEnv, lastLines, runCommand } from './processes.js';

/** A search attribute as the operator service takes it. */
export interface SearchAttributeSpec {
  name: string;
  /** The CLI's type name, e.g. `Keyword`. */
  type: string;
  /** temporal.api.enums.v1.IndexedValueType, e.g. 2. */
  indexedValueType: number;
}

/** The contract's search attributes, ready to register (a new one there is registered too). */
export function clusterSearchAttributes(): SearchAttributeSpec[] {
  return SEARCH_ATTRIBUTES.map((k) => ({
    name: k.name,
    type: SEARCH_ATTRIBUTE_TYPES[k.type].cli,
    indexedValueType: SEARCH_ATTRIBUTE_TYPES[k.type].proto,
  }));
}

async function temporalCli(cli: string, address: string, args: string[]): Promise<void> {
  // No TEMPORAL_* variables and no config profile: this cluster, whatever the user's defaults are.
  const env = { ...cleanEnv(), TEMPORAL_CONFIG_FILE: '/dev/null' };
  const r = await runCommand(cli, [...args, '--address', address], { env, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`temporal ${args.join(' ')}: ${lastLines(r.stderr || r.stdout)}`);
}

/** Register `namespace` (72 h retention) with the `temporal` CLI unless it exists. */
export async function ensureNamespace(probe: Probe, cli: string, namespace: string, log: (line: string) => void): Promise<void> {
  if (await probe.namespaceExists().catch(() => false)) return;
  log(`registering namespace ${namespace} (temporal operator namespace create) …`);
  await probe.until(`namespace ${namespace}`, 60_000, async () => {
    if (await probe.namespaceExists()) return true;
    await temporalCli(cli, probe.address, ['operator', 'namespace', 'create', '--namespace', namespace, '--retention', '72h']);
    return probe.namespaceExists();
  });
}

/**
 * Registers the missing search attributes in one AddSearchAttributes request (the client's
 * operator service, not the CLI: the CLI takes one type per call, and with SQL visibility each
 * call computes its column assignment from the frontend's cached copy of the namespace, so
 * back-to-back calls clobber each other — seen here: two of five attributes lost). The
 * PostgreSQL visibility store has 3 Int, 3 Double and 10 Keyword columns per namespace.
 */
export async function ensureSearchAttributes(
  probe: Probe,
  namespace: string,
  log: (line: string) => void,
  wanted: readonly SearchAttributeSpec[] = clusterSearchAttributes(),
): Promise<void> {
  let requestedAt = 0;
  let conflict: string | undefined;
  await probe.until('search attributes', 60_000, async () => {
    const existing = await probe.searchAttributes();
    const clash = wanted.find((a) => existing[a.name] !== undefined && existing[a.name] !== a.indexedValueType);
    if (clash) {
      conflict = `search attribute ${clash.name} exists on namespace ${namespace} with another type (not ${clash.type})`;
      return true;
    }
    const missing = wanted.filter((a) => existing[a.name] === undefined);
    if (!missing.length) return true;
    // The namespace cache refreshes every 10 s: ask again only after that.
    if (Date.now() - requestedAt < 15_000) return false;
    log(`registering search attributes ${missing.map((a) => `${a.name} ${a.type}`).join(', ')} …`);
    await probe.addSearchAttributes(Object.fromEntries(missing.map((a) => [a.name, a.indexedValueType])));
    requestedAt = Date.now();
    return false;
  });
  if (conflict) throw new Error(conflict);
}
