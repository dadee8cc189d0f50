/**
 * Writes one plain line, `N passed, N failed`, that covers every suite jest ran (a suite that
 * failed to run counts as a failure), to $SUMMARY_FILE or else to stdout.
 */
const fs = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
    if (process.env.SUMMARY_FILE) fs.writeFileSync(process.env.SUMMARY_FILE, line);
    else process.stdout.write(`\n${line}`);
  }
}
module.exports = SummaryReporter;
