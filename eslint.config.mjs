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
    // Tests and benchmarks read untyped JSON by nature: synthesized CloudFormation templates
    // (Template.toJSON(), JSON.parse of cdk.out), cdk-nag reports, SDK mock call arguments, log
    // lines. Typing every template path they assert on would add casts, not safety, so the
    // any-propagation rules are off there (and only there); lib/ and lambda/ keep every rule.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
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
