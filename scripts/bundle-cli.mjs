// Bundles the operator CLI (cli/index.ts) into assets/cli/index.js, the package's "bin", so that
// `npx imported-kms-key` needs no runtime dependency (commander and the AWS SDK are inside).
// Fails if aws-cdk-lib, constructs or construct code reached the bundle, as for the handler.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const outfile = 'assets/cli/index.js';
const result = await build({
  entryPoints: ['cli/index.ts'],
  outfile,
  write: false,
  bundle: true,
  metafile: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
const forbidden = Object.keys(result.metafile.inputs).filter((input) =>
  /(^|\/)node_modules\/(aws-cdk-lib|constructs)\//.test(input) || (/^lib\//.test(input) && !/^lib\/shared\//.test(input)));
if (forbidden.length > 0) {
  console.error(`The CLI bundle must not contain aws-cdk-lib, constructs or construct code, but esbuild bundled: ${forbidden.slice(0, 5).join(', ')}. Import only lib/shared/ from cli/.`);
  process.exit(1);
}
mkdirSync('assets/cli', { recursive: true });
const partial = `${outfile}.${process.pid}.tmp`;
writeFileSync(partial, result.outputFiles[0].contents);
chmodSync(partial, 0o755);
renameSync(partial, outfile);
