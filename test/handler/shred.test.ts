/**
 * Crypto-shred on removal: the handler's Delete. The opt-in at synth time and its permissions are in
 * test/construct/shred.test.ts.
 */
import { DeleteImportedKeyMaterialCommand, GetKeyLastUsageCommand, ListKeyRotationsCommand } from '@aws-sdk/client-kms';
import { handler, ProviderEvent } from '../../lambda';
import { awsError, KEY_ARN, kms as kmsMock, kmsKey, output, props, resetHarness, secrets } from './support/handler-harness';

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

describe('the shred asks KMS when the key was last used first', () => {
  beforeEach(() => {
    resetHarness();
    kmsKey.holdMaterials([{ bytes: Buffer.alloc(32, 1) }]);
  });
  afterEach(() => jest.restoreAllMocks());

  const day = 86_400_000;
  const del = (overrides: Parameters<typeof props>[0] = {}): ProviderEvent =>
    ({ RequestType: 'Delete', PhysicalResourceId: KEY_ARN, ResourceProperties: props({ ShredOnDelete: 'true', ...overrides }) });
  const imported = () => kmsKey.materials.filter((m) => m.importState !== 'PENDING_IMPORT').length;

  test('a key used within the default 7 days keeps its material: the Delete fails with a sentence naming the use, every time CloudFormation retries', async () => {
    const used = new Date(Date.now() - 2 * day);
    kmsKey.use('Decrypt', used);
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(handler(del())).rejects.toThrow(`Refused to delete the key material of KMS key ${KEY_ARN}: KMS reports it was used (Decrypt at ${used.toISOString()}, `
        + `CloudTrail event event-${used.getTime()}) within the last 7 days (shredIfUnusedFor), so the material stays in place. If nothing should use the key any more, wait`);
    }
    expect(kmsMock.commandCalls(DeleteImportedKeyMaterialCommand)).toHaveLength(0);
    expect(imported()).toBe(1);
    expect(kmsKey.keyState).toBe('Enabled');
    const logged = JSON.parse(output[output.length - 1]) as { requestType: string; outcome: string; reason: string };
    expect([logged.requestType, logged.outcome, logged.reason.startsWith('Refused to delete the key material')]).toEqual(['Delete', 'failed', true]);
  });

  test('a key last used before the window is shredded', async () => {
    kmsKey.use('Encrypt', new Date(Date.now() - 8 * day));
    await handler(del());
    expect(kmsMock.commandCalls(GetKeyLastUsageCommand).map((c) => c.args[0].input)).toEqual([{ KeyId: KEY_ARN }]);
    expect(imported()).toBe(0);
    expect(kmsKey.keyState).toBe('PendingImport');
  });

  test('a key never used since tracking began (an empty KeyLastUsage) is shredded', async () => {
    await handler(del());
    expect(imported()).toBe(0);
  });

  test('the window the key sets decides: used 2 hours ago refuses a 3-hour window and passes a 1-hour one', async () => {
    kmsKey.use('Sign', new Date(Date.now() - 2 * 3_600_000));
    await expect(handler(del({ ShredIfUnusedFor: '10800' }))).rejects.toThrow(/within the last 3 hours \(shredIfUnusedFor\)/);
    expect(imported()).toBe(1);
    await handler(del({ ShredIfUnusedFor: '3600' }));
    expect(imported()).toBe(0);
  });

  test('a window of 0 shreds without asking', async () => {
    kmsKey.use('Decrypt', new Date());
    await handler(del({ ShredIfUnusedFor: '0' }));
    expect(kmsMock.commandCalls(GetKeyLastUsageCommand)).toHaveLength(0);
    expect(imported()).toBe(0);
  });

  test('a key older than KMS\'s usage tracking, tracked for less than the window, is refused: its use before tracking is unknown', async () => {
    kmsKey.createdAt = new Date(Date.now() - 400 * day);
    kmsKey.trackingStart = new Date(Date.now() - 3 * day);
    await expect(handler(del())).rejects.toThrow(`KMS has tracked its use only since ${kmsKey.trackingStart.toISOString()}, less than the 7 days it must have gone unused`);
    expect(imported()).toBe(1);
    kmsKey.trackingStart = new Date(Date.now() - 10 * day);
    await handler(del());
    expect(imported()).toBe(0);
  });

  test('a key that is gone is success without a deletion; any other failure to ask keeps the material with a sentence', async () => {
    kmsMock.on(GetKeyLastUsageCommand).rejectsOnce(awsError('NotFoundException')).rejects(awsError('AccessDeniedException'));
    expect(await handler(del())).toEqual({ PhysicalResourceId: KEY_ARN });
    await expect(handler(del())).rejects.toThrow(`GetKeyLastUsage failed for KMS key ${KEY_ARN} (AccessDeniedException): the import handler is not allowed to use this KMS key.`);
    expect(kmsMock.commandCalls(DeleteImportedKeyMaterialCommand)).toHaveLength(0);
    expect(imported()).toBe(1);
  });
});
