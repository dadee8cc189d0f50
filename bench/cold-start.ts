/**
 * 3. Handler cold start: bundle size, and the time a fresh Node process takes to load the bundle
 * versus loading @aws-sdk/client-kms and @aws-sdk/client-secrets-manager alone.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { median, round } from './stats';

const RUNS = 21;
const root = resolve(__dirname, '..');
const BUNDLE = join(root, 'assets', 'import-handler', 'index.js');

/** Milliseconds `code` takes to run inside a fresh Node process (process start excluded). */
function loadMs(code: string): number {
  const script = `const t = process.hrtime.bigint(); ${code}; process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  return Number(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }));
}

export function benchColdStart() {
  const bundle: number[] = [];
  const sdk: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    bundle.push(loadMs(`require(${JSON.stringify(BUNDLE)})`));
    sdk.push(loadMs("require('@aws-sdk/client-kms'); require('@aws-sdk/client-secrets-manager')"));
  }
  return {
    coldStart: {
      bundleBytes: statSync(BUNDLE).size,
      bundleTargetBytes: 600 * 1024,
      runs: RUNS,
      bundleLoadMedianMs: round(median(bundle)),
      sdkOnlyLoadMedianMs: round(median(sdk)),
      ratio: round(median(bundle) / median(sdk)),
      target: '<= 1.2',
    },
  };
}
