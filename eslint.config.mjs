// eslint (flat config): typescript-eslint's type-checked recommended rules over every TypeScript
// source, plus the bundling boundary: the handler (lambda/) and the cdk-free modules it bundles
// from lib/ must not import aws-cdk-lib or constructs. `npm test` runs it; `npm run lint` alone.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** lib/ modules the handler bundle imports (grep "from '../lib/" lambda/): kept cdk-free. */
const HANDLER_SHARED = ['lib/contract.ts', 'lib/key-spec-rules.ts'];

export default tseslint.config(
  { ignores: ['node_modules/', 'build/', 'dist/', 'assets/', 'cdk.out/', '.cache/', 'coverage/', 'reports/', '.stryker-tmp/', '**/*.js', '**/*.mjs'] },
  {
    files: ['lib/**/*.ts', 'lambda/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'example/**/*.ts'],
    extends: [eslint.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A leading underscore marks a binding kept on purpose (e.g. a property dropped by destructuring).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['lambda/**/*.ts', ...HANDLER_SHARED],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'constructs/*'],
          message: 'The handler bundle must stay cdk-free: lambda/ and the lib/ modules it imports may not import aws-cdk-lib or constructs.',
        }],
      }],
    },
  },
);
