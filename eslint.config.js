// Flat config: typescript-eslint's recommended type-aware rules over src, test and bench, plus the
// layer rules of docs/architecture.md ("Layers and rules") and the size limits for src/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Which src/ folders each layer may import (besides itself and npm/node packages). Every other
 * folder becomes a no-restricted-imports pattern ('../blobs/*' from src/api, and '../../blobs/*' for
 * files one folder deeper); type-only imports and re-exports count too. Only src/cli may import
 * src/app.ts, the composition root, which itself may import any layer.
 */
const LAYERS = {
  cli: ['app', 'admin', 'config', 'core'],
  fs: ['meta', 'blobs', 'admin', 'core'],
  meta: ['api', 'core'],
  blobs: ['core'],
  api: ['core'],
  admin: ['core'],
  config: ['core'],
  core: [],
};
const FOLDERS = ['cli', 'fs', 'meta', 'blobs', 'api', 'admin', 'config', 'core'];

function layerRule(layer, allowed) {
  const forbidden = FOLDERS.filter((f) => f !== layer && !allowed.includes(f));
  const patterns = forbidden.map((f) => ({
    group: [`../${f}/*`, `../../${f}/*`],
    message: `${allowed.length > 0 ? `src/${layer} may import only ${allowed.join(', ')}` : `src/${layer} may import nothing else in src`} (docs/architecture.md, "Layers and rules").`,
  }));
  if (!allowed.includes('app')) {
    patterns.push({
      group: ['../app.js', '../../app.js'],
      message: `only src/cli may import src/app.ts (docs/architecture.md, "Layers and rules").`,
    });
  }
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...Object.entries(LAYERS).map(([layer, allowed]) => layerRule(layer, allowed)),
  {
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false }],
    },
  },
  {
    files: ['**/*.mjs', 'scripts/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
