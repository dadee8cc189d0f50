// eslint (flat config): typescript-eslint's type-checked recommended rules over every TypeScript
// source, plus the bundling boundary, by folder: the handler (lambda/**) and the cdk-free code it
// bundles (lib/shared/**), and the operator CLI (cli/**), may not import aws-cdk-lib, constructs, or lib/ outside lib/shared.
// scripts/bundle-handler.mjs checks the same of the bundle itself. `npm test` runs it; `npm run lint` alone.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

const CDK = {
  group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'constructs/*'],
  message: 'The handler bundle must stay cdk-free: lambda/ and lib/shared/ may not import aws-cdk-lib or constructs.',
};

export default tseslint.config(
  { ignores: ['node_modules/', 'build/', 'dist/', 'assets/', 'cdk.out/', '.cache/', 'coverage/', 'reports/', '.stryker-tmp/', '**/*.js', '**/*.mjs'] },
  {
    files: ['lib/**/*.ts', 'lambda/**/*.ts', 'cli/**/*.ts', 'test/**/*.ts', 'tools/**/*.ts', 'bench/**/*.ts', 'example/**/*.ts'],
    extends: [eslint.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A leading underscore marks a binding kept on purpose (e.g. a property dropped by destructuring).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['lambda/**/*.ts', 'cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [CDK, {
          regex: '^(\\.\\./)+lib(/(?!shared/)|$)',
          message: 'The handler and the CLI may import only lib/shared/ from lib/: the rest of lib/ is construct code (aws-cdk-lib).',
        }],
      }],
    },
  },
  {
    files: ['lib/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [CDK, {
          regex: '^\\.\\./',
          message: 'lib/shared/ is bundled into the handler: it may import only itself (and Node.js), never the rest of lib/.',
        }],
      }],
    },
  },
);
