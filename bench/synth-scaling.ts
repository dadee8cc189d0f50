/**
 * 2. Synth scaling: stacks of N ImportedKmsKeys versus N plain kms.Keys, synthesized in this
 * process; time and template bytes as ratios, plus the deployability limits at the largest N.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ImportedKmsKey, KeyMaterial } from '../lib';
import { iamPolicySize } from '../tools/iam-size';
import { CfnTemplate } from '../tools/template';
import { median, round, timeMs } from './stats';

const SIZES = [1, 10, 100, 200];
const REPEATS = 5;

type Build = (stack: Stack, i: number) => void;
const imported: Build = (stack, i) => new ImportedKmsKey(stack, `Key${i}`, {
  keyMaterial: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretNameV2(stack, `Secret${i}`, `material/key-${i}`)),
});
const plain: Build = (stack, i) => new kms.Key(stack, `Key${i}`);

async function synth(n: number, build: Build): Promise<{ ms: number; template: CfnTemplate; bytes: number }> {
  const outdir = mkdtempSync(join(tmpdir(), 'bench-synth-'));
  let file = '';
  const ms = await timeMs(() => {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bench', { env: { account: '111122223333', region: 'eu-west-1' } });
    for (let i = 0; i < n; i++) build(stack, i);
    app.synth();
    file = join(outdir, stack.templateFile);
  });
  const text = readFileSync(file, 'utf8');
  rmSync(outdir, { recursive: true, force: true });
  return { ms, template: JSON.parse(text) as CfnTemplate, bytes: Buffer.byteLength(text) };
}

export async function benchSynthScaling() {
  const rows = [];
  let limits = {};
  for (const n of SIZES) {
    const ours: number[] = [];
    const theirs: number[] = [];
    let last = { ours: await synth(n, imported), theirs: await synth(n, plain) }; // warm-up
    for (let r = 0; r < REPEATS; r++) {
      last = { ours: await synth(n, imported), theirs: await synth(n, plain) };
      ours.push(last.ours.ms);
      theirs.push(last.theirs.ms);
    }
    const resources = Object.values(last.ours.template.Resources);
    rows.push({
      keys: n,
      importedSynthMs: round(median(ours)),
      plainSynthMs: round(median(theirs)),
      synthTimeRatio: round(median(ours) / median(theirs)),
      importedTemplateBytes: last.ours.bytes,
      plainTemplateBytes: last.theirs.bytes,
      templateBytesRatio: round(last.ours.bytes / last.theirs.bytes),
      lambdaFunctions: resources.filter((r) => r.Type === 'AWS::Lambda::Function').length,
      resources: resources.length,
    });
    if (n === SIZES[SIZES.length - 1]) {
      const sizes = (type: string, prop: string) => resources.filter((r) => r.Type === type).map((r) => iamPolicySize(r.Properties[prop]));
      limits = {
        keys: n,
        resources: resources.length,
        resourceLimit: 500,
        managedPolicies: sizes('AWS::IAM::ManagedPolicy', 'PolicyDocument').length,
        largestManagedPolicyChars: Math.max(...sizes('AWS::IAM::ManagedPolicy', 'PolicyDocument')),
        managedPolicyLimit: 6144,
        largestInlinePolicyChars: Math.max(...sizes('AWS::IAM::Policy', 'PolicyDocument')),
        roleInlineLimit: 10240,
        largestKeyPolicyChars: Math.max(...sizes('AWS::KMS::Key', 'KeyPolicy')),
        keyPolicyLimit: 32768,
      };
    }
  }
  return { synth: rows, targets: 'at N=100: synth time ratio <= 2.0, template bytes ratio <= 2.0; Lambda count independent of N', limitsAtLargestN: limits };
}
