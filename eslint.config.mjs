// @ts-check
import eslint from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // Generated output: napi's loader (index.js / index.d.ts), tsc output,
  // cargo output, napi per-platform packages, typedoc output; the header napi puts at the top
  // of index.d.ts (its eslint-disable is for the generated file, unused in the header alone).
  globalIgnores([
    'index.js',
    'index.d.ts',
    'crates/tenus-node/header.d.ts',
    'dist/**',
    'target/**',
    'npm/**',
    'docs/api/**',
    'node_modules/**',
    'coverage/**',
  ]),
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Tests, examples and benches may poke at internals.
    files: ['test/**/*.ts', 'examples/**/*.ts', 'benches/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.cjs', '**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
