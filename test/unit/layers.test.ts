/** The house drawn from the imports matches the README's folder table: no arrow runs back up. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importGraph } from '../../scripts/layers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Folder → what the README says it may import, read from its folder table. */
function readmeTable(): Map<string, string[]> {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const start = readme.indexOf('| folder | holds | may import |');
  const rows = readme.slice(start).split('\n').slice(2);
  const table = new Map<string, string[]>();
  for (const row of rows) {
    if (!row.startsWith('| `')) break;
    const cells = row.split('|').map((c) => c.trim());
    const folder = /^`([^`/]+)\/`$/.exec(cells[1]!)?.[1];
    if (!folder) throw new Error(`README folder table: cannot read ${row}`);
    const rule = cells.at(-2)!;
    const above = [...table.keys()];
    let allowed: string[];
    if (rule === 'nothing of ours') allowed = [];
    else if (rule === 'everything; nothing imports test/') allowed = ['*'];
    else if (rule === 'everything listed above') allowed = above;
    else allowed = rule.split(',').map((s) => s.trim());
    table.set(folder, allowed);
  }
  return table;
}

describe('layers', () => {
  const table = readmeTable();
  const graph = importGraph(ROOT);

  it('the README lists every folder that holds code', () => {
    expect([...table.keys()]).toEqual(expect.arrayContaining([...graph.keys()]));
    expect(table.get('contract')).toEqual([]);
  });

  it('no folder imports one it may not (no arrow runs back up), and nothing imports test/', () => {
    const wrong: string[] = [];
    for (const [from, row] of graph) {
      const allowed = table.get(from) ?? [];
      for (const to of row.keys()) if (!allowed.includes('*') && !allowed.includes(to)) wrong.push(`${from} → ${to}`);
    }
    expect(wrong).toEqual([]);
    expect([...graph.values()].some((row) => row.has('test'))).toBe(false);
  });
});
