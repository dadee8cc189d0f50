// What the Go and Java app tests share to cache jsii-pacmak's output and the apps built on it: a
// content hash, the files pacmak reads, and the environment that silences jsii's Node warnings.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

export const jsiiEnv = { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20', JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1' };

/** A hash of every file at or under each of `paths`, by path (relative to the repository) and content. */
export function contentHash(...paths: string[]): string {
  const hash = createHash('sha256');
  const walk = (path: string): void => {
    if (!statSync(path).isDirectory()) return void hash.update(`${relative(root, path)}\0`).update(readFileSync(path)).update('\0');
    for (const name of readdirSync(path).sort()) walk(join(path, name));
  };
  for (const path of paths) walk(path);
  return hash.digest('hex').slice(0, 16);
}

/** What jsii-pacmak generates a language's package from: the assembly and what the npm tarball it embeds ships. */
export const PACMAK_INPUTS = ['.jsii', 'package.json', 'build', 'assets', 'README.md', 'LICENSE', 'CHANGELOG.md', 'docs'].map((f) => join(root, f));
