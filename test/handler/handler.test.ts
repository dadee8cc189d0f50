/**
 * The handler's CloudFormation paths with aws-sdk-client-mock: what it calls on Create, Update and
 * Delete, when it imports and when it converges without importing, readiness, and retries.
 */
import { DescribeKeyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, ImportKeyMaterialCommandInput } from '@aws-sdk/client-kms';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { generateKeyPairSync } from 'node:crypto';
import { handler } from '../../lambda';
import { CONSISTENCY_RETRY_DELAYS_MS, IMPORT_RETRY_DELAYS_MS, READY_RETRY_DELAYS_MS } from '../../lib/shared/limits';
import {
  awsError, create, failure, holding, inDays, KEY_ARN, kms, kmsCalls, MATERIAL_ID, OTHER_KEY_ARN, output, props, resetHarness,
  SECRET_ARN, secrets, state, success, TOKEN, unwrapSentMaterial, update, wrapping,
} from './support/handler-harness';
import { recordCipherInputs, symmetricMaterial, wrappingKeyPair } from '../support/keys';
import { parseLog } from '../../tools/template';

beforeEach(resetHarness);
afterEach(() => jest.restoreAllMocks());

const importInput = (call = 0) => kms.commandCalls(ImportKeyMaterialCommand)[call].args[0].input;
const lastLog = () => parseLog(output.filter((line) => line.startsWith('{"requestType"')).pop()!);

describe('Create', () => {
  test('reads, imports the wrapped material, confirms the key is Enabled, and returns the key ARN, id and material id', async () => {
    const response = await handler(create());
    expect(response).toEqual({
      PhysicalResourceId: KEY_ARN,
      Data: { KeyArn: KEY_ARN, KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', KeyMaterialId: MATERIAL_ID },
    });
    expect(secrets.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: SECRET_ARN, VersionStage: undefined });
    expect(kms.commandCalls(GetParametersForImportCommand)[0].args[0].input).toEqual({
      KeyId: KEY_ARN, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    });
    expect(importInput()).toMatchObject({ KeyId: KEY_ARN, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ValidTo: undefined });
    expect(Buffer.from(importInput().ImportToken!)).toEqual(TOKEN);
    expect(unwrapSentMaterial()).toEqual(state.material);
    // The confirming read comes after the import.
    expect(kmsCalls().slice(-2)).toEqual(['ImportKeyMaterial', 'DescribeKey']);
    expect(lastLog()).toEqual({ requestType: 'Create', keyArn: KEY_ARN, outcome: 'succeeded', imported: true });
  });

  test('leaves ImportType to KMS, so a Create repeated after it succeeded re-imports the same material and succeeds', async () => {
    await handler(create());
    expect(importInput()).not.toHaveProperty('ImportType', expect.anything());
    // KMS's default: NEW_KEY_MATERIAL for a key that never held material, EXISTING_KEY_MATERIAL after.
    await handler(create());
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(2);
    expect(importInput(1)).not.toHaveProperty('ImportType', expect.anything());
    expect(unwrapSentMaterial(1)).toEqual(state.material);
  });

  test('a repeated Create into a key that holds other material fails with the sentence', async () => {
    state.key = holding();
    kms.on(ImportKeyMaterialCommand).rejects(awsError('IncorrectKeyMaterialException'));
    expect(await failure(create())).toMatch(/\(IncorrectKeyMaterialException\): KMS rejected the key material: it differs from the material this key already holds/);
  });

  test('wipes the SecretBinary the SDK returned once the material is wrapped', async () => {
    const returned = new Uint8Array(state.material);
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: returned });
    await handler(create());
    expect(unwrapSentMaterial()).toEqual(state.material);
    expect(returned.every((byte) => byte === 0)).toBe(true);
  });

  test('wipes the decoded material once it is imported, and when the import fails', async () => {
    const handedToCipher = recordCipherInputs();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: state.material.toString('base64') });
    await success(create());
    kms.on(ImportKeyMaterialCommand).rejects(awsError('IncorrectKeyMaterialException'));
    await failure(create());
    expect(handedToCipher).toHaveLength(2);
    for (const material of handedToCipher) expect(material.every((byte) => byte === 0)).toBe(true);
  });

  test('leaves no copy of the material: every buffer made from it is wiped, for a binary and a base64 secret', async () => {
    const copies: Buffer[] = [];
    const from = Buffer.from.bind(Buffer) as (...args: unknown[]) => Buffer;
    jest.spyOn(Buffer, 'from').mockImplementation(((...args: unknown[]) => {
      const made = from(...args);
      if (made.equals(state.material)) copies.push(made);
      return made;
    }) as typeof Buffer.from);
    await handler(create());
    secrets.on(GetSecretValueCommand).resolves({ SecretString: state.material.toString('base64') });
    await handler(create());
    jest.restoreAllMocks();
    expect(copies.length).toBeGreaterThanOrEqual(3); // the binary secret's copy, the base64 text decoded, each one's material
    for (const copy of copies) expect(copy.every((byte) => byte === 0)).toBe(true);
  });

  test('makes five calls: DescribeKey, the secret read and GetParametersForImport in parallel, the import, one confirming read', async () => {
    let inFlight = 0;
    let peak = 0;
    const slow = <T>(value: () => T) => async () => {
      inFlight++; peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return value();
    };
    secrets.on(GetSecretValueCommand).callsFake(slow(() => ({ SecretBinary: new Uint8Array(state.material) })));
    kms.on(GetParametersForImportCommand).callsFake(slow(() => ({ ImportToken: new Uint8Array(TOKEN), PublicKey: new Uint8Array(wrapping.publicKeyDer) })));
    kms.on(DescribeKeyCommand).callsFake(slow(() => ({ KeyMetadata: { ...state.key } })));
    await handler(create());
    expect(peak).toBe(3);
    expect(secrets.calls().length + kms.calls().length).toBe(5);
    expect(kmsCalls().slice(-2)).toEqual(['ImportKeyMaterial', 'DescribeKey']);
  });

  test('sends ValidTo in whole seconds with KEY_MATERIAL_EXPIRES', async () => {
    const validTo = new Date(Date.now() + 30 * 24 * 3600 * 1000);
    validTo.setUTCMilliseconds(789);
    await handler(create(props({ ValidTo: validTo.toISOString() })));
    expect(importInput().ExpirationModel).toBe('KEY_MATERIAL_EXPIRES');
    expect(importInput().ValidTo).toEqual(new Date(validTo.getTime() - 789));
  });

  test('reads a JSON field holding base64, at the given version stage', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ material: state.material.toString('base64') }) });
    await handler(create(props({ JsonField: 'material', VersionStage: 'AWSPENDING' })));
    expect(secrets.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: SECRET_ARN, VersionStage: 'AWSPENDING' });
    expect(unwrapSentMaterial()).toEqual(state.material);
  });

  test('an expired token is replaced once: the fresh token and the fresh public key are used', async () => {
    const fresh = wrappingKeyPair(2048);
    const freshToken = Buffer.from('a-second-distinct-import-token');
    kms.on(GetParametersForImportCommand)
      .resolvesOnce({ ImportToken: new Uint8Array(TOKEN), PublicKey: new Uint8Array(wrapping.publicKeyDer) })
      .resolves({ ImportToken: new Uint8Array(freshToken), PublicKey: new Uint8Array(fresh.publicKeyDer) });
    kms.on(ImportKeyMaterialCommand).rejectsOnce(awsError('ExpiredImportTokenException')).callsFake(() => {
      state.key = holding();
      return {};
    });
    await handler(create());
    expect(kms.commandCalls(GetParametersForImportCommand)).toHaveLength(2);
    expect(Buffer.from(importInput(1).ImportToken!)).toEqual(freshToken);
    expect(unwrapSentMaterial(1, fresh.privateKey)).toEqual(state.material);
  });

  test('an expiration that passed since synth is refused before any call', async () => {
    const message = await failure(create(props({ ValidTo: '2020-01-01T00:00:00Z' })));
    expect(message).toMatch(/expiration 2020-01-01T00:00:00Z is in the past.*Move the expiration forward/);
    expect(kms.calls()).toHaveLength(0);
    expect(secrets.calls()).toHaveLength(0);
  });
});

describe('readiness: SUCCESS only once KMS reports the key Enabled with the requested expiration', () => {
  test('reads again while KMS still reports PendingImport or the previous expiration', async () => {
    const validTo = inDays(30);
    const reports = [{ KeyState: 'PendingImport' }, holding(inDays(10)), holding(validTo)];
    let reads = 0;
    kms.on(DescribeKeyCommand).callsFake(() => ({ KeyMetadata: reads++ === 0 ? { KeyState: 'PendingImport' } : reports.shift() }));
    const waits: number[] = [];
    jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms: number) => { waits.push(ms); fn(); return 0; }) as never);
    await handler(create(props({ ValidTo: validTo })));
    expect(kmsCalls().filter((c) => c === 'DescribeKey')).toHaveLength(4);
    expect(waits).toEqual(READY_RETRY_DELAYS_MS.slice(0, 2));
  });

  test('names the expiration it waited for, and a missing state', async () => {
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: KEY_ARN } });
    const validTo = inDays(30);
    expect(await failure(create(props({ ValidTo: validTo })))).toMatch(
      new RegExp(`still reports it in no state rather than Enabled with material expiring at ${new Date(validTo).toISOString().replace(/[.]/g, '\\.')}\\.`));
  });

  test('fails with a sentence when KMS never agrees, after the bounded wait', async () => {
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: KEY_ARN, KeyState: 'PendingImport' } });
    const message = await failure(create());
    expect(message).toBe(`KMS accepted the material for key ${KEY_ARN}, but 32 s later DescribeKey still reports it PendingImport rather than Enabled `
      + 'with material never expiring. KMS is eventually consistent: retry the deployment, which imports only if the key still needs it.');
    expect(kms.commandCalls(DescribeKeyCommand)).toHaveLength(1 + READY_RETRY_DELAYS_MS.length + 1);
  });
});

describe('eventual consistency right after the key or the policies were created', () => {
  const notFound = () => awsError('NotFoundException');

  test.each([
    ['GetParametersForImport', GetParametersForImportCommand],
    ['DescribeKey', DescribeKeyCommand],
  ])('a NotFoundException from %s on Create is retried until the key is visible', async (_name, command) => {
    let misses = 2;
    kms.on(command as typeof DescribeKeyCommand).callsFake((input: { KeyId?: string }) => {
      if (misses-- > 0) throw notFound();
      return command === DescribeKeyCommand ? { KeyMetadata: { ...state.key } } : { KeyId: input.KeyId, ImportToken: new Uint8Array(TOKEN), PublicKey: new Uint8Array(wrapping.publicKeyDer) };
    });
    const response = await success(create());
    expect(response.PhysicalResourceId).toBe(KEY_ARN);
    expect(kms.commandCalls(command as typeof DescribeKeyCommand).length).toBeGreaterThanOrEqual(3);
    expect(unwrapSentMaterial()).toEqual(state.material);
  });

  test('an AccessDeniedException while a new secret policy propagates is retried, then reported', async () => {
    secrets.on(GetSecretValueCommand).rejects(awsError('AccessDeniedException'));
    expect(await failure(create())).toMatch(/\(AccessDeniedException\): the import handler may not read the secret/);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(CONSISTENCY_RETRY_DELAYS_MS.length + 1);
  });

  test.each([
    ['a missing secret', () => secrets.on(GetSecretValueCommand).rejects(awsError('ResourceNotFoundException')), () => secrets.commandCalls(GetSecretValueCommand)],
    ['an internal error', () => kms.on(DescribeKeyCommand).rejects(awsError('KMSInternalException')), () => kms.commandCalls(DescribeKeyCommand)],
  ])('%s on Create is not eventual consistency: it fails at once', async (_name, refuse, calls) => {
    refuse();
    await failure(create());
    expect(calls()).toHaveLength(1);
  });

  test('a NotFoundException on an Update of the same key is not retried: the key is gone', async () => {
    kms.on(DescribeKeyCommand).rejects(notFound());
    expect(await failure(update(props({ ValidTo: inDays(9) }), props()))).toMatch(/^DescribeKey failed .*\(NotFoundException\): the KMS key does not exist/);
    expect(kms.commandCalls(DescribeKeyCommand)).toHaveLength(1);
  });

  test.each(['NotFoundException', 'KMSInvalidStateException'])('ImportKeyMaterial answering %s right after creation is retried', async (name) => {
    let misses = 2;
    kms.on(ImportKeyMaterialCommand).callsFake((input: ImportKeyMaterialCommandInput) => {
      if (misses-- > 0) throw awsError(name);
      state.key = holding(undefined);
      return { KeyId: input.KeyId };
    });
    await success(create());
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(3);
  });

  test('a KMSInvalidStateException that persists is reported after the bounded retries', async () => {
    kms.on(ImportKeyMaterialCommand).rejects(awsError('KMSInvalidStateException'));
    expect(await failure(create())).toMatch(/^ImportKeyMaterial failed .*\(KMSInvalidStateException\)/);
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(IMPORT_RETRY_DELAYS_MS.length + 1);
  });
});

describe('Update converges instead of blindly re-importing', () => {
  test('a new expiration re-imports the same material into the same key as EXISTING_KEY_MATERIAL, and confirms it', async () => {
    state.key = holding(inDays(30));
    const later = inDays(60);
    const response = await handler(update(props({ ValidTo: later }), props({ ValidTo: inDays(30) })));
    expect(response.PhysicalResourceId).toBe(KEY_ARN);
    expect(importInput()).toMatchObject({ KeyId: KEY_ARN, ImportType: 'EXISTING_KEY_MATERIAL', ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(later) });
    expect(kmsCalls().slice(-2)).toEqual(['ImportKeyMaterial', 'DescribeKey']);
  });

  test('nothing to do (same source, key Enabled with the requested expiration) makes no import', async () => {
    const validTo = inDays(30);
    state.key = holding(validTo);
    const response = await handler(update(props({ ValidTo: validTo, WrappingKeySpec: 'RSA_4096' }), props({ ValidTo: validTo })));
    expect(response).toEqual({ PhysicalResourceId: KEY_ARN, Data: { KeyArn: KEY_ARN, KeyId: expect.any(String) as unknown, KeyMaterialId: MATERIAL_ID } });
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
    expect(secrets.calls().length + kms.calls().length).toBe(3);
    expect(lastLog()).toMatchObject({ outcome: 'succeeded', imported: false, reason: expect.stringMatching(/Enabled with the requested expiration and the material source is unchanged/) as unknown });
  });

  test('an expiration moved earlier re-imports with the earlier date', async () => {
    const earlier = inDays(30);
    state.key = holding(inDays(60));
    await handler(update(props({ ValidTo: earlier }), props({ ValidTo: inDays(60) })));
    // `earlier` is computed once: a second that ticks over during the import must not fail the test.
    expect(importInput()).toMatchObject({ ImportType: 'EXISTING_KEY_MATERIAL', ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(earlier) });
  });

  test('an expiration changed to never re-imports with KEY_MATERIAL_DOES_NOT_EXPIRE', async () => {
    state.key = holding(inDays(30));
    await handler(update(props(), props({ ValidTo: inDays(30) })));
    expect(importInput()).toMatchObject({ ImportType: 'EXISTING_KEY_MATERIAL', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(importInput().ValidTo).toBeUndefined();
  });

  test('expirations compare in whole seconds: a ValidTo reported with a fraction of a second satisfies its second', async () => {
    const validTo = inDays(30);
    state.key = holding(new Date(Date.parse(validTo) + 500).toISOString());
    await handler(update(props({ ValidTo: validTo }), props({ ValidTo: validTo })));
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
  });

  test('the rollback of an update that failed because the secret changed succeeds without importing', async () => {
    const oldProps = props({ ValidTo: inDays(30) });
    const newProps = props({ ValidTo: inDays(60) });
    state.key = holding(oldProps.ValidTo);
    state.material = symmetricMaterial(); // the secret was rotated to other material
    kms.on(ImportKeyMaterialCommand).rejects(awsError('IncorrectKeyMaterialException'));
    expect(await failure(update(newProps, oldProps))).toMatch(/IncorrectKeyMaterialException/);
    kms.resetHistory();
    await handler(update(oldProps, newProps)); // CloudFormation's rollback: the old properties as a new Update
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
  });

  test('a changed source is proven by importing from it, even when the key already has the requested expiration', async () => {
    state.key = holding();
    await handler(update(props({ VersionStage: 'escrow' }), props()));
    expect(importInput()).toMatchObject({ ImportType: 'EXISTING_KEY_MATERIAL' });
    kms.on(ImportKeyMaterialCommand).rejects(awsError('IncorrectKeyMaterialException'));
    expect(await failure(update(props({ SecretId: `${SECRET_ARN}-copy` }), props()))).toMatch(/IncorrectKeyMaterialException/);
  });

  test.each([
    ['an Update', true],
    ['a Create', false],
  ])('a requested expiration that has passed: %s succeeds, reading only the key (for its KeyMaterialId), only if it is an Update', async (_name, isUpdate) => {
    const past = new Date(Date.now() - 120_000).toISOString();
    if (isUpdate) {
      state.key = holding(inDays(30));
      const response = await handler(update(props({ ValidTo: past }), props({ ValidTo: inDays(30) })));
      expect(response).toEqual({ PhysicalResourceId: KEY_ARN, Data: { KeyArn: KEY_ARN, KeyId: expect.any(String) as unknown, KeyMaterialId: MATERIAL_ID } });
      expect(lastLog()).toMatchObject({ imported: false, reason: expect.stringMatching(/has passed, so it cannot be imported; the key keeps its material/) as unknown });
      expect(kmsCalls()).toEqual(['DescribeKey']);
      // Even a key KMS cannot describe any more does not fail the rollback.
      kms.on(DescribeKeyCommand).rejects(awsError('NotFoundException'));
      expect((await handler(update(props({ ValidTo: past }), props({ ValidTo: inDays(30) })))).Data).toMatchObject({ KeyMaterialId: '' });
    } else {
      expect(await failure(create(props({ ValidTo: past })))).toMatch(/is in the past, so KMS would refuse the import/);
      expect(kms.calls().length).toBe(0);
    }
    expect(secrets.calls().length).toBe(0);
  });

  test('a replaced key (no material yet) is imported with no ImportType: KMS chooses NEW', async () => {
    const response = await handler(update(props({ KeyArn: OTHER_KEY_ARN }), props()));
    expect(response.PhysicalResourceId).toBe(OTHER_KEY_ARN);
    expect(importInput()).toMatchObject({ KeyId: OTHER_KEY_ARN });
    expect(importInput()).not.toHaveProperty('ImportType', expect.anything());
  });

  test('the rollback of a replacement to the old key, which still holds its material, imports nothing', async () => {
    state.key = holding();
    const response = await handler(update(props(), props({ KeyArn: OTHER_KEY_ARN })));
    expect(response.PhysicalResourceId).toBe(KEY_ARN);
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
  });

  test('expired material (PendingImport after its ValidTo) is re-imported when the expiration moves forward', async () => {
    const expired = new Date(Date.now() - 3600_000).toISOString();
    state.key = { KeyId: KEY_ARN, KeyState: 'PendingImport' };
    await handler(update(props({ ValidTo: inDays(30) }), props({ ValidTo: expired })));
    expect(importInput()).toMatchObject({ ImportType: 'EXISTING_KEY_MATERIAL' });
    expect(state.key.KeyState).toBe('Enabled');
  });

  test('material whose expiration is this very millisecond counts as expired, not deleted', async () => {
    const now = Date.UTC(2026, 10, 27, 3, 0, 0);
    jest.useFakeTimers({ now, doNotFake: ['nextTick', 'setImmediate'] });
    try {
      state.key = { KeyId: KEY_ARN, KeyState: 'PendingImport' };
      await handler(update(props({ ValidTo: new Date(now + 30 * 86_400_000).toISOString() }), props({ ValidTo: new Date(now).toISOString() })));
      expect(importInput()).toMatchObject({ ImportType: 'EXISTING_KEY_MATERIAL' });
    } finally {
      jest.useRealTimers();
    }
  });

  test('material someone deleted (PendingImport before its expiration) is not brought back by a deploy', async () => {
    state.key = { KeyId: KEY_ARN, KeyState: 'PendingImport' };
    await handler(update(props({ ValidTo: inDays(60) }), props({ ValidTo: inDays(30) })));
    await handler(update(props({ ValidTo: inDays(30) }), props()));
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
    expect(lastLog()).toMatchObject({ imported: false, reason: expect.stringMatching(/someone deleted it \(DeleteImportedKeyMaterial\), and a deploy does not bring it back/) as unknown });
  });

  test.each([
    ['HMAC_256', () => Buffer.concat([state.material, state.material]), 'RSAES_OAEP_SHA_256'],
    ['RSA_2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'der', type: 'pkcs8' }), 'RSA_AES_KEY_WRAP_SHA_256'],
    ['ECC_NIST_P256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'der', type: 'pkcs8' }), 'RSAES_OAEP_SHA_256'],
  ])('%s keys are imported without ImportType, on Create and on Update', async (KeySpec, stored, WrappingAlgorithm) => {
    const der = stored();
    secrets.on(GetSecretValueCommand).callsFake(() => ({ SecretBinary: new Uint8Array(der) }));
    await handler(create(props({ KeySpec, WrappingAlgorithm })));
    await handler(update(props({ KeySpec, WrappingAlgorithm, ValidTo: inDays(5) }), props({ KeySpec, WrappingAlgorithm })));
    for (const call of kms.commandCalls(ImportKeyMaterialCommand)) {
      expect(call.args[0].input.ImportType).toBeUndefined();
      expect(call.args[0].input.KeyMaterialDescription).toBeUndefined();
    }
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(2);
  });
});

describe('a deploy never undoes an operator: Disabled and PendingDeletion keys', () => {
  test.each([
    ['Disabled', /^KMS key \S+ is Disabled, and a deploy never imports into a disabled key or enables it .* enable it \(aws kms enable-key --key-id \S+\), then deploy again\.$/],
    ['PendingDeletion', /^KMS key \S+ is PendingDeletion, so it takes no import\. To keep the key, cancel its deletion \(aws kms cancel-key-deletion .*then deploy again\.$/],
  ])('%s: an Update that needs an import fails with the sentence and imports nothing', async (keyState, sentence) => {
    state.key = holding(inDays(30), keyState);
    expect(await failure(update(props({ ValidTo: inDays(60) }), props({ ValidTo: inDays(30) })))).toMatch(sentence);
    expect(await failure(create(props({ ValidTo: inDays(60) })))).toMatch(sentence);
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
    expect(state.key.KeyState).toBe(keyState);
  });

  test.each(['Disabled', 'PendingDeletion'])('%s: a request the key already satisfies (a rollback) succeeds with no import', async (keyState) => {
    const validTo = inDays(30);
    state.key = holding(validTo, keyState);
    await handler(update(props({ ValidTo: validTo }), props({ ValidTo: inDays(60) })));
    await handler(update(props({ ValidTo: validTo, VersionStage: 'other' }), props({ ValidTo: validTo })));
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
    expect(lastLog()).toMatchObject({
      outcome: 'succeeded', imported: false, reason: `the key is ${keyState} and already holds material with the requested expiration; nothing to import`,
    });
  });
});

describe('Delete', () => {
  test.each([
    ['an imported key', KEY_ARN],
    ['a Create that failed', 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED'],
  ])('succeeds without any API call for %s', async (_name, physicalId) => {
    kms.onAnyCommand().rejects(awsError('NotFoundException'));
    const response = await handler({ RequestType: 'Delete', PhysicalResourceId: physicalId, ResourceProperties: props() });
    expect(response.PhysicalResourceId).toBe(physicalId);
    expect(kms.calls()).toHaveLength(0);
    expect(secrets.calls()).toHaveLength(0);
  });
});

