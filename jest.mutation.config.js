/** The fast suites (mocks, openssl, templates, IAM evaluation) that `npm run mutation` runs against each mutant. */
const base = require('./jest.config');

module.exports = {
  ...base,
  reporters: ['default'],
  testMatch: [
    '**/test/handler*.test.ts', '**/test/material.test.ts', '**/test/wrap.test.ts', '**/test/construct.test.ts',
    '**/test/expiration.test.ts', '**/test/shred.test.ts', '**/test/rotation.test.ts', '**/test/replica.test.ts', '**/test/lockdown.test.ts', '**/test/key-policy-simulation.test.ts', '**/test/policy-size.test.ts',
  ],
};
