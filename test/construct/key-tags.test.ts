/**
 * The key's tags tell the operator CLI's `status` the material source and, for offline wrapping,
 * the parameter bucket (docs/offline-wrapping.md): they are what `status --all` reads.
 */
import { App, Stack, Tags } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImportedKmsKey, ImportedKmsReplicaKey, KeyMaterial } from '../../lib';
import { KEY_TAG } from '../../lib/shared/contract';
import { importedKey, newStack } from '../support/stacks';

const tagsOf = (template: Template, type: string) => Object.values(template.findResources(type)).map((r) => (r.Properties as { Tags?: unknown }).Tags);

test('a key whose material is in a secret is tagged secrets-manager, and keeps the tags the user adds', () => {
  const stack = newStack();
  const key = importedKey(stack, 'Key');
  Tags.of(key).add('team', 'payments');
  expect(tagsOf(Template.fromStack(stack), 'AWS::KMS::Key')).toEqual([expect.arrayContaining([
    { Key: KEY_TAG.MATERIAL_SOURCE, Value: 'secrets-manager' }, { Key: 'team', Value: 'payments' },
  ])]);
  expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toContain(KEY_TAG.PARAMETER_BUCKET);
});

test('an offline key and an offline replica are tagged offline-wrapping with their bucket', () => {
  const app = new App();
  const primaryStack = new Stack(app, 'Primary', { env: { account: '111122223333', region: 'eu-west-1' }, crossRegionReferences: true });
  const primary = new ImportedKmsKey(primaryStack, 'Key', { keyMaterial: KeyMaterial.fromOfflineWrapping(), multiRegion: true });
  const replicaStack = new Stack(app, 'Replica', { env: { account: '111122223333', region: 'eu-west-2' }, crossRegionReferences: true });
  new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary, keyMaterial: KeyMaterial.fromOfflineWrapping() });
  const bucketRef = { Ref: expect.stringMatching(/^ImportedKmsKeyParameters/) as string };
  for (const [stack, type] of [[primaryStack, 'AWS::KMS::Key'], [replicaStack, 'AWS::KMS::ReplicaKey']] as const) {
    expect(tagsOf(Template.fromStack(stack), type)).toEqual([expect.arrayContaining([
      { Key: KEY_TAG.MATERIAL_SOURCE, Value: 'offline-wrapping' }, { Key: KEY_TAG.PARAMETER_BUCKET, Value: bucketRef },
    ])]);
  }
});
