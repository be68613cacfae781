// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.factory/', '.factory-test/', 'db/migrations/', 'eslint.config.mjs', '.dependency-cruiser.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.property.name='cronSchedule']", message: 'Use Temporal Schedules.' }],
    },
  },
  {
    // Workflow code is replayed in a sandbox: no Node built-ins, no I/O, no activity implementations.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net', 'stream', 'worker_threads'], message: 'Workflows must stay deterministic: no Node built-ins.' },
          { group: ['**/activities', '**/activities/**', '**/db', '**/db/**', '**/api', '**/api/**', '**/ml', '**/ml/**', '@temporalio/worker', '@temporalio/client', '@temporalio/activity'], allowTypeImports: true, message: 'Workflows import activities and other side-effecting code as types only.' },
        ],
      }],
    },
  },
);
