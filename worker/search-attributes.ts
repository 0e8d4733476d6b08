/**
 * At worker start: are the runs' search attributes registered on the namespace? Registers them
 * where the worker may (the dev server, a self-hosted cluster); where it may not (Temporal Cloud,
 * restricted roles) prints the exact command to run. Runs started without them by another client
 * set them once the worker says they exist (`RunConfig.searchAttributesRegistered`), so `list`
 * and `cancel` treat those runs like any other.
 */
import type { SearchAttributeType } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../contract/search-attributes.js';

/** The operator-service calls this needs (a `NativeConnection` has them). */
export type OperatorConnection = Pick<NativeConnection, 'operatorService'>;

/**
 * Each search-attribute type of the contract (`SearchAttributeType`, e.g. `KEYWORD`) as the
 * operator service takes it (`IndexedValueType`, e.g. 2) and as the `temporal` CLI names it
 * (`Keyword`). What registers attributes (this module, `npm run cluster`, docker-compose.yml's
 * one-shot job) maps the contract through this one table.
 */
export const SEARCH_ATTRIBUTE_TYPES: Readonly<Record<SearchAttributeType, { proto: number; cli: string }>> = {
  TEXT: { proto: 1, cli: 'Text' },
  KEYWORD: { proto: 2, cli: 'Keyword' },
  INT: { proto: 3, cli: 'Int' },
  DOUBLE: { proto: 4, cli: 'Double' },
  BOOL: { proto: 5, cli: 'Bool' },
  DATETIME: { proto: 6, cli: 'Datetime' },
  KEYWORD_LIST: { proto: 7, cli: 'KeywordList' },
};

/** The contract's search attributes as `Name=CliType` words (what docker-compose.yml's registration job reads). */
export function searchAttributeSpecs(): string[] {
  return SEARCH_ATTRIBUTES.map((k) => `${k.name}=${SEARCH_ATTRIBUTE_TYPES[k.type].cli}`);
}

/** The command that registers what is missing. */
export function registerCommand(namespace: string, missing: readonly { name: string; type: SearchAttributeType }[]): string {
  return missing
    .map(
      (k) =>
        `temporal operator search-attribute create --namespace ${namespace} --name ${k.name} --type ${SEARCH_ATTRIBUTE_TYPES[k.type].cli}`,
    )
    .join(' && ');
}

/**
 * True when every search attribute exists (or was just registered). Otherwise false, after
 * `log` got one line with the command to run.
 */
export async function ensureSearchAttributes(
  connection: OperatorConnection,
  namespace: string,
  log: (line: string) => void,
): Promise<boolean> {
  const found = await registeredSearchAttributes(connection, namespace, log);
  return SEARCH_ATTRIBUTES.every((k) => found.has(k.name));
}

/**
 * The names of the runs' search attributes that exist on the namespace (after registering the
 * missing ones where the worker may). A run sets only those: `AgentCostUsd`, added later than the
 * others, may be missing on a cluster set up before it, and the runs go on without it.
 */
export async function registeredSearchAttributes(
  connection: OperatorConnection,
  namespace: string,
  log: (line: string) => void,
): Promise<Set<string>> {
  let missing: { name: string; type: SearchAttributeType }[];
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    missing = SEARCH_ATTRIBUTES.filter((k) => !(customAttributes && k.name in customAttributes));
  } catch (e) {
    log(
      `worker: cannot list the search attributes of namespace ${namespace} (${(e as Error).message.split('\n')[0]}); runs started without them stay unsearchable`,
    );
    return new Set();
  }
  const present = new Set<string>(SEARCH_ATTRIBUTES.filter((k) => !missing.includes(k)).map((k) => k.name));
  if (missing.length === 0) return present;
  try {
    const searchAttributes = Object.fromEntries(missing.map((k) => [k.name, SEARCH_ATTRIBUTE_TYPES[k.type].proto]));
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
    log(`worker: registered the search attributes ${missing.map((k) => k.name).join(', ')} on namespace ${namespace}`);
    return new Set(SEARCH_ATTRIBUTES.map((k) => k.name));
  } catch (e) {
    log(
      `worker: the search attributes ${missing.map((k) => k.name).join(', ')} are missing on namespace ${namespace} and this worker may not register them ` +
        `(${(e as Error).message.split('\n')[0]}): run \`${registerCommand(namespace, missing)}\``,
    );
    return present;
  }
}
