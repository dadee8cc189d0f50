/**
 * Rotation of symmetric keys at synth time: the earlier materials in the import, the permissions a
 * rotating key gives the handler, and what the construct refuses or flags. The handler's rotation
 * paths are in test/handler/rotation.test.ts, the emulator lifecycle in test/emulator/rotation.test.ts.
 */
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { KeySpec } from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ImportedKmsKey, ImportedKmsKeyProps, KeyMaterial } from '../../lib';
import { IMPORT_RESOURCE_TYPE } from '../../lib/shared/contract';
import { decide, resolvePolicy, roleArn } from '../support/policy-simulator';
import { importedKey, materialSecret, newStack } from '../support/stacks';
import { resourcesOf } from '../../tools/template';

describe('at synth time', () => {
  const secret = (stack: Stack, name: string) => materialSecret(stack, name);
  const rotatingKey = (stack: Stack, extra: Partial<ImportedKmsKeyProps> = {}) => new ImportedKmsKey(stack, 'Key', {
    keyMaterial: KeyMaterial.fromSecret(secret(stack, 'm3')),
    previousKeyMaterials: [KeyMaterial.fromSecret(secret(stack, 'm1')), KeyMaterial.fromSecret(secret(stack, 'm2'), { versionStage: 'KEY-2' })],
    ...extra,
  });
  const resources = (stack: Stack) => resourcesOf(Template.fromStack(stack));

  test('the import lists the earlier materials oldest first, and the handler may read every secret', () => {
    const stack = newStack();
    rotatingKey(stack);
    const all = resources(stack);
    const [imported] = Object.values(all).filter((r) => r.Type === IMPORT_RESOURCE_TYPE);
    const arn = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:eu-west-1:111122223333:secret:${name}`]] });
    expect(imported.Properties.SecretId).toEqual(arn('m3'));
    expect(imported.Properties.PreviousMaterials).toEqual([{ SecretId: arn('m1') }, { SecretId: arn('m2'), VersionStage: 'KEY-2' }]);
    const readable = JSON.stringify(Object.values(all).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy').map((r) => r.Properties.PolicyDocument));
    for (const name of ['m1', 'm2', 'm3']) expect(readable).toContain(`:secret:${name}-??????`);
  });

  test('only a rotating key lets the handler rotate it and list its materials', async () => {
    const stack = newStack();
    rotatingKey(stack);
    importedKey(stack, 'Single');
    const all = resources(stack);
    const handlerRole = roleArn(Object.keys(all).find((id) => id.startsWith('ImportedKmsKeyProviderHandlerRole'))!);
    const key = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    for (const [id, expected] of [['Key', 'Allowed'], ['Single', 'ImplicitlyDenied']] as const) {
      const keyResource = Object.entries(all).find(([rid, r]) => r.Type === 'AWS::KMS::Key' && rid.startsWith(id))![1];
      const policy = resolvePolicy(keyResource.Properties.KeyPolicy);
      expect((policy as { Statement: { Sid?: string }[] }).Statement.some((s) => s.Sid === 'AllowImportedKmsKeyHandlerRotate')).toBe(expected === 'Allowed');
      for (const action of ['kms:RotateKeyOnDemand', 'kms:ListKeyRotations']) {
        expect(await decide(policy, { principal: handlerRole, action, resource: key })).toBe(expected);
      }
      expect(await decide(policy, { principal: handlerRole, action: 'kms:DeleteImportedKeyMaterial', resource: key })).toBe('ImplicitlyDenied');
    }
  });

  test('exposes the current KeyMaterialId as an attribute of the import', () => {
    const stack = newStack();
    const key = rotatingKey(stack);
    expect(stack.resolve(key.currentKeyMaterialId)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^KeyImport/), 'KeyMaterialId'] });
  });

  test('HMAC and asymmetric keys do not rotate: a synth-time error says why', () => {
    for (const keySpec of [KeySpec.HMAC_256, KeySpec.RSA_2048, KeySpec.ECC_NIST_P256]) {
      expect(() => rotatingKey(newStack(), { keySpec })).toThrow(`ImportedKmsKey TestStack/Key: previousKeyMaterials needs a SYMMETRIC_DEFAULT key; got ${keySpec}. `
        + 'KMS rotates only symmetric encryption keys: an HMAC or asymmetric key keeps its first material for life, so new material needs a new ImportedKmsKey.');
    }
  });

  test('at most 25 earlier materials (the on-demand rotation quota)', () => {
    const make = (count: number) => {
      const stack = newStack();
      return () => new ImportedKmsKey(stack, 'Key', {
        keyMaterial: KeyMaterial.fromSecret(secret(stack, 'current')),
        previousKeyMaterials: Array.from({ length: count }, (_, i) => KeyMaterial.fromSecret(secret(stack, `m${i}`))),
      });
    };
    expect(make(25)).not.toThrow();
    expect(make(26)).toThrow('ImportedKmsKey TestStack/Key: 26 previousKeyMaterials need as many rotations, and KMS allows 25 on-demand rotations per key. '
      + 'Put further material in a new ImportedKmsKey.');
  });

  test('two entries reading the same secret, field and stage are refused', () => {
    const stack = newStack();
    const shared = secret(stack, 'shared');
    expect(() => new ImportedKmsKey(stack, 'Key', {
      keyMaterial: KeyMaterial.fromSecret(shared, { versionStage: 'AWSCURRENT' }),
      previousKeyMaterials: [KeyMaterial.fromSecret(shared)],
    })).toThrow('ImportedKmsKey TestStack/Key: keyMaterial reads the same secret, field and version stage as previousKeyMaterials[0]; '
      + 'each material needs a source of its own (e.g. its own version stage).');
  });

  test('stages that move with the secret are flagged; pinned stages and separate secrets are not', () => {
    const stack = newStack();
    const shared = secret(stack, 'shared');
    new ImportedKmsKey(stack, 'Moving', {
      keyMaterial: KeyMaterial.fromSecret(shared),
      previousKeyMaterials: [KeyMaterial.fromSecret(shared, { versionStage: 'AWSPREVIOUS' })],
    });
    const pinned = secret(stack, 'pinned');
    new ImportedKmsKey(stack, 'Pinned', {
      keyMaterial: KeyMaterial.fromSecret(pinned, { versionStage: 'KEY-2' }),
      previousKeyMaterials: [KeyMaterial.fromSecret(pinned, { versionStage: 'KEY-1' })],
    });
    rotatingKey(stack);
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('which moves whenever the secret gets a new value'));
    const advice = 'which moves whenever the secret gets a new value; the key needs every material re-readable for its lifetime (each expiration change '
      + 're-imports all). Pin it to a version stage of its own (README, "Rotating the material"). [ack: imported-kms-key:unpinned-material]';
    expect(warnings.map((w) => [w.id, w.entry.data])).toEqual([
      ['/TestStack/Moving', `previousKeyMaterials[0] reads version stage AWSPREVIOUS, ${advice}`],
      ['/TestStack/Moving', `keyMaterial reads version stage AWSCURRENT, ${advice}`],
    ]);
  });

  test('a secret shared by several locked materials gets its lock once', () => {
    const stack = newStack();
    const owned = new secretsmanager.Secret(stack, 'Owned');
    new ImportedKmsKey(stack, 'Key', {
      keyMaterial: KeyMaterial.fromSecret(owned, { versionStage: 'KEY-2', lockdown: {} }),
      previousKeyMaterials: [KeyMaterial.fromSecret(owned, { versionStage: 'KEY-1', lockdown: {} })],
    });
    Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::ResourcePolicy', 1);
  });
});
