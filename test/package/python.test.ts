// The library as a Python user gets it: jsii-pacmak generates the Python package, which is built into
// a wheel (with the build requirements pacmak pins, cached in .cache/python-app/build, as `npm run
// package` builds it in a fresh virtualenv) and installed into a virtualenv with aws-cdk-lib from
// PyPI (scripts/install-python-app-env.sh); a small Python CDK app (test/package/python-app/app.py) synthesizes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CfnResources, CfnTemplate } from '../../tools/template';

const root = resolve(__dirname, '..', '..');
const venv = join(root, '.cache', 'python-app', 'venv');
const buildEnv = join(root, '.cache', 'python-app', 'build');
const jsiiEnv = { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20', JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1' };

const WHEEL_BUNDLE = `
import io, sys, tarfile, zipfile
wheel = zipfile.ZipFile(sys.argv[1])
[name] = [n for n in wheel.namelist() if n.startswith('imported_kms_key/_jsii/') and n.endswith('.jsii.tgz')]
with tarfile.open(fileobj=io.BytesIO(wheel.read(name))) as tgz:
    sys.stdout.buffer.write(tgz.extractfile('package/assets/import-handler/index.js').read())
`;


let wheelBundle: Buffer;
let outdir: string;
let resources: CfnResources;
// KMS takes a ValidTo at most 365 days ahead: 180 days from now, in whole seconds.
const validTo = new Date(Math.floor(Date.now() / 1000) * 1000 + 180 * 86_400_000).toISOString().replace('.000Z', 'Z');

beforeAll(() => {
  if (!existsSync(join(venv, 'bin', 'python'))) throw new Error(`${venv} is missing: run scripts/install-python-app-env.sh (npm test does)`);
  const packDir = mkdtempSync(join(tmpdir(), 'pacmak-'));
  // npm test built the package already; packing without scripts keeps the tree's build and package.json
  // as they are while other suites read them (the npm tarball's own build is test/package/package.test.ts's).
  execFileSync('npx', ['jsii-pacmak', '--targets', 'python', '--code-only', '--no-npmignore', '--pack-command', 'npm pack --ignore-scripts', '--outdir', packDir],
    { cwd: root, env: jsiiEnv, stdio: 'inherit' });
  execFileSync(join(buildEnv, 'bin', 'python'), ['-m', 'build', '--no-isolation', '--wheel', '--outdir', join(packDir, 'wheel'), join(packDir, 'python')], { stdio: 'ignore' });
  const [wheel] = readdirSync(join(packDir, 'wheel')).filter((f) => f.endsWith('.whl')).map((f) => join(packDir, 'wheel', f));
  // The handler bundle as the wheel carries it: inside the npm tarball jsii embeds in the package.
  wheelBundle = execFileSync(join(venv, 'bin', 'python'), ['-c', WHEEL_BUNDLE, wheel]);
  execFileSync(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--no-deps', '--force-reinstall', wheel]);
  outdir = mkdtempSync(join(tmpdir(), 'python-app-'));
  execFileSync(join(venv, 'bin', 'python'), [join(root, 'test', 'package', 'python-app', 'app.py'), outdir, validTo], { env: jsiiEnv, stdio: 'inherit' });
  resources = (JSON.parse(readFileSync(join(outdir, 'PythonConsumer.template.json'), 'utf8')) as CfnTemplate).Resources;
}, 300_000);

const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

test('the wheel carries the handler bundle', () => {
  expect(wheelBundle.equals(readFileSync(join(root, 'assets', 'import-handler', 'index.js')))).toBe(true);
});

test('the Python app gets an EXTERNAL key, an import custom resource without material, an alias and a grant', () => {
  const [key] = ofType('AWS::KMS::Key');
  expect(key.Properties).toMatchObject({ Origin: 'EXTERNAL' });
  const [imp] = ofType('Custom::ImportedKmsKeyMaterial');
  expect(imp.Properties).toMatchObject({ ValidTo: validTo });
  expect(imp.Properties.SecretId).toBeDefined();
  // The material itself never reaches the template: only references to where it is.
  expect(Object.keys(imp.Properties)).not.toEqual(expect.arrayContaining(['Material', 'KeyMaterial', 'SecretString']));
  expect(ofType('AWS::KMS::Alias').map((r) => r.Properties.AliasName)).toEqual(['alias/payments']);
  const grants = ofType('AWS::IAM::Policy').filter((p) => JSON.stringify(p.Properties).includes('kms:Encrypt'));
  expect(grants).toHaveLength(1);
  expect(JSON.stringify(grants[0].Properties)).toContain('kms:Decrypt');
});

test('the handler asset the Python app synthesizes is the pre-built bundle, byte for byte', () => {
  const bundle = readFileSync(join(root, 'assets', 'import-handler', 'index.js'));
  const shipped = readdirSync(outdir).filter((f) => f.startsWith('asset.') && existsSync(join(outdir, f, 'index.js')))
    .filter((f) => readFileSync(join(outdir, f, 'index.js')).equals(bundle));
  expect(shipped).toHaveLength(1);
});
