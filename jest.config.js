/** Unit and construct tests run in parallel; emulator tests (test/emulator) share one pair of servers per file; test/deploy starts one MiniStack per file and sets its own timeout (cdk deploy runs). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  testTimeout: 60_000,
  // Two workers on two cores: the slowest suites mostly wait on child processes (jsii-pacmak, Maven,
  // go build, the CloudFormation engine), so they overlap well; jest's default is one fewer than the cores.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
