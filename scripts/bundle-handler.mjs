// Bundles the import handler (lambda/index.ts) into assets/import-handler/index.js.
// Runs at package build time (`npm run build`, and `npm pack` through prepack), so a consumer's `cdk synth` needs neither esbuild nor Docker.
// Fails if aws-cdk-lib, constructs or construct code (lib/ outside lib/shared/) reached the bundle:
// the same boundary eslint.config.mjs enforces on imports, checked on what esbuild actually read.
// The file is replaced atomically (write beside it, then rename): jsii-pacmak's `npm pack` may
// build while tests read the bundle, and they must never see a partial file.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const outfile = 'assets/import-handler/index.js';
const result = await build({
  entryPoints: ['lambda/index.ts'],
  outfile,
  write: false,
  bundle: true,
  metafile: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
const forbidden = Object.keys(result.metafile.inputs).filter((input) =>
  /(^|\/)node_modules\/(aws-cdk-lib|constructs)\//.test(input) || (/^lib\//.test(input) && !/^lib\/shared\//.test(input)));
if (forbidden.length > 0) {
  console.error(`The handler bundle must not contain aws-cdk-lib, constructs or construct code, but esbuild bundled: ${forbidden.slice(0, 5).join(', ')}`
    + `${forbidden.length > 5 ? ` and ${forbidden.length - 5} more` : ''}. Import only lib/shared/ from lambda/.`);
  process.exit(1);
}
const [output] = result.outputFiles;
mkdirSync('assets/import-handler', { recursive: true });
const partial = `${outfile}.${process.pid}.tmp`;
writeFileSync(partial, output.contents);
renameSync(partial, outfile);
