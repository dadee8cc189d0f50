import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ImportedKmsKey, ImportedKmsReplicaKey, KeyMaterial, KeyMaterialExpiration } from '../../lib';
import { IMPORT_RESOURCE_TYPE } from '../../lib/shared/contract';
import { newStack } from '../support/stacks';
import { App, Stack } from 'aws-cdk-lib';

const rotating = (materialGeneration: number, props: Partial<ConstructorParameters<typeof ImportedKmsKey>[2]> = {}) => {
  const stack = newStack();
  const key = new ImportedKmsKey(stack, 'Key', { keyMaterial: KeyMaterial.fromOfflineWrapping({ materialGeneration }), ...props });
  return { stack, key };
};

describe('offline rotation (materialGeneration)', () => {
  test('the import resource carries the generation, and the key policy lets the handler list and rotate the key', () => {
    const { stack } = rotating(2, { expiration: KeyMaterialExpiration.never() });
    const template = Template.fromStack(stack);
    template.hasResourceProperties(IMPORT_RESOURCE_TYPE, { MaterialGeneration: '2', ParameterBucket: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowImportedKmsKeyHandlerRotate', Action: ['kms:RotateKeyOnDemand', 'kms:ListKeyRotations'] })]) },
    });
  });

  test('without materialGeneration nothing rotates: no generation in the template, no rotate permission', () => {
    const stack = newStack();
    new ImportedKmsKey(stack, 'Key', { keyMaterial: KeyMaterial.fromOfflineWrapping() });
    const json = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(json).not.toContain('MaterialGeneration');
    expect(json).not.toContain('kms:RotateKeyOnDemand');
  });

  test.each([0, 1.5, 27, -1])('materialGeneration %p is refused with the range', (generation) => {
    expect(() => rotating(generation)).toThrow(/materialGeneration must be a whole number from 1 \(the first material\) to 26 \(KMS allows 25 on-demand rotations per key\)/);
  });

  test('an HMAC or asymmetric key is refused: KMS rotates only symmetric encryption keys', () => {
    expect(() => rotating(2, { keySpec: kms.KeySpec.HMAC_256, keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC }))
      .toThrow(/materialGeneration needs a SYMMETRIC_DEFAULT key; got HMAC_256\. KMS rotates only symmetric encryption keys/);
    expect(() => rotating(1, { keySpec: kms.KeySpec.RSA_2048, keyUsage: kms.KeyUsage.SIGN_VERIFY, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' as never }))
      .toThrow(/materialGeneration needs a SYMMETRIC_DEFAULT key; got RSA_2048/);
  });

  test('a multi-Region primary and a replica are refused with the reason', () => {
    expect(() => rotating(2, { multiRegion: true })).toThrow(/materialGeneration is not supported on a multi-Region key with KeyMaterial.fromOfflineWrapping\(\) yet: .*a wrap per Region/);
    const app = new App();
    const primaryStack = new Stack(app, 'P', { env: { account: '111122223333', region: 'eu-west-1' }, crossRegionReferences: true });
    const primary = new ImportedKmsKey(primaryStack, 'Key', { keyMaterial: KeyMaterial.fromOfflineWrapping(), multiRegion: true });
    const replicaStack = new Stack(app, 'R', { env: { account: '111122223333', region: 'eu-central-1' }, crossRegionReferences: true });
    expect(() => new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary, keyMaterial: KeyMaterial.fromOfflineWrapping({ materialGeneration: 2 }) }))
      .toThrow(/materialGeneration is not supported on a multi-Region replica/);
  });

  test('previousKeyMaterials stays refused in this mode and points to materialGeneration', () => {
    expect(() => rotating(1, { previousKeyMaterials: [KeyMaterial.fromOfflineWrapping()] })).toThrow(/Rotate with KeyMaterial.fromOfflineWrapping\(\{ materialGeneration \}\) instead/);
  });
});
