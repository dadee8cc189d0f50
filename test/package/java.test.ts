// The library as a Java user gets it: jsii-pacmak builds the Maven package (as `npm run package` does:
// it resolves the pom's aws-cdk-lib range with Maven, compiles, and writes a Maven repository), the
// test installs its jar and pom into the local Maven repository, and a small Java CDK app
// (test/package/java-app, aws-cdk-lib from Maven Central at the peer range's floor) compiles against it
// and synthesizes. Cached in .cache/java-app: the built package (keyed on the assembly and what the npm
// tarball ships) and the compiled app with its classpath (keyed on the package and the app), so a rerun
// with an unchanged library only synthesizes. Downloads stay in the user's Maven repository (~/.m2).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { contentHash, jsiiEnv, PACMAK_INPUTS } from './pacmak-cache';
import { testSynthesizedApp, validTo } from './synthesized-app';

const root = resolve(__dirname, '..', '..');
const appDir = join(root, 'test', 'package', 'java-app');
const cache = join(root, '.cache', 'java-app');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const GROUP = 'io.github.imported-kms-key';
const mvn = (cwd: string, ...args: string[]) => execFileSync('mvn', ['--batch-mode', '--quiet', ...args], { cwd, stdio: ['ignore', 'inherit', 'inherit'] });

let pom: string;
let jarBundle: Buffer;
let classpath: string[];
let outdir: string;

beforeAll(() => {
  // jsii-pacmak's Java build takes over a minute: cached, keyed on its inputs.
  const packaged = join(cache, 'package', contentHash(...PACMAK_INPUTS));
  if (!existsSync(packaged)) {
    const packDir = mkdtempSync(join(tmpdir(), 'pacmak-java-'));
    // npm test built the package already; packing without scripts keeps the tree's build as it is.
    execFileSync('npx', ['jsii-pacmak', '--targets', 'java', '--no-npmignore', '--pack-command', 'npm pack --ignore-scripts', '--outdir', packDir],
      { cwd: root, env: jsiiEnv, stdio: 'inherit' });
    rmSync(join(cache, 'package'), { recursive: true, force: true });
    mkdirSync(join(cache, 'package'), { recursive: true });
    cpSync(join(packDir, 'java', ...GROUP.split('.'), 'imported-kms-key', version), packaged, { recursive: true });
  }
  const jar = join(packaged, `imported-kms-key-${version}.jar`);
  pom = readFileSync(join(packaged, `imported-kms-key-${version}.pom`), 'utf8');
  // The handler bundle as the jar carries it: inside the npm tarball jsii embeds in the package.
  const tarball = execFileSync('unzip', ['-p', jar, `io/github/importedkmskey/imported-kms-key@${version}.jsii.tgz`], { maxBuffer: 64 << 20 });
  jarBundle = execFileSync('tar', ['xzf', '-', '-O', 'package/assets/import-handler/index.js'], { input: tarball, maxBuffer: 64 << 20 });

  const built = join(cache, 'app', contentHash(packaged, appDir));
  if (!existsSync(join(built, 'classpath.txt'))) {
    rmSync(join(cache, 'app'), { recursive: true, force: true });
    const work = `${built}.tmp`;
    cpSync(appDir, work, { recursive: true });
    // The user's local repository is shared (other checkouts install the same version): install just before use.
    mvn(work, 'org.apache.maven.plugins:maven-install-plugin:3.1.1:install-file', `-Dfile=${jar}`, `-DpomFile=${join(packaged, `imported-kms-key-${version}.pom`)}`);
    // The classpath names the cached jar, not the local repository's copy, so the cached app keeps the library it was built with.
    mvn(work, `-Dimported-kms-key.version=${version}`, 'compile', 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:build-classpath',
      `-DexcludeGroupIds=${GROUP}`, '-Dmdep.outputFile=dependencies.txt');
    const dependencies = readFileSync(join(work, 'dependencies.txt'), 'utf8').trim().split(delimiter);
    writeFileSync(join(work, 'classpath.txt'), [join(built, 'target', 'classes'), jar, ...dependencies].join('\n'));
    renameSync(work, built);
  }
  classpath = readFileSync(join(built, 'classpath.txt'), 'utf8').split('\n');
  outdir = mkdtempSync(join(tmpdir(), 'java-app-'));
  execFileSync('java', ['-cp', classpath.join(delimiter), 'consumer.ConsumerApp', outdir, validTo], { env: jsiiEnv, stdio: ['ignore', 'inherit', 'inherit'] });
}, 600_000);

test('the Java app runs on the peer range\'s floor of aws-cdk-lib, whatever version the built pom names', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
  const floor = pkg.peerDependencies['aws-cdk-lib'].replace('^', '');
  // jsii-pacmak resolves the pom's range to the newest aws-cdk-lib the repository serves; the app's own version wins.
  expect(pom).toMatch(/<artifactId>aws-cdk-lib<\/artifactId>\s*<version>2\.\d+\.\d+<\/version>/);
  const cdkJars = classpath.filter((entry) => /[\\/]aws-cdk-lib-[^\\/]+\.jar$/.test(entry)).map((entry) => entry.replace(/^.*[\\/]/, ''));
  expect(cdkJars).toEqual([`aws-cdk-lib-${floor}.jar`]);
});

test('the Java package carries the handler bundle', () => {
  expect(jarBundle.equals(readFileSync(join(root, 'assets', 'import-handler', 'index.js')))).toBe(true);
});

testSynthesizedApp('Java', 'JavaConsumer', () => ({ outdir }));
