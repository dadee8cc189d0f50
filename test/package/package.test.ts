import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CfnTemplate } from '../../tools/template';

const root = resolve(__dirname, '..', '..');
interface PackageJson { version: string; devDependencies: Record<string, string>; peerDependencies: Record<string, string> }
const readPackageJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
const pkg = readPackageJson(root);
/** What `npm pack --json` prints, one entry per package. */
type PackResult = Array<{ filename: string }>;

/** The peer range's floor (what a user on the oldest supported versions has) and the newest, which the repo develops against. */
const OLDEST = { 'aws-cdk-lib': '2.269.0', constructs: '10.5.0' };
const NEWEST = { 'aws-cdk-lib': pkg.devDependencies['aws-cdk-lib'], constructs: pkg.devDependencies.constructs };

/**
 * The package as `npm pack` makes it from a clean tree (the repository's files, none of the build's
 * outputs), with its lifecycle scripts: it builds what it ships.
 */
let clean: string;
let tarball: string;
const tarFiles = (file: string) => execFileSync('tar', ['tzf', file], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
const tarFile = (file: string, path: string) => execFileSync('tar', ['xzf', file, '-O', `package/${path}`], { encoding: 'utf8' });

beforeAll(() => {
  clean = mkdtempSync(join(tmpdir(), 'clean-tree-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files.filter((f) => existsSync(join(root, f)))) cpSync(join(root, file), join(clean, file), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(clean, 'node_modules'));
  expect(['build', '.jsii', 'assets'].filter((f) => existsSync(join(clean, f)))).toEqual([]);
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', clean], { cwd: clean, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as PackResult;
  tarball = join(clean, pack.filename);
}, 300_000);

test('npm pack from a clean tree builds and ships the jsii assembly, the compiled library, its typings, the handler bundle, the license and the docs README links to, and nothing else', () => {
  const files = tarFiles(tarball);
  expect(files).toEqual(expect.arrayContaining(['.jsii', 'build/index.js', 'build/index.d.ts', 'assets/import-handler/index.js', 'assets/cli/index.js', 'LICENSE', 'CHANGELOG.md', 'docs/runbooks.md']));
  expect(files.filter((f) => !/^(\.jsii|package\.json|README\.md|LICENSE|CHANGELOG\.md|build\/([\w-]+\/)?[\w-]+\.(js|d\.ts)|docs\/[\w-]+\.md|assets\/(import-handler|cli)\/index\.js)$/.test(f))).toEqual([]);
  expect(tarFile(tarball, 'LICENSE')).toContain('Apache License');
});

test('the packed package.json has no scripts, so installing it runs none; the tree keeps its own', () => {
  const packed = JSON.parse(tarFile(tarball, 'package.json')) as PackageJson & { scripts?: object; main: string };
  expect(packed.scripts).toBeUndefined();
  expect(packed.main).toBe('build/index.js');
  expect(readFileSync(join(clean, 'package.json'), 'utf8')).toBe(readFileSync(join(root, 'package.json'), 'utf8'));
  expect(existsSync(join(clean, '.package.json.unpacked'))).toBe(false);
});

test('the operator CLI ships as the package\'s bin, one file that runs with no node_modules beside it', () => {
  expect((JSON.parse(tarFile(tarball, 'package.json')) as { bin: Record<string, string> }).bin).toEqual({ 'imported-kms-key': 'assets/cli/index.js' });
  const alone = mkdtempSync(join(tmpdir(), 'cli-alone-'));
  writeFileSync(join(alone, 'index.js'), tarFile(tarball, 'assets/cli/index.js'));
  const help = spawnSync(process.execPath, [join(alone, 'index.js'), 'parameters', '--help'], { cwd: alone, encoding: 'utf8' });
  expect(help.status).toBe(0);
  expect(help.stdout).toMatch(/^Usage: imported-kms-key parameters \[options\]/);
});

test('a pack whose build lacks a shipped file refuses with a sentence and leaves package.json as it was', () => {
  const manifest = join(clean, 'package.json');
  const original = readFileSync(manifest, 'utf8');
  writeFileSync(manifest, original.replace('"main": "build/index.js"', '"main": "build/nothing.js"'));
  const broken = readFileSync(manifest, 'utf8');
  try {
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', mkdtempSync(join(tmpdir(), 'refused-'))], { cwd: clean, encoding: 'utf8' });
    expect(pack.status).not.toBe(0);
    expect(pack.stderr).toContain('imported-kms-key: not packing: the build did not produce build/nothing.js, which the package must ship; run npm run build and check its output.');
    expect(readFileSync(manifest, 'utf8')).toBe(broken);
  } finally {
    writeFileSync(manifest, original);
  }
}, 300_000);

test('the peer ranges start at the oldest versions the consumer test below installs', () => {
  expect(pkg.peerDependencies).toEqual({ 'aws-cdk-lib': `^${OLDEST['aws-cdk-lib']}`, constructs: `^${OLDEST.constructs}` });
});

describe.each([['oldest', OLDEST], ['newest', NEWEST]])('a consumer on the %s supported aws-cdk-lib', (_, versions) => {
  test(`installs the packed tarball with aws-cdk-lib ${versions['aws-cdk-lib']} and constructs ${versions.constructs} and synthesizes without esbuild or Docker`, () => {
    // The consumer project lives in .cache, keyed on its versions, so a rerun finds aws-cdk-lib installed
    // and npm only replaces this library (from this run's tarball).
    const consumer = join(root, '.cache', 'consumers', `aws-cdk-lib-${versions['aws-cdk-lib']}-constructs-${versions.constructs}`);
    mkdirSync(consumer, { recursive: true });
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: versions }));
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-save', tarball], { cwd: consumer, encoding: 'utf8' });
    expect(install.status).toBe(0);
    // Nothing of this package asks to run at install (npm warns about install scripts it has not been allowed to run).
    expect(`${install.stdout}${install.stderr}`).not.toMatch(/imported-kms-key@[^\n]*\((prepare|install|postinstall|preinstall)/);
    const installed = (name: string) => readPackageJson(join(consumer, 'node_modules', name)).version;
    expect({ 'aws-cdk-lib': installed('aws-cdk-lib'), constructs: installed('constructs') }).toEqual(versions);

    const outdir = mkdtempSync(join(tmpdir(), 'consumer-out-'));
    const script = `
      const Module = require('node:module');
      const load = Module._load;
      Module._load = function (request, ...rest) {
        if (/^esbuild($|\\/)/.test(request)) throw new Error('consumer synth loaded ' + request);
        return load.call(this, request, ...rest);
      };
      const { App, Stack } = require('aws-cdk-lib');
      const sm = require('aws-cdk-lib/aws-secretsmanager');
      const iam = require('aws-cdk-lib/aws-iam');
      const { ImportedKmsKey, KeyMaterial, KeyMaterialExpiration } = require('imported-kms-key');
      const app = new App({ outdir: ${JSON.stringify(outdir)} });
      const stack = new Stack(app, 'Consumer');
      const key = new ImportedKmsKey(stack, 'Key', {
        keyMaterial: KeyMaterial.fromSecret(sm.Secret.fromSecretNameV2(stack, 'S', 'material')),
        expiration: KeyMaterialExpiration.at(new Date(Date.now() + 30 * 86400000)),
        alias: 'alias/consumer',
      });
      key.grantDecrypt(new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
      app.synth();
    `;
    // No esbuild module may load, and no docker (or any other) executable is on PATH.
    execFileSync(process.execPath, ['-e', script], { cwd: consumer, env: { ...process.env, PATH: mkdtempSync(join(tmpdir(), 'empty-path-')) } });
    const template = JSON.parse(readFileSync(join(outdir, 'Consumer.template.json'), 'utf8')) as CfnTemplate;
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toEqual(expect.arrayContaining(['AWS::KMS::Key', 'Custom::ImportedKmsKeyMaterial', 'AWS::KMS::Alias']));
    const bundle = readFileSync(join(clean, 'assets', 'import-handler', 'index.js'));
    const shipped = readdirSync(outdir).filter((f) => f.startsWith('asset.') && existsSync(join(outdir, f, 'index.js')))
      .filter((f) => readFileSync(join(outdir, f, 'index.js')).equals(bundle));
    expect(shipped).toHaveLength(1);
  }, 180_000);
});
