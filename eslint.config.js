// Lint: the layers (which folder may import which, as allow-lists), the workflow sandbox, and
// the promise rules Temporal code depends on.
import { dirname, relative, resolve, sep } from 'node:path';
import tseslint from 'typescript-eslint';

const ROOT = import.meta.dirname;

/**
 * The house, bottom to top: each folder may import only the folders listed (and itself). The
 * README's folder table says the same in words. `packages: null` allows any npm package;
 * a list allows only those (sandboxed code: the workflow bundle and what it loads).
 */
const SANDBOX_PACKAGES = ['@temporalio/workflow', '@temporalio/common'];
const LAYERS = {
  contract: { ours: [], packages: SANDBOX_PACKAGES, typeOnlyPackages: ['@anthropic-ai/sdk'] },
  connection: { ours: ['contract'], packages: null },
  workflows: { ours: ['contract'], packages: SANDBOX_PACKAGES, typeOnlyPackages: ['@anthropic-ai/sdk'] },
  agents: { ours: ['contract'], packages: null },
  activities: { ours: ['contract', 'agents'], packages: null },
  worker: { ours: ['contract', 'connection', 'activities', 'agents'], packages: null },
  client: { ours: ['contract', 'connection'], packages: null, deniedPackages: ['@temporalio/worker', '@temporalio/activity'] },
  devtools: { ours: ['contract', 'agents'], packages: null },
  scripts: { ours: ['contract', 'connection', 'agents', 'activities', 'worker', 'client', 'devtools'], packages: null },
  bench: { ours: ['contract', 'connection', 'agents', 'activities', 'worker', 'client', 'devtools', 'scripts'], packages: null },
};

function packageName(source) {
  if (source.startsWith('node:')) return 'node:';
  const parts = source.split('/');
  return source.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** `layers/imports`: an import that runs back up the house, or a package a sandboxed layer may not load. */
const importsRule = {
  meta: { type: 'problem', schema: [], messages: { up: '{{layer}}/ may not import {{target}}: {{why}}' } },
  create(context) {
    const file = relative(ROOT, context.filename);
    const layer = file.split(sep)[0];
    const spec = LAYERS[layer];
    if (!spec || file === layer) return {};
    const check = (node, source, typeOnly) => {
      if (typeof source !== 'string') return;
      let target;
      let why;
      if (source.startsWith('.')) {
        target = relative(ROOT, resolve(dirname(context.filename), source)).split(sep)[0];
        if (target === layer || spec.ours.includes(target)) return;
        why = spec.ours.length ? `it may import only ${spec.ours.join(', ')}` : 'it imports nothing of ours';
      } else {
        const pkg = packageName(source);
        target = pkg === 'node:' ? source : pkg;
        if (spec.deniedPackages?.includes(pkg)) why = 'that package belongs to the worker side';
        else if (spec.packages === null || spec.packages.includes(pkg)) return;
        else if (typeOnly && spec.typeOnlyPackages?.includes(pkg)) return;
        else
          why = `sandboxed code may load only ${spec.packages.join(', ')}${spec.typeOnlyPackages ? ` (and types of ${spec.typeOnlyPackages.join(', ')})` : ''}`;
      }
      context.report({ node, messageId: 'up', data: { layer, target, why } });
    };
    const typeOnly = (node) =>
      node.importKind === 'type' ||
      node.exportKind === 'type' ||
      (node.specifiers?.length > 0 && node.specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type'));
    return {
      ImportDeclaration: (node) => check(node, node.source.value, typeOnly(node)),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value, typeOnly(node)),
      ExportAllDeclaration: (node) => check(node, node.source.value, node.exportKind === 'type'),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value, false),
    };
  },
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.tools/',
      '.temporal/',
      '.artifacts/',
      '.data/',
      'client/bin.mjs',
      'bench/no-vm-watchdog.mjs',
      'eslint.config.js',
    ],
  },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: ROOT } },
    plugins: { layers: { rules: { imports: importsRule } } },
    rules: {
      'layers/imports': 'error',
      // Forgetting to await an activity or a workflow API is a bug, not a style choice.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Modules Temporal loads with require() (failureConverterPath): CommonJS, plain JavaScript,
    // outside the TypeScript project.
    files: ['**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', exports: 'writable', globalThis: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Sandboxed code: the workflow bundle (workflows/ and the contract it loads) runs in Temporal's
    // deterministic sandbox, where Node's globals do not exist.
    files: ['workflows/**/*.ts', 'contract/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: 'Not in the workflow sandbox: use TextEncoder / Uint8Array.' },
        { name: 'process', message: 'Not in the workflow sandbox: configuration reaches a run through its input or an activity.' },
        { name: 'require', message: 'Not in the workflow sandbox: import what you need.' },
        { name: 'global', message: 'Not in the workflow sandbox: use globalThis sparingly, never for state.' },
        { name: 'setImmediate', message: 'Not in the workflow sandbox: use sleep() or condition().' },
      ],
    },
  },
);
