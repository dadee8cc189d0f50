// API.md is generated from the jsii assembly (.jsii, which `npm test` rebuilds first) by jsii-docgen,
// the way Construct Hub renders the API. A changed public API or doc comment must come with a
// regenerated API.md: `npm run docgen`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

test('API.md is what jsii-docgen generates from the current assembly', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'docgen-')), 'API.md');
  execFileSync('npx', ['jsii-docgen', '--output', out], { cwd: root, stdio: 'pipe' });
  const fresh = readFileSync(out, 'utf8');
  const committed = readFileSync(join(root, 'API.md'), 'utf8');
  if (fresh !== committed) throw new Error('API.md is stale: run `npm run docgen` and commit API.md');
  expect(committed).toContain('### ImportedKmsKey');
}, 120_000);
