/**
 * Crypto-shred on removal at synth time: the opt-in, its removal-policy rule, and the permissions it
 * gives the handler. The handler's Delete is in test/handler/shred.test.ts.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
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

describe('the shred\'s unused-for window', () => {
  const shredding = { shredMaterialOnRemoval: true, removalPolicy: RemovalPolicy.DESTROY };
  const importOf = (stack: ReturnType<typeof newStack>) => Object.values(resourcesOf(Template.fromStack(stack))).find((r) => r.Type === IMPORT_RESOURCE_TYPE)!.Properties;
  const shredStatement = (stack: ReturnType<typeof newStack>) => {
    const key = Object.values(resourcesOf(Template.fromStack(stack))).find((r) => r.Type === 'AWS::KMS::Key')!;
    return (resolvePolicy(key.Properties.KeyPolicy) as { Statement: { Sid?: string; Action: string[] }[] }).Statement.find((s) => s.Sid === 'AllowImportedKmsKeyHandlerShred')!;
  };

  test('defaults to 7 days: the handler applies it (the template leaves it out) and may ask KMS when the key was last used', async () => {
    const stack = newStack();
    importedKey(stack, 'Key', shredding);
    expect(importOf(stack).ShredIfUnusedFor).toBeUndefined();
    const resources = resourcesOf(Template.fromStack(stack));
    const handlerRole = roleArn(Object.keys(resources).find((id) => id.startsWith('ImportedKmsKeyProviderHandlerRole'))!);
    const keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const key = Object.values(resources).find((r) => r.Type === 'AWS::KMS::Key')!;
    expect(await decide(resolvePolicy(key.Properties.KeyPolicy), { principal: handlerRole, action: 'kms:GetKeyLastUsage', resource: keyArn })).toBe('Allowed');
  });

  test('a window the user sets goes into the template in seconds; 0 turns the check and its permission off', () => {
    const hours = newStack();
    importedKey(hours, 'Key', { ...shredding, shredIfUnusedFor: Duration.hours(3) });
    expect(importOf(hours).ShredIfUnusedFor).toBe('10800');
    expect(shredStatement(hours).Action).toContain('kms:GetKeyLastUsage');
    const off = newStack();
    importedKey(off, 'Key', { ...shredding, shredIfUnusedFor: Duration.seconds(0) });
    expect(importOf(off).ShredIfUnusedFor).toBe('0');
    expect(shredStatement(off).Action).toEqual(['kms:DeleteImportedKeyMaterial', 'kms:ListKeyRotations']);
  });

  test('a window without shredding is refused, naming the fix', () => {
    expect(() => importedKey(newStack(), 'Key', { shredIfUnusedFor: Duration.days(1) })).toThrow(
      'ImportedKmsKey TestStack/Key: shredIfUnusedFor applies only to a key that shreds its material; set shredMaterialOnRemoval: true, or leave shredIfUnusedFor out.');
  });
});
