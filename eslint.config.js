// Lint: typescript-eslint's recommended rules, plus the shape of the project: folders under src/ depend on each
// other only through their index.ts, and never in a cycle (type imports too: test/architecture.test.ts, as no-cycle skips them).
import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import tseslint from 'typescript-eslint'
import { importX } from 'eslint-plugin-import-x'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import globals from 'globals'
import { readdirSync } from 'node:fs'

/** The folders directly under src/, one per stage. */
const stages = readdirSync(new URL('src/', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)

export default defineConfig(
  { ignores: ['node_modules/', 'data/', 'dist/', 'coverage/', 'bench/results/', 'schemas/*.schema.json'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'import-x/no-cycle': 'error',
      'import-x/no-self-import': 'error',
      'import-x/no-duplicates': 'error',
    },
  },
  {
    // The ops console runs in the browser (bundled by src/console/build.ts).
    files: ['console/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // A folder's public surface is its index.ts: from anywhere else in src/ (main.ts, another folder, at any depth),
    // a file inside it is out of reach. Judged on resolved paths, so '../../schemas/' (outside src/) is left alone.
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: import.meta.dirname,
          zones: stages.map((stage) => ({
            target: ['src/*.ts', `src/!(${stage})/**`],
            from: `src/${stage}`,
            except: ['./index.ts'],
            message: `Import src/${stage}/ through its index.ts.`,
          })),
        },
      ],
    },
  },
)
