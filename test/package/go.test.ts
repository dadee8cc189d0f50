// The library as a Go user gets it: jsii-pacmak generates the Go module, scripts/pin-go-module.mjs pins
// its requirements to the peer ranges' floors (as `npm run package` does), and a small Go CDK app
// (test/package/go-app, aws-cdk-lib's Go module from the Go module proxy) builds against it and
// synthesizes. The app binary is cached in .cache/go-app, keyed on the content of the generated module
// and the app, and so is the generated module (keyed on the assembly and what the npm tarball ships), so a
// rerun with an unchanged library only synthesizes.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { contentHash, jsiiEnv, PACMAK_INPUTS } from './pacmak-cache';
import { testSynthesizedApp, validTo } from './synthesized-app';

const root = resolve(__dirname, '..', '..');
const appDir = join(root, 'test', 'package', 'go-app');
const cache = join(root, '.cache', 'go-app');
/** Where test/package/go-app/go.mod's replace directive finds the generated module. */
const moduleDir = join(cache, 'importedkmskey');

let goMod: string;
let moduleBundle: Buffer;
let outdir: string;

beforeAll(() => {
  // Generation takes long (minutes on a busy machine): cached, keyed on its inputs.
  const generated = join(cache, 'generated', contentHash(...PACMAK_INPUTS));
  if (!existsSync(generated)) {
    const packDir = mkdtempSync(join(tmpdir(), 'pacmak-go-'));
    // npm test built the package already; packing without scripts keeps the tree's build as it is.
    execFileSync('npx', ['jsii-pacmak', '--targets', 'go', '--code-only', '--no-npmignore', '--pack-command', 'npm pack --ignore-scripts', '--outdir', packDir],
      { cwd: root, env: jsiiEnv, stdio: 'inherit' });
    execFileSync(process.execPath, [join(root, 'scripts', 'pin-go-module.mjs'), join(packDir, 'go', 'importedkmskey')]);
    rmSync(join(cache, 'generated'), { recursive: true, force: true });
    cpSync(join(packDir, 'go', 'importedkmskey'), generated, { recursive: true });
  }
  goMod = readFileSync(join(generated, 'go.mod'), 'utf8');
  // The handler bundle as the Go module carries it: inside the npm tarball jsii embeds in the module.
  const [tarball] = readdirSync(join(generated, 'jsii')).filter((f) => f.endsWith('.tgz'));
  moduleBundle = execFileSync('tar', ['xzf', join(generated, 'jsii', tarball), '-O', 'package/assets/import-handler/index.js']);

  const binary = join(cache, 'bin', `app-${contentHash(generated, appDir)}`);
  if (!existsSync(binary)) {
    // One binary at a time (each ~80 MB): an older one is of a library that changed since.
    rmSync(join(cache, 'bin'), { recursive: true, force: true });
    rmSync(moduleDir, { recursive: true, force: true });
    mkdirSync(cache, { recursive: true });
    cpSync(generated, moduleDir, { recursive: true });
    execFileSync('go', ['build', '-mod=readonly', '-o', binary, '.'], { cwd: appDir, stdio: 'inherit' });
  }
  outdir = mkdtempSync(join(tmpdir(), 'go-app-'));
  execFileSync(binary, [outdir, validTo], { env: jsiiEnv, stdio: ['ignore', 'inherit', 'ignore'] });
}, 600_000);

test('the generated Go module requires the peer ranges\' floors of aws-cdk-lib and constructs, not the versions the repo develops against', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
  const floor = (name: string) => pkg.peerDependencies[name].replace('^', 'v');
  expect(goMod).toContain(`github.com/aws/aws-cdk-go/awscdk/v2 ${floor('aws-cdk-lib')}\n`);
  expect(goMod).toContain(`github.com/aws/constructs-go/constructs/v10 ${floor('constructs')}\n`);
  expect(goMod).not.toContain('// indirect');
});

test('the Go module carries the handler bundle', () => {
  expect(moduleBundle.equals(readFileSync(join(root, 'assets', 'import-handler', 'index.js')))).toBe(true);
});

testSynthesizedApp('Go', 'GoConsumer', () => ({ outdir }));
