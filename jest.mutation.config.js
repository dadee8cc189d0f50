/** The fast suites (mocks, openssl, templates, IAM evaluation) that `npm run mutation` runs against each mutant. */
const base = require('./jest.config');

module.exports = {
  ...base,
  reporters: ['default'],
  testMatch: ['**/test/handler/**/*.test.ts', '**/test/construct/**/*.test.ts'],
  // Slow or outside the mutated code: cdk-nag + cfn-lint, the example snapshot, 200-key stacks.
  testPathIgnorePatterns: ['/node_modules/', '/test/construct/(template-lint|example|scale)\\.test\\.ts$'],
};
