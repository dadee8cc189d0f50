// The library as a .NET user gets it: jsii-pacmak generates the C# project (`--code-only`: compiling
// it needs a .NET SDK, which this machine kind cannot install). The generated project is checked here:
// it requires the peer ranges' floors, embeds the npm tarball with the handler bundle, and has a class
// for each construct. Where `dotnet` is on PATH, it is also built. Cached in .cache/dotnet-package,
// keyed on what pacmak reads.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { contentHash, jsiiEnv, PACMAK_INPUTS } from './pacmak-cache';

const root = resolve(__dirname, '..', '..');
const cache = join(root, '.cache', 'dotnet-package');
const hasDotnet = spawnSync('dotnet', ['--version'], { stdio: 'ignore' }).status === 0;
let project: string;

beforeAll(() => {
  const generated = join(cache, contentHash(...PACMAK_INPUTS));
  if (!existsSync(generated)) {
    const packDir = mkdtempSync(join(tmpdir(), 'pacmak-dotnet-'));
    // npm test built the package already; packing without scripts keeps the tree's build as it is.
    execFileSync('npx', ['jsii-pacmak', '--targets', 'dotnet', '--code-only', '--no-npmignore', '--pack-command', 'npm pack --ignore-scripts', '--outdir', packDir],
      { cwd: root, env: jsiiEnv, stdio: 'inherit' });
    rmSync(cache, { recursive: true, force: true });
    cpSync(join(packDir, 'dotnet', 'ImportedKmsKey'), generated, { recursive: true });
  }
  project = generated;
}, 600_000);

test('the generated C# project requires the peer ranges\' floors of aws-cdk-lib and constructs', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
  const floor = (name: string) => pkg.peerDependencies[name].replace('^', '');
  const csproj = readFileSync(join(project, 'ImportedKmsKey.csproj'), 'utf8');
  expect(csproj).toContain(`<PackageReference Include="Amazon.CDK.Lib" Version="[${floor('aws-cdk-lib')},3.0.0)" />`);
  expect(csproj).toContain(`<PackageReference Include="Constructs" Version="[${floor('constructs')},11.0.0)" />`);
});

test('the C# project embeds the npm tarball, which carries the handler bundle, and has a class per construct', () => {
  const [tarball] = readdirSync(project).filter((f) => f.endsWith('.tgz'));
  expect(readFileSync(join(project, 'ImportedKmsKey.csproj'), 'utf8')).toContain(`<EmbeddedResource Include="${tarball}" />`);
  const bundle = execFileSync('tar', ['xzf', join(project, tarball), '-O', 'package/assets/import-handler/index.js']);
  expect(bundle.equals(readFileSync(join(root, 'assets', 'import-handler', 'index.js')))).toBe(true);
  for (const construct of ['ImportedKmsKey', 'ImportedKmsReplicaKey', 'ImportedKeyMaterial', 'KeyMaterial', 'KeyMaterialExpiration']) {
    expect(readFileSync(join(project, 'ImportedKmsKey', `${construct}.cs`), 'utf8')).toContain(`public class ${construct}`);
  }
});

// No .NET SDK on this machine kind (Debian has none; NuGet is not a registry here): skipped, and
// reported as skipped, unless `dotnet` is on PATH.
(hasDotnet ? test : test.skip)('the C# project compiles (dotnet build)', () => {
  const work = mkdtempSync(join(tmpdir(), 'dotnet-build-'));
  cpSync(project, work, { recursive: true });
  execFileSync('dotnet', ['build', '--nologo'], { cwd: work, stdio: 'inherit' });
}, 600_000);
