// The library as a Go user gets it: jsii-pacmak generates the Go module, scripts/pin-go-module.mjs pins
// its requirements to the peer ranges' floors (as `npm run package` does), and a small Go CDK app
// (test/package/go-app, aws-cdk-lib's Go module from the Go module proxy) builds against it and
// synthesizes. The app binary is cached in .cache/go-app, keyed on the content of the generated module
// and the app, so a rerun with an unchanged library only synthesizes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { testSynthesizedApp, validTo } from './synthesized-app';

const root = resolve(__dirname, '..', '..');
const appDir = join(root, 'test', 'package', 'go-app');
const cache = join(root, '.cache', 'go-app');
/** Where test/package/go-app/go.mod's replace directive finds the generated module. */
const moduleDir = join(cache, 'importedkmskey');
const jsiiEnv = { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20', JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1' };

/** A hash of every file under each of `dirs`, by path and content. */
function contentHash(...dirs: string[]): string {
  const hash = createHash('sha256');
  const walk = (base: string, dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(base, path);
      else hash.update(`${relative(base, path)}\0`).update(readFileSync(path)).update('\0');
    }
  };
  for (const dir of dirs) walk(dir, dir);
  return hash.digest('hex').slice(0, 16);
}

let goMod: string;
let moduleBundle: Buffer;
let outdir: string;

beforeAll(() => {
  const packDir = mkdtempSync(join(tmpdir(), 'pacmak-go-'));
  // npm test built the package already; packing without scripts keeps the tree's build as it is.
  execFileSync('npx', ['jsii-pacmak', '--targets', 'go', '--code-only', '--no-npmignore', '--pack-command', 'npm pack --ignore-scripts', '--outdir', packDir],
    { cwd: root, env: jsiiEnv, stdio: 'inherit' });
  const generated = join(packDir, 'go', 'importedkmskey');
  execFileSync(process.execPath, [join(root, 'scripts', 'pin-go-module.mjs'), generated]);
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
