// Lint: the sandbox boundary of workflows/ and the promise rules Temporal code depends on.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.temporal/', '.artifacts/', 'client/bin.mjs', 'eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Forgetting to await an activity or a workflow API is a bug, not a style choice.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node, no SDK, no tool code.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'http', 'https', 'crypto', 'child_process', 'os'], message: 'workflows/ must not use Node built-ins (determinism).' },
            { group: ['@anthropic-ai/sdk', '@anthropic-ai/sdk/*'], allowTypeImports: true, message: 'workflows/ may import only types from the Anthropic SDK.' },
            { group: ['../activities/*', '../agents/*', '../worker/*', '../client/*'], allowTypeImports: true, message: 'workflows/ may import only types from other layers.' },
            { group: ['@temporalio/worker', '@temporalio/client', '@temporalio/activity'], message: 'workflows/ may use only @temporalio/workflow and @temporalio/common.' },
          ],
        },
      ],
    },
  },
);
