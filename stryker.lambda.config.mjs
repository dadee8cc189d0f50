// StrykerJS over lambda/ only, type-checked against lambda/ alone (tsconfig.mutation-lambda.json):
// the handler never imports aws-cdk-lib, so each mutant's check loads a quarter of the files.
import { readFileSync } from 'node:fs';

const base = JSON.parse(readFileSync(new URL('./stryker.config.json', import.meta.url), 'utf8'));

export default { ...base, mutate: ['lambda/**/*.ts'], tsconfigFile: 'tsconfig.mutation-lambda.json' };
