// Bundles the import handler (lambda/index.ts) into assets/import-handler/index.js.
// Runs at package build time (`npm run build` before jsii, and `prepare`), so a consumer's `cdk synth` needs neither esbuild nor Docker.
// The file is replaced atomically (write beside it, then rename): jsii-pacmak's `npm pack` runs
// `prepare` while tests may be reading the bundle, and they must never see a partial file.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const outfile = 'assets/import-handler/index.js';
const result = await build({
  entryPoints: ['lambda/index.ts'],
  outfile,
  write: false,
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
const [output] = result.outputFiles;
mkdirSync('assets/import-handler', { recursive: true });
const partial = `${outfile}.${process.pid}.tmp`;
writeFileSync(partial, output.contents);
renameSync(partial, outfile);
