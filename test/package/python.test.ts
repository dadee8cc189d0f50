// The library as a Python user gets it: jsii-pacmak generates the Python package, which is built into
// a wheel (with the build requirements pacmak pins, cached in .cache/python-app/build, as `npm run
// package` builds it in a fresh virtualenv) and installed into a virtualenv with aws-cdk-lib from
// PyPI (scripts/install-python-app-env.sh); a small Python CDK app (test/package/python-app/app.py) synthesizes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testSynthesizedApp, validTo } from './synthesized-app';

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
}, 300_000);

test('the wheel carries the handler bundle', () => {
  expect(wheelBundle.equals(readFileSync(join(root, 'assets', 'import-handler', 'index.js')))).toBe(true);
});

testSynthesizedApp('Python', 'PythonConsumer', () => ({ outdir }));
