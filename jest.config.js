/** Unit and construct tests run in parallel; emulator tests (test/emulator) share one pair of servers per file; test/deploy starts one MiniStack per file and sets its own timeout (cdk deploy runs). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
