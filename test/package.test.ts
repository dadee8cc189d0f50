import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..');

test('npm pack ships the compiled library and the pre-built handler bundle', () => {
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }));
  const files = pack.files.map((f: { path: string }) => f.path);
  expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'assets/import-handler/index.js']));
  expect(files.filter((f: string) => /^(lambda|test|example)\//.test(f))).toEqual([]);
});

test('a consumer synthesizes from the built package without esbuild or Docker', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'consumer-'));
  const script = `
    const Module = require('node:module');
    const load = Module._load;
    Module._load = function (request, ...rest) {
      if (/^esbuild($|\\/)/.test(request)) throw new Error('consumer synth loaded ' + request);
      return load.call(this, request, ...rest);
    };
    const { App, Stack } = require('aws-cdk-lib');
    const sm = require('aws-cdk-lib/aws-secretsmanager');
    const { ImportedKmsKey, KeyMaterial } = require(${JSON.stringify(join(root, 'dist', 'index.js'))});
    const app = new App({ outdir: ${JSON.stringify(outdir)} });
    const stack = new Stack(app, 'Consumer');
    new ImportedKmsKey(stack, 'Key', { keyMaterial: KeyMaterial.fromSecret(sm.Secret.fromSecretNameV2(stack, 'S', 'material')) });
    app.synth();
  `;
  // No esbuild module may load, and no docker (or any other) executable is on PATH.
  execFileSync(process.execPath, ['-e', script], { cwd: root, env: { ...process.env, PATH: mkdtempSync(join(tmpdir(), 'empty-path-')) } });
  const bundle = readFileSync(join(root, 'assets', 'import-handler', 'index.js'));
  const shipped = readdirSync(outdir).filter((f) => f.startsWith('asset.') && existsSync(join(outdir, f, 'index.js')))
    .filter((f) => readFileSync(join(outdir, f, 'index.js')).equals(bundle));
  expect(shipped).toHaveLength(1);
});
