/**
 * Crypto-shred on removal at synth time: the opt-in, its removal-policy rule, and the permissions it
 * gives the handler. The handler's Delete is in test/handler/shred.test.ts.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IMPORT_RESOURCE_TYPE } from '../../lib/shared/contract';
import { ACCOUNT, decide, REGION, resolvePolicy, roleArn } from '../support/policy-simulator';
import { importedKey, newStack } from '../support/stacks';
import { resourcesOf } from '../../tools/template';

describe('at synth time', () => {
  test('needs a destroying removal policy, at construction and afterwards', () => {
    expect(() => importedKey(newStack(), 'Key', { shredMaterialOnRemoval: true })).toThrow(
      'ImportedKmsKey TestStack/Key: shredMaterialOnRemoval needs removalPolicy RemovalPolicy.DESTROY, got retain; a kept key must keep its material. Destroy the key, or do not shred.');
    const key = importedKey(newStack(), 'Key', { shredMaterialOnRemoval: true, removalPolicy: RemovalPolicy.DESTROY });
    expect(() => key.applyRemovalPolicy(RemovalPolicy.RETAIN)).toThrow(/shredMaterialOnRemoval needs removalPolicy RemovalPolicy.DESTROY, got retain/);
  });

  test('a key that does not shred takes any removal policy afterwards', () => {
    const stack = newStack();
    importedKey(stack, 'Key', { removalPolicy: RemovalPolicy.DESTROY }).applyRemovalPolicy(RemovalPolicy.RETAIN);
    Template.fromStack(stack).hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('only a shredding key gets the flag and lets the handler list and delete its materials', async () => {
    const stack = newStack();
    importedKey(stack, 'Shredded', { shredMaterialOnRemoval: true, removalPolicy: RemovalPolicy.DESTROY });
    importedKey(stack, 'Kept', { removalPolicy: RemovalPolicy.DESTROY });
    const resources = resourcesOf(Template.fromStack(stack));
    const imports = Object.entries(resources).filter(([, r]) => r.Type === IMPORT_RESOURCE_TYPE);
    expect(Object.fromEntries(imports.map(([id, r]) => [id.replace(/Import.*/, ''), r.Properties.ShredOnDelete]))).toEqual({ Shredded: 'true', Kept: undefined });
    const handlerRole = roleArn(Object.keys(resources).find((id) => id.startsWith('ImportedKmsKeyProviderHandlerRole'))!);
    const key = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    for (const [id, expected] of [['Shredded', 'Allowed'], ['Kept', 'ImplicitlyDenied']] as const) {
      const keyResource = Object.entries(resources).find(([rid, r]) => r.Type === 'AWS::KMS::Key' && rid.startsWith(id))![1];
      const policy = resolvePolicy(keyResource.Properties.KeyPolicy);
      expect((policy as { Statement: { Sid?: string }[] }).Statement.some((s) => s.Sid === 'AllowImportedKmsKeyHandlerShred')).toBe(expected === 'Allowed');
      for (const action of ['kms:DeleteImportedKeyMaterial', 'kms:ListKeyRotations']) {
        expect(await decide(policy, { principal: handlerRole, action, resource: key })).toBe(expected);
      }
    }
  });

  test('works for every key spec', () => {
    expect(() => importedKey(newStack(), 'Key', { keySpec: kms.KeySpec.HMAC_256, shredMaterialOnRemoval: true, removalPolicy: RemovalPolicy.DESTROY })).not.toThrow();
  });
});
