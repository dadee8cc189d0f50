// jsii-pacmak writes the Go module's requirements from the versions installed in node_modules (the
// devDependencies), not from the peer ranges, so a Go user would be forced onto the newest aws-cdk-lib.
// This pins each requirement on a peer dependency's Go module to the peer range's floor, and drops the
// indirect requirements pacmak copied from that installation (go mod tidy in the user's module finds
// them from the direct ones). Usage: node scripts/pin-go-module.mjs <dir holding go.mod>
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const GO_MODULES = { 'aws-cdk-lib': 'github.com/aws/aws-cdk-go/awscdk/v2', constructs: 'github.com/aws/constructs-go/constructs/v10' };
const { peerDependencies } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const file = join(process.argv[2], 'go.mod');
let mod = readFileSync(file, 'utf8').split('\n').filter((line) => !line.endsWith('// indirect')).join('\n');
for (const [name, module] of Object.entries(GO_MODULES)) {
  const floor = /^\^(\d+\.\d+\.\d+)$/.exec(peerDependencies[name])?.[1];
  const pattern = new RegExp(`^(\\s*${module.replace(/\./g, '\\.')}) v\\S+$`, 'm');
  if (!floor || !pattern.test(mod)) throw new Error(`pin-go-module: ${file} has no requirement on ${module}, or package.json's ${name} peer range is not ^x.y.z; check jsii-pacmak's Go output.`);
  mod = mod.replace(pattern, `$1 v${floor}`);
}
writeFileSync(file, mod);
