// Bundles the import handler (lambda/index.ts) into assets/import-handler/index.js.
// Runs at package build time (`npm run build`, before jsii), so a consumer's `cdk synth` needs neither esbuild nor Docker.
import { build } from 'esbuild';

await build({
  entryPoints: ['lambda/index.ts'],
  outfile: 'assets/import-handler/index.js',
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
