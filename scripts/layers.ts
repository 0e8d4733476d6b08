/**
 * The house drawn from the imports: which top-level folder imports which, how many files each
 * holds, and the longest functions. `npm run layers [-- <root>]` prints it (for this checkout, or
 * another one, e.g. an old commit checked out elsewhere); `test/unit/layers.test.ts` checks the
 * arrows against the README's folder table. ESLint (`layers/imports`) enforces the same per import.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SKIP = new Set(['node_modules', '.git', '.tools', '.temporal', '.artifacts', '.data', 'golden']);

/** Every .ts file under `root`'s top-level folders, relative to root. */
export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (SKIP.has(name) || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && dir !== root) out.push(relative(root, path));
    }
  };
  walk(root);
  return out.sort();
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Folder → folder → number of import statements, for relative imports between top-level folders. */
export function importGraph(root: string): Map<string, Map<string, number>> {
  const graph = new Map<string, Map<string, number>>();
  for (const file of sourceFiles(root)) {
    const from = file.split(sep)[0]!;
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith('.')) continue;
      const to = relative(root, resolve(root, dirname(file), spec)).split(sep)[0]!;
      if (to === from || to.startsWith('..')) continue;
      const row = graph.get(from) ?? new Map<string, number>();
      row.set(to, (row.get(to) ?? 0) + 1);
      graph.set(from, row);
    }
  }
  return graph;
}

/** The longest functions (declarations, methods, arrow functions bound to a name), by lines. */
export function longestFunctions(root: string, top = 5): { where: string; name: string; lines: number }[] {
  const found: { where: string; name: string; lines: number }[] = [];
  for (const file of sourceFiles(root)) {
    if (file.startsWith(`test${sep}`) || file.startsWith(`bench${sep}`)) continue;
    const source = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      let name: string | undefined;
      if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) name = node.name?.getText(source);
      else if (
        ts.isVariableDeclaration(node) &&
        node.initializer &&
        (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))
      ) {
        name = node.name.getText(source);
      }
      if (name) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        found.push({ where: `${file}:${start + 1}`, name, lines: end - start + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found.sort((a, b) => b.lines - a.lines).slice(0, top);
}

// `npm run layers [-- <root>]`
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
  console.log(`## imports between folders (${root})\n`);
  for (const [from, row] of [...importGraph(root)].sort()) {
    console.log(
      `${from} → ${[...row]
        .sort()
        .map(([to, n]) => `${to} (${n})`)
        .join(', ')}`,
    );
  }
  const files = new Map<string, number>();
  for (const f of sourceFiles(root)) files.set(f.split(sep)[0]!, (files.get(f.split(sep)[0]!) ?? 0) + 1);
  console.log(`\n## .ts files per folder\n\n${[...files].map(([d, n]) => `${d}: ${n}`).join(', ')}`);
  console.log('\n## longest functions (outside test/ and bench/)\n');
  for (const f of longestFunctions(root)) console.log(`${f.lines} lines  ${f.name}  (${f.where})`);
}
