/**
 * Prints the mutation score per file, and every survivor, from reports/mutation/results.jsonl
 * (written by scripts/stryker-results-log.mjs), also for a run that was stopped before its end.
 * Several files (runs over different files, e.g. lib/ then lambda/) are read as one run.
 * Score as StrykerJS counts it: (killed + timed out) / (all but compile errors and ignored).
 */
import { readFileSync } from 'node:fs';
import { RESULTS_FILE } from './stryker-results-log.mjs';

const files = process.argv.length > 2 ? process.argv.slice(2) : [RESULTS_FILE];
const results = files.flatMap((file) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)));
const DETECTED = ['Killed', 'Timeout'];
const UNDETECTED = ['Survived', 'NoCoverage'];
const rows = new Map();
for (const r of results) {
  const row = rows.get(r.file) ?? {};
  row[r.status] = (row[r.status] ?? 0) + 1;
  rows.set(r.file, row);
}
const score = (row) => {
  const detected = DETECTED.reduce((n, s) => n + (row[s] ?? 0), 0);
  const valid = detected + UNDETECTED.reduce((n, s) => n + (row[s] ?? 0), 0);
  return valid === 0 ? 'n/a' : `${(100 * detected / valid).toFixed(1)}%`;
};
const total = {};
for (const [file, row] of [...rows].sort()) {
  for (const [status, n] of Object.entries(row)) total[status] = (total[status] ?? 0) + n;
  console.log(`${score(row).padStart(6)}  ${file}  ${JSON.stringify(row)}`);
}
console.log(`${score(total).padStart(6)}  all ${results.length} mutants  ${JSON.stringify(total)}`);
for (const r of results.filter((r) => UNDETECTED.includes(r.status))) {
  console.log(`${r.status}\t${r.file}:${r.line}:${r.column}\t${r.mutator}\t${JSON.stringify(r.replacement)}`);
}
