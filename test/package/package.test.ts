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

/**
 * What a consumer on each band of the peer range gets from the construct's cdk-nag acknowledgements
 * (lib/private/nag-acknowledgement.ts): nothing where aws-cdk-lib has no `Validations.acknowledge`
 * (before 2.252), the acknowledgements recorded and honoured by cdk-nag 3 (which needs 2.257) where
 * acknowledge refuses `::` in an id (2.252 to 2.268), and each finding reported as acknowledged under
 * cdk-nag's AwsSolutions pack from 2.269.
 */
type Acknowledged = 'not-recorded' | 'by-hand' | 'recorded' | 'reported';
interface Consumer { 'aws-cdk-lib': string; constructs: string; 'cdk-nag'?: string; acknowledged: Acknowledged }
const NAG = pkg.devDependencies['cdk-nag'];
/** The peer range's floor (what a user on the oldest supported versions has). */
const FLOOR: Consumer = { 'aws-cdk-lib': '2.237.0', constructs: '10.0.0', acknowledged: 'not-recorded' };
const CONSUMERS: Array<[string, Consumer]> = [
  ['the floor, before Validations', FLOOR],
  // With cdk-nag 2 (Aspects), a user suppresses the two findings by hand, as README's Install section shows.
  ['the floor, with cdk-nag 2 and README\'s suppressions', { 'aws-cdk-lib': '2.237.0', constructs: '10.5.1', 'cdk-nag': '2.38.2', acknowledged: 'by-hand' }],
  ['Validations without acknowledge', { 'aws-cdk-lib': '2.251.0', constructs: '10.5.0', acknowledged: 'not-recorded' }],
  ['acknowledge refusing :: in an id', { 'aws-cdk-lib': '2.263.0', constructs: '10.5.1', 'cdk-nag': NAG, acknowledged: 'recorded' }],
  ['the first with full acknowledgement ids', { 'aws-cdk-lib': '2.269.0', constructs: '10.5.1', 'cdk-nag': NAG, acknowledged: 'reported' }],
  ['the newest, which the repo develops against', { 'aws-cdk-lib': pkg.devDependencies['aws-cdk-lib'], constructs: pkg.devDependencies.constructs, 'cdk-nag': NAG, acknowledged: 'reported' }],
];
/** What the construct acknowledges in the consumer app, as cdk-nag names each finding. */
const IAM5 = 'AwsSolutions-IAM5[Resource::<ImportedKmsKeyProviderHandler08174DFE.Arn>:*]';
const KMS5 = 'AwsSolutions-KMS5';

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

test('the peer ranges start at the floor the consumer test below installs, and the engines at the Node this suite runs on', () => {
  expect(pkg.peerDependencies).toEqual({ 'aws-cdk-lib': `^${FLOOR['aws-cdk-lib']}`, constructs: `^${FLOOR.constructs}` });
  // The oldest Node the package claims is the one every consumer below runs on (process.execPath).
  const engines = (pkg as PackageJson & { engines: { node: string } }).engines.node;
  expect(engines).toBe(`>= ${process.versions.node.split('.')[0]}`);
});

/** Runs in the consumer project: synthesizes one key (alias, grant), with cdk-nag's AwsSolutions pack where installed (a plugin in cdk-nag 3, an aspect in 2); prints what cdk-nag found. */
const consumerApp = (outdir: string, nag: 'plugin' | 'by-hand' | false) => `
  const Module = require('node:module');
  const load = Module._load;
  Module._load = function (request, ...rest) {
    if (/^esbuild($|\\/)/.test(request)) throw new Error('consumer synth loaded ' + request);
    return load.call(this, request, ...rest);
  };
  const fs = require('node:fs');
  const cdk = require('aws-cdk-lib');
  const sm = require('aws-cdk-lib/aws-secretsmanager');
  const iam = require('aws-cdk-lib/aws-iam');
  const { ImportedKmsKey, KeyMaterial, KeyMaterialExpiration } = require('imported-kms-key');
  const outdir = ${JSON.stringify(outdir)};
  const app = new cdk.App({ outdir });
  const stack = new cdk.Stack(app, 'Consumer');
  const key = new ImportedKmsKey(stack, 'Key', {
    keyMaterial: KeyMaterial.fromSecret(sm.Secret.fromSecretNameV2(stack, 'S', 'material')),
    expiration: KeyMaterialExpiration.at(new Date(Date.now() + 30 * 86400000)),
    alias: 'alias/consumer',
  });
  key.grantDecrypt(new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
  const nag = ${JSON.stringify(nag)};
  if (nag === 'by-hand') {
    const { AwsSolutionsChecks, NagSuppressions } = require('cdk-nag');
    cdk.Aspects.of(app).add(new AwsSolutionsChecks());
    // README's Install section, verbatim.
    NagSuppressions.addResourceSuppressions(key, [{ id: 'AwsSolutions-KMS5', reason: 'Imported material cannot rotate automatically.' }], true);
    NagSuppressions.addResourceSuppressionsByPath(stack, \`/\${stack.stackName}/ImportedKmsKeyProvider/FrameworkRole/DefaultPolicy/Resource\`,
      [{ id: 'AwsSolutions-IAM5', reason: 'The provider framework invokes the import handler, any version.', appliesTo: [{ regex: '/^Resource::<ImportedKmsKeyProvider.*\\\\.Arn>:\\\\*$/' }] }]);
    NagSuppressions.addResourceSuppressionsByPath(stack, \`/\${stack.stackName}/ImportedKmsKeyProvider/Provider/framework-onEvent/Resource\`,
      [{ id: 'AwsSolutions-L1', reason: 'aws-cdk-lib chooses the runtime of its provider framework function.' }]);
  } else if (nag) cdk.Validations.of(app).addPlugins(new (require('cdk-nag').AwsSolutionsChecks)(app));
  let failure, assembly;
  try { assembly = app.synth(); } catch (error) { failure = error.message; }
  const errors = assembly ? assembly.getStackByName('Consumer').messages.filter((m) => m.level === 'error').map((m) => String(m.entry.data)) : [];
  const recorded = {};
  for (const c of app.node.findAll()) for (const m of c.node.metadata) if (m.type === 'aws:cdk:acknowledged-rules') Object.assign(recorded, m.data);
  const report = nag === 'plugin' ? JSON.parse(fs.readFileSync(outdir + '/validation-report.json', 'utf8')).pluginReports.find((r) => r.pluginName === 'AwsSolutions') : undefined;
  console.log(JSON.stringify({
    failure, recorded,
    open: report ? report.violations.map((v) => v.ruleName) : errors,
    reported: report ? (report.suppressedViolations || []).map((v) => v.ruleName).sort() : [],
  }));
`;
interface ConsumerResult { failure?: string; recorded: Record<string, string>; open: string[]; reported: string[] }

describe.each(CONSUMERS)('a consumer on aws-cdk-lib %s', (_, consumer) => {
  const { acknowledged, ...versions } = consumer;
  test(`installs the packed tarball with ${Object.entries(versions).map(([n, v]) => `${n} ${v}`).join(', ')}, synthesizes without esbuild or Docker, and gets the acknowledgements ${acknowledged}`, () => {
    // The consumer project lives in .cache, keyed on its versions, so a rerun finds aws-cdk-lib installed
    // and npm only replaces this library (from this run's tarball).
    const consumerDir = join(root, '.cache', 'consumers', Object.entries(versions).map(([n, v]) => `${n}-${v}`).join('-'));
    mkdirSync(consumerDir, { recursive: true });
    writeFileSync(join(consumerDir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: versions }));
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-save', tarball], { cwd: consumerDir, encoding: 'utf8' });
    expect(install.status).toBe(0);
    // Nothing of this package asks to run at install (npm warns about install scripts it has not been allowed to run).
    expect(`${install.stdout}${install.stderr}`).not.toMatch(/imported-kms-key@[^\n]*\((prepare|install|postinstall|preinstall)/);
    const installed = Object.fromEntries(Object.keys(versions).map((name) => [name, readPackageJson(join(consumerDir, 'node_modules', name)).version]));
    expect(installed).toEqual(versions);

    const outdir = mkdtempSync(join(tmpdir(), 'consumer-out-'));
    // No esbuild module may load, and no docker (or any other) executable is on PATH.
    const result = JSON.parse(execFileSync(process.execPath, ['-e', consumerApp(outdir, acknowledged === 'by-hand' ? 'by-hand' : versions['cdk-nag'] !== undefined && 'plugin')],
      { cwd: consumerDir, encoding: 'utf8', env: { ...process.env, PATH: mkdtempSync(join(tmpdir(), 'empty-path-')) } })) as ConsumerResult;
    expect(result.failure).toBeUndefined();
    expect(result.open).toEqual([]);
    const ids = Object.keys(result.recorded).sort();
    if (acknowledged === 'not-recorded' || acknowledged === 'by-hand') expect(ids).toEqual([]);
    // aws-cdk-lib records each acknowledgement, with its reason, as construct metadata cdk-nag reads.
    else expect(ids).toEqual(acknowledged === 'recorded' ? [IAM5, `AwsSolutions::${KMS5}`] : [`AwsSolutions::${IAM5}`, `AwsSolutions::${KMS5}`]);
    for (const reason of Object.values(result.recorded)) expect(reason.length).toBeGreaterThan(40);
    // From 2.269 the validation report lists each one as acknowledged under the AwsSolutions pack; before,
    // it lists KMS5, and cdk-nag honours the IAM5 finding on the construct itself, so it is never open.
    expect(result.reported).toEqual({ 'not-recorded': [], 'by-hand': [], 'recorded': [KMS5], 'reported': [IAM5, KMS5] }[acknowledged]);

    const template = JSON.parse(readFileSync(join(outdir, 'Consumer.template.json'), 'utf8')) as CfnTemplate;
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toEqual(expect.arrayContaining(['AWS::KMS::Key', 'Custom::ImportedKmsKeyMaterial', 'AWS::KMS::Alias']));
    const bundle = readFileSync(join(clean, 'assets', 'import-handler', 'index.js'));
    const shipped = readdirSync(outdir).filter((f) => f.startsWith('asset.') && existsSync(join(outdir, f, 'index.js')))
      .filter((f) => readFileSync(join(outdir, f, 'index.js')).equals(bundle));
    expect(shipped).toHaveLength(1);
  }, 240_000);
});
