/**
 * The key-side material lock (materialLock), evaluated as IAM would (test/support/policy-simulator.ts):
 * only the import handler and break-glass principals may fetch, import, delete or rotate material;
 * an administrator with kms:* on * may not; the deploy role and the root user can still change the
 * key policy. For ImportedKmsKey and ImportedKmsReplicaKey.
 */
import { App, LegacyStackSynthesizer, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ImportedKmsKey, ImportedKmsReplicaKey, KeyMaterial } from '../../lib';
import { ACCOUNT, decide, REGION, resolvePolicy, roleArn } from '../support/policy-simulator';
import { importedKey, materialSecret, newStack } from '../support/stacks';
import { resourcesOf } from '../../tools/template';

const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const DEPLOY_ROLE = `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`;
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/platform-admin`;
const KEY_ADMIN = `arn:aws:iam::${ACCOUNT}:role/kms-admin`;
const BREAK_GLASS = `arn:aws:iam::${ACCOUNT}:role/security/break-glass-alice`;
const lock = { breakGlassPrincipalArns: [`arn:aws:iam::${ACCOUNT}:role/security/break-glass-*`], policyAdministratorArns: [KEY_ADMIN] };
/** What an account administrator's identity policy typically allows. */
const everything = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }];

/** Each material action with the request context the handler sends it with. */
const MATERIAL_REQUESTS: Array<[string, Record<string, string>]> = [
  ['kms:GetParametersForImport', { 'kms:WrappingKeySpec': 'RSA_4096', 'kms:WrappingAlgorithm': 'RSAES_OAEP_SHA_256' }],
  ['kms:ImportKeyMaterial', { 'kms:ExpirationModel': 'KEY_MATERIAL_DOES_NOT_EXPIRE' }],
  ['kms:DeleteImportedKeyMaterial', {}],
  ['kms:RotateKeyOnDemand', {}],
];

function keyPolicyOf(stack: Stack, type: string) {
  const resources = resourcesOf(Template.fromStack(stack));
  const handlerRole = Object.keys(resources).find((id) => id.startsWith('ImportedKmsKeyProviderHandlerRole'))!;
  const key = Object.values(resources).find((r) => r.Type === type)!;
  return { policy: resolvePolicy(key.Properties.KeyPolicy), handler: roleArn(handlerRole) };
}

function lockedKey() {
  const stack = newStack();
  importedKey(stack, 'Key', {
    materialLock: lock, shredMaterialOnRemoval: true, removalPolicy: RemovalPolicy.DESTROY,
    previousKeyMaterials: [KeyMaterial.fromSecret(materialSecret(stack, 'old'))],
  });
  return keyPolicyOf(stack, 'AWS::KMS::Key');
}

function lockedReplica() {
  const app = new App();
  const primaryStack = new Stack(app, 'Primary', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const primary = new ImportedKmsKey(primaryStack, 'Key', { keyMaterial: KeyMaterial.fromSecret(materialSecret(primaryStack)), multiRegion: true });
  const replicaStack = new Stack(app, 'Replica', { env: { account: ACCOUNT, region: REGION }, crossRegionReferences: true });
  new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary, materialLock: lock, shredMaterialOnRemoval: true, removalPolicy: RemovalPolicy.DESTROY });
  return keyPolicyOf(replicaStack, 'AWS::KMS::ReplicaKey');
}

describe.each([['ImportedKmsKey', lockedKey], ['ImportedKmsReplicaKey', lockedReplica]])('a locked %s', (name, build) => {
  const { policy, handler } = build();
  const ask = (principal: string, action: string, context: Record<string, string> = {}, identityPolicies: unknown[] = everything) =>
    decide(policy, { principal, action, resource: KEY, context, identityPolicies });

  test.each(MATERIAL_REQUESTS)('%s: an administrator with kms:* is denied; break-glass is allowed', async (action, context) => {
    expect(await ask(ADMIN, action, context)).toBe('ExplicitlyDenied');
    expect(await ask(ROOT, action, context)).toBe('ExplicitlyDenied');
    expect(await ask(DEPLOY_ROLE, action, context)).toBe('ExplicitlyDenied');
    expect(await ask(BREAK_GLASS, action, context)).toBe('Allowed');
  });

  test('the handler keeps what its statements allow, and the lock denies it nothing', async () => {
    // A replica does not rotate on demand (its primary does), so it gets no rotate statement.
    const replica = name === 'ImportedKmsReplicaKey';
    for (const [action, context] of MATERIAL_REQUESTS) {
      const expected = replica && action === 'kms:RotateKeyOnDemand' ? 'ImplicitlyDenied' : 'Allowed';
      expect([action, await ask(handler, action, context, [])]).toEqual([action, expected]);
    }
  });

  test('the deploy role, the root user and the named administrators may still change the key policy; others may not', async () => {
    for (const principal of [DEPLOY_ROLE, ROOT, KEY_ADMIN]) expect([principal, await ask(principal, 'kms:PutKeyPolicy')]).toEqual([principal, 'Allowed']);
    expect(await ask(ADMIN, 'kms:PutKeyPolicy')).toBe('ExplicitlyDenied');
    expect(await ask(BREAK_GLASS, 'kms:PutKeyPolicy')).toBe('ExplicitlyDenied');
  });

  test('everything else stays as it was: the administrator may still use and describe the key', async () => {
    expect(await ask(ADMIN, 'kms:Decrypt')).toBe('Allowed');
    expect(await ask(ADMIN, 'kms:DescribeKey')).toBe('Allowed');
  });
});

test('without the lock, an administrator with kms:* may import into the key', async () => {
  const stack = newStack();
  importedKey(stack, 'Key');
  const { policy } = keyPolicyOf(stack, 'AWS::KMS::Key');
  expect(await decide(policy, { principal: ADMIN, action: 'kms:ImportKeyMaterial', resource: KEY, identityPolicies: everything })).toBe('Allowed');
});

test('a stack without the default synthesizer is warned to name its deploy role; only root may then change the key policy', async () => {
  const stack = new Stack(new App(), 'Legacy', { env: { account: ACCOUNT, region: REGION }, synthesizer: new LegacyStackSynthesizer() });
  importedKey(stack, 'Key', { materialLock: {} });
  const [warning] = Annotations.fromStack(stack).findWarning('/Legacy/Key', Match.anyValue());
  expect(warning.entry.data).toBe('The stack does not use the default synthesizer, so its CloudFormation execution role is unknown: name the role that deploys '
    + 'this stack in materialLock.policyAdministratorArns, or later updates cannot change the key policy. [ack: imported-kms-key:key-lock-deploy-role]');
  const { policy } = keyPolicyOf(stack, 'AWS::KMS::Key');
  expect(await decide(policy, { principal: DEPLOY_ROLE, action: 'kms:PutKeyPolicy', resource: KEY, identityPolicies: everything })).toBe('ExplicitlyDenied');
  expect(await decide(policy, { principal: ROOT, action: 'kms:PutKeyPolicy', resource: KEY, identityPolicies: everything })).toBe('Allowed');
});

test('a key policy the lock would push over KMS\'s 32 KB limit fails synth, naming the fix', () => {
  const stack = newStack();
  const many = Array.from({ length: 400 }, (_, i) => `arn:aws:iam::${ACCOUNT}:role/break-glass/a-rather-long-role-name-number-${i}`);
  importedKey(stack, 'Key', { materialLock: { breakGlassPrincipalArns: many } });
  expect(() => Template.fromStack(stack)).toThrow(/the key policy with the material lock may take up to \d+ characters, over KMS's limit of 32768; name fewer break-glass principals/);
});
