/**
 * Crypto-shred on removal: the handler's Delete. The opt-in at synth time and its permissions are in
 * test/construct/shred.test.ts.
 */
import { DeleteImportedKeyMaterialCommand, ListKeyRotationsCommand } from '@aws-sdk/client-kms';
import { handler, ProviderEvent } from '../../lambda';
import { awsError, KEY_ARN, kms as kmsMock, output, props, resetHarness, secrets } from './support/handler-harness';

describe('the handler\'s Delete', () => {
  beforeEach(resetHarness);
  afterEach(() => jest.restoreAllMocks());

  const del = (overrides: Parameters<typeof props>[0] = {}, physicalId = KEY_ARN): ProviderEvent =>
    ({ RequestType: 'Delete', PhysicalResourceId: physicalId, ResourceProperties: props({ ShredOnDelete: 'true', ...overrides }) });
  const deletions = () => kmsMock.commandCalls(DeleteImportedKeyMaterialCommand).map((c) => c.args[0].input);

  test('deletes every material of a symmetric key, listed across pages, and logs how many', async () => {
    kmsMock.on(ListKeyRotationsCommand)
      .resolvesOnce({ Rotations: [{ KeyMaterialId: 'a'.repeat(64) }, { KeyMaterialId: 'b'.repeat(64) }], Truncated: true, NextMarker: 'page-2' })
      .resolves({ Rotations: [{ KeyMaterialId: 'c'.repeat(64) }], Truncated: false });
    expect(await handler(del())).toEqual({ PhysicalResourceId: KEY_ARN });
    expect(kmsMock.commandCalls(ListKeyRotationsCommand).map((c) => c.args[0].input)).toEqual([
      { KeyId: KEY_ARN, IncludeKeyMaterial: 'ALL_KEY_MATERIAL', Marker: undefined },
      { KeyId: KEY_ARN, IncludeKeyMaterial: 'ALL_KEY_MATERIAL', Marker: 'page-2' },
    ]);
    expect(deletions()).toEqual(['a', 'b', 'c'].map((c) => ({ KeyId: KEY_ARN, KeyMaterialId: c.repeat(64) })));
    expect(JSON.parse(output[output.length - 1])).toEqual({ requestType: 'Delete', keyArn: KEY_ARN, outcome: 'succeeded', shreddedMaterials: 3 });
    expect(secrets.calls()).toHaveLength(0);
  });

  test('an HMAC or asymmetric key has one material: deleted without listing', async () => {
    await handler(del({ KeySpec: 'HMAC_256' }));
    expect(kmsMock.commandCalls(ListKeyRotationsCommand)).toHaveLength(0);
    expect(deletions()).toEqual([{ KeyId: KEY_ARN, KeyMaterialId: undefined }]);
  });

  test('a symmetric key that lists nothing has its current material deleted', async () => {
    kmsMock.on(ListKeyRotationsCommand).resolves({ Rotations: [] });
    await handler(del());
    expect(deletions()).toEqual([{ KeyId: KEY_ARN, KeyMaterialId: undefined }]);
  });

  test.each(['NotFoundException', 'KMSInvalidStateException'])('nothing left to shred (%s) is success', async (name) => {
    kmsMock.on(ListKeyRotationsCommand).resolves({ Rotations: [{ KeyMaterialId: 'a'.repeat(64) }, { KeyMaterialId: 'b'.repeat(64) }] });
    kmsMock.on(DeleteImportedKeyMaterialCommand).rejectsOnce(awsError(name)).resolves({});
    await handler(del());
    expect(JSON.parse(output[output.length - 1])).toMatchObject({ outcome: 'succeeded', shreddedMaterials: 1 });
  });

  test('a key that is gone before listing is success', async () => {
    kmsMock.on(ListKeyRotationsCommand).rejects(awsError('NotFoundException'));
    await handler(del());
    expect(deletions()).toHaveLength(0);
  });

  test('a refusal fails the Delete with a sentence, so the material is never silently left', async () => {
    kmsMock.on(DeleteImportedKeyMaterialCommand).rejects(awsError('AccessDeniedException'));
    kmsMock.on(ListKeyRotationsCommand).resolves({ Rotations: [] });
    await expect(handler(del())).rejects.toThrow(`DeleteImportedKeyMaterial failed for KMS key ${KEY_ARN} (AccessDeniedException): the import handler is not allowed to use this KMS key.`);
  });

  test.each([
    ['without the opt-in', { ShredOnDelete: undefined }, KEY_ARN],
    ['after a failed Create', {}, 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED'],
    ['for another physical id than the key', {}, KEY_ARN.replace('1234abcd', '9999abcd')],
  ])('makes no call %s', async (_name, overrides, physicalId) => {
    await handler(del(overrides, physicalId));
    expect(kmsMock.calls()).toHaveLength(0);
    expect(JSON.parse(output[output.length - 1])).toEqual({ requestType: 'Delete', keyArn: KEY_ARN, outcome: 'succeeded' });
  });
});
