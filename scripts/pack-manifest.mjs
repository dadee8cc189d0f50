// `npm pack` and `npm publish` (prepack / postpack): build what the package ships, refuse with a
// sentence if any of it is missing, and pack a package.json without scripts, so the published
// package carries no lifecycle script whose inputs (scripts/, lambda/, lib/*.ts) it does not ship.
//   node scripts/pack-manifest.mjs prepack    build, check, set the repo's package.json aside, write the packed one
//   node scripts/pack-manifest.mjs postpack   put the repo's package.json back
// A pack that failed between the two leaves the copy aside; the next prepack puts it back first.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const MANIFEST = 'package.json';
const ASIDE = '.package.json.unpacked';

function restore() {
  if (existsSync(ASIDE)) renameSync(ASIDE, MANIFEST);
}

function prepack() {
  restore();
  // Everything to stderr: `npm pack --json` prints its result on stdout.
  const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 2, 2] });
  if (build.status !== 0) fail('the build (npm run build: the handler bundle, then jsii) failed; fix it and pack again.');
  const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
  const shipped = [manifest.main, manifest.types, '.jsii', 'assets/import-handler/index.js', 'assets/cli/index.js'];
  const missing = shipped.filter((file) => !existsSync(file));
  if (missing.length > 0) fail(`the build did not produce ${missing.join(', ')}, which the package must ship; run npm run build and check its output.`);
  const { scripts: _scripts, ...packed } = manifest;
  renameSync(MANIFEST, ASIDE);
  writeFileSync(MANIFEST, `${JSON.stringify(packed, null, 2)}\n`);
}

function fail(sentence) {
  console.error(`imported-kms-key: not packing: ${sentence}`);
  process.exit(1);
}

const step = process.argv[2];
if (step === 'prepack') prepack();
else if (step === 'postpack') restore();
else fail(`unknown step '${step}'; use prepack or postpack.`);
