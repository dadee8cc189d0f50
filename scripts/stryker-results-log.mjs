/**
 * A StrykerJS reporter that appends each mutant's result to reports/mutation/results.jsonl as it
 * is known, so survivors can be worked on while a long run goes on, and a stopped run keeps what it
 * measured. `node scripts/mutation-summary.mjs` turns the file into a score per file.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { declareClassPlugin, PluginKind } from '@stryker-mutator/api/plugin';

export const RESULTS_FILE = 'reports/mutation/results.jsonl';

class ResultsLog {
  onMutationTestingPlanReady() {
    mkdirSync(dirname(RESULTS_FILE), { recursive: true });
    writeFileSync(RESULTS_FILE, '');
  }

  onMutantTested(result) {
    const { line, column } = result.location.start;
    appendFileSync(RESULTS_FILE, JSON.stringify({
      status: result.status, file: relative(process.cwd(), result.fileName), line, column,
      mutator: result.mutatorName, replacement: result.replacement,
    }) + '\n');
  }
}
ResultsLog.inject = [];

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'results-log', ResultsLog)];
