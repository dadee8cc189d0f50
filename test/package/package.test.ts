import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CfnTemplate } from '../support/template';

const root = resolve(__dirname, '..', '..');
interface PackageJson { version: string; devDependencies: Record<string, string>; peerDependencies: Record<string, string> }
const readPackageJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
const pkg = readPackageJson(root);
/** What `npm pack --json` prints, one entry per package. */
type PackResult = Array<{ filename: string; files: Array<{ path: string }> }>;

/** The peer range's floor (what a user on the oldest supported versions has) and the newest, which the repo develops against. */
const OLDEST = { 'aws-cdk-lib': '2.269.0', constructs: '10.5.0' };
const NEWEST = { 'aws-cdk-lib': pkg.devDependencies['aws-cdk-lib'], constructs: pkg.devDependencies.constructs };

test('npm pack ships the jsii assembly, the compiled library, its typings and the pre-built handler bundle, and nothing else', () => {
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })) as PackResult;
  const files = pack.files.map((f) => f.path);
  expect(files).toEqual(expect.arrayContaining(['.jsii', 'build/index.js', 'build/index.d.ts', 'assets/import-handler/index.js']));
  expect(files.filter((f) => !/^(\.jsii|package\.json|README\.md|build\/[\w-]+\.(js|d\.ts)|assets\/import-handler\/index\.js)$/.test(f))).toEqual([]);
});

test('the peer ranges start at the oldest versions the consumer test below installs', () => {
  expect(pkg.peerDependencies).toEqual({ 'aws-cdk-lib': `^${OLDEST['aws-cdk-lib']}`, constructs: `^${OLDEST.constructs}` });
});

describe.each([['oldest', OLDEST], ['newest', NEWEST]])('a consumer on the %s supported aws-cdk-lib', (_, versions) => {
  test(`installs the packed tarball with aws-cdk-lib ${versions['aws-cdk-lib']} and constructs ${versions.constructs} and synthesizes without esbuild or Docker`, () => {
    // The consumer project lives in .cache, keyed on its versions, so a rerun finds aws-cdk-lib installed
    // and npm only replaces this library (from this run's tarball).
    const consumer = join(root, '.cache', 'consumers', `aws-cdk-lib-${versions['aws-cdk-lib']}-constructs-${versions.constructs}`);
    mkdirSync(consumer, { recursive: true });
    const packDir = mkdtempSync(join(tmpdir(), 'pack-'));
    const [tarball] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], { cwd: root, encoding: 'utf8' })) as PackResult;
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: versions }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--no-save',
      join(packDir, tarball.filename)], { cwd: consumer, stdio: 'pipe' });
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
    const bundle = readFileSync(join(root, 'assets', 'import-handler', 'index.js'));
    const shipped = readdirSync(outdir).filter((f) => f.startsWith('asset.') && existsSync(join(outdir, f, 'index.js')))
      .filter((f) => readFileSync(join(outdir, f, 'index.js')).equals(bundle));
    expect(shipped).toHaveLength(1);
  }, 180_000);
});
