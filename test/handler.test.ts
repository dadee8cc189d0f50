import { GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, ProviderEvent } from '../lambda';
import { ImportProperties, withDefaults } from '../lib/contract';
import { CONSISTENCY_RETRY_DELAYS_MS, importKeyMaterial } from '../lambda/import-material';
import { expectNoLeak, symmetricMaterial, wrappingKeyPair } from './support/keys';

const kms = mockClient(KMSClient);
const secrets = mockClient(SecretsManagerClient);
const wrapping = wrappingKeyPair(2048);
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/kms-material-AbCdEf';
const TOKEN = Buffer.from('import-token-bytes-that-must-not-leak');

const props = (overrides: Partial<ImportProperties> = {}): ImportProperties => ({
  KeyArn: KEY_ARN,
  KeySpec: 'SYMMETRIC_DEFAULT',
  SecretId: SECRET_ARN,
  WrappingKeySpec: 'RSA_2048',
  WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
  ...overrides,
});
const create = (p = props()): ProviderEvent => ({ RequestType: 'Create', ResourceProperties: p });
const update = (p: ImportProperties, old: ImportProperties): ProviderEvent => ({
  RequestType: 'Update', PhysicalResourceId: KEY_ARN, ResourceProperties: p, OldResourceProperties: old,
});

let material: Buffer;
let logged: string[];

beforeEach(() => {
  kms.reset();
  secrets.reset();
  material = symmetricMaterial();
  // Like the SDK, every call returns a fresh buffer (the handler zeroes the one it got).
  secrets.on(GetSecretValueCommand).callsFake(() => ({ SecretBinary: new Uint8Array(material) }));
  kms.on(GetParametersForImportCommand).resolves({ KeyId: KEY_ARN, ImportToken: new Uint8Array(TOKEN), PublicKey: new Uint8Array(wrapping.publicKeyDer) });
  kms.on(ImportKeyMaterialCommand).resolves({ KeyId: KEY_ARN, KeyMaterialId: 'a'.repeat(64) });
  logged = [];
  jest.spyOn(console, 'log').mockImplementation((...args) => { logged.push(args.join(' ')); });
  jest.spyOn(console, 'error').mockImplementation((...args) => { logged.push(args.join(' ')); });
});
afterEach(() => jest.restoreAllMocks());

/** Runs the handler with fake timers (retry waits pass at once) and returns its error message, failing if it succeeded. */
async function failure(event: ProviderEvent): Promise<string> {
  jest.useFakeTimers();
  try {
    const settled = handler(event).then(() => undefined, (e: Error) => e);
    await jest.runAllTimersAsync();
    const error = await settled;
    if (!error) throw new Error('expected the handler to fail');
    return error.message;
  } finally {
    jest.useRealTimers();
  }
}

function unwrapSentMaterial(call = 0): Buffer {
  const input = kms.commandCalls(ImportKeyMaterialCommand)[call].args[0].input;
  return privateDecrypt({ key: wrapping.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, input.EncryptedKeyMaterial!);
}

describe('Create', () => {
  test('reads the secret, imports the wrapped material and returns the key ARN and id', async () => {
    const response = await handler(create());
    expect(response).toEqual({
      PhysicalResourceId: KEY_ARN,
      Data: { KeyArn: KEY_ARN, KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', KeyMaterialId: 'a'.repeat(64) },
    });
    expect(secrets.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: SECRET_ARN, VersionStage: undefined });
    expect(kms.commandCalls(GetParametersForImportCommand)[0].args[0].input).toEqual({
      KeyId: KEY_ARN, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    });
    const input = kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input;
    expect(input).toMatchObject({ KeyId: KEY_ARN, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ImportType: 'NEW_KEY_MATERIAL', ValidTo: undefined });
    expect(Buffer.from(input.ImportToken!)).toEqual(TOKEN);
    expect(unwrapSentMaterial()).toEqual(material);
  });

  test('wipes the SecretBinary the SDK returned once the material is wrapped', async () => {
    const returned = new Uint8Array(material);
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: returned });
    await handler(create());
    expect(unwrapSentMaterial()).toEqual(material);
    expect(returned.every((byte) => byte === 0)).toBe(true);
  });

  test('makes exactly three API calls, the secret read and GetParametersForImport in parallel', async () => {
    let inFlight = 0;
    let peak = 0;
    const slow = <T>(value: T) => async () => {
      inFlight++; peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return value;
    };
    secrets.on(GetSecretValueCommand).callsFake(slow({ SecretBinary: new Uint8Array(material) }));
    kms.on(GetParametersForImportCommand).callsFake(slow({ ImportToken: new Uint8Array(TOKEN), PublicKey: new Uint8Array(wrapping.publicKeyDer) }));
    await handler(create());
    expect(peak).toBe(2);
    expect(secrets.calls().length + kms.calls().length).toBe(3);
  });

  test('sends ValidTo in whole seconds with KEY_MATERIAL_EXPIRES', async () => {
    const validTo = new Date(Date.now() + 30 * 24 * 3600 * 1000);
    validTo.setUTCMilliseconds(789);
    await handler(create(props({ ValidTo: validTo.toISOString() })));
    const input = kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input;
    expect(input.ExpirationModel).toBe('KEY_MATERIAL_EXPIRES');
    expect(input.ValidTo).toEqual(new Date(validTo.getTime() - 789));
    expect((input.ValidTo as Date).getTime() % 1000).toBe(0);
  });

  test('reads a JSON field holding base64, at the given version stage', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ material: material.toString('base64') }) });
    await handler(create(props({ JsonField: 'material', VersionStage: 'AWSPENDING' })));
    expect(secrets.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: SECRET_ARN, VersionStage: 'AWSPENDING' });
    expect(unwrapSentMaterial()).toEqual(material);
  });

  test('fetches a fresh token once when the first one expired', async () => {
    kms.on(ImportKeyMaterialCommand)
      .rejectsOnce(Object.assign(new Error('expired'), { name: 'ExpiredImportTokenException' }))
      .resolves({ KeyId: KEY_ARN });
    await handler(create());
    expect(kms.commandCalls(GetParametersForImportCommand)).toHaveLength(2);
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(2);
    expect(unwrapSentMaterial(1)).toEqual(material);
  });
});

describe('eventual consistency right after the key or the policies were created', () => {
  const notFound = () => Object.assign(new Error('not yet'), { name: 'NotFoundException' });
  const denied = () => Object.assign(new Error('not yet'), { name: 'AccessDeniedException' });

  test('a NotFoundException from GetParametersForImport on Create is retried until the key is visible', async () => {
    kms.on(GetParametersForImportCommand).rejectsOnce(notFound()).rejectsOnce(notFound())
      .resolves({ ImportToken: new Uint8Array(TOKEN), PublicKey: new Uint8Array(wrapping.publicKeyDer) });
    const waits: number[] = [];
    const result = await importKeyMaterial({ kms: new KMSClient({}), secrets: new SecretsManagerClient({}) }, withDefaults(props()), 'NEW_KEY_MATERIAL',
      { sleep: async (ms) => { waits.push(ms); } });
    expect(result.keyArn).toBe(KEY_ARN);
    expect(waits).toEqual([1000, 2000]);
    expect(kms.commandCalls(GetParametersForImportCommand)).toHaveLength(3);
    expect(unwrapSentMaterial()).toEqual(material);
  });

  test('an AccessDeniedException while a new secret policy propagates is retried, then reported', async () => {
    secrets.on(GetSecretValueCommand).rejects(denied());
    const message = await failure(create());
    expect(message).toMatch(/\(AccessDeniedException\): the import handler may not read the secret/);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(CONSISTENCY_RETRY_DELAYS_MS.length + 1);
  });

  test('a NotFoundException on a re-import is not retried: the key is gone', async () => {
    kms.on(GetParametersForImportCommand).rejects(notFound());
    const message = await failure(update(props(), props()));
    expect(message).toMatch(/\(NotFoundException\): the KMS key does not exist/);
    expect(kms.commandCalls(GetParametersForImportCommand)).toHaveLength(1);
  });
});

describe('Update', () => {
  test('a new expiration re-imports the same material into the same key, without deleting it', async () => {
    const later = new Date(Date.now() + 60 * 24 * 3600 * 1000);
    later.setUTCMilliseconds(0);
    const response = await handler(update(props({ ValidTo: later.toISOString() }), props()));
    expect(response.PhysicalResourceId).toBe(KEY_ARN);
    const input = kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input;
    expect(input).toMatchObject({ KeyId: KEY_ARN, ImportType: 'EXISTING_KEY_MATERIAL', ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: later });
    expect(kms.calls().map((c) => c.args[0].constructor.name)).toEqual(['GetParametersForImportCommand', 'ImportKeyMaterialCommand']);
  });

  test.each([
    ['a replaced key (no material yet)', props(), props({ KeyArn: KEY_ARN.replace('1234abcd', '9999abcd') })],
    ['a rollback to the old key (which holds the material)', props({ KeyArn: KEY_ARN.replace('1234abcd', '9999abcd') }), props()],
  ])('another key, as for %s, gets a new physical id and no ImportType: KMS decides NEW or EXISTING', async (_name, old, next) => {
    const response = await handler(update(next, old));
    expect(response.PhysicalResourceId).toBe(next.KeyArn);
    expect(kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input.KeyId).toBe(next.KeyArn);
    expect(kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input).not.toHaveProperty('ImportType', expect.anything());
  });

  test.each([
    ['HMAC_256', () => Buffer.concat([material, material]), 'RSAES_OAEP_SHA_256'],
    ['RSA_2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'der', type: 'pkcs8' }), 'RSA_AES_KEY_WRAP_SHA_256'],
    ['ECC_NIST_P256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'der', type: 'pkcs8' }), 'RSAES_OAEP_SHA_256'],
  ])('%s keys are imported without ImportType, on Create and on Update', async (KeySpec, stored, WrappingAlgorithm) => {
    const der = stored();
    secrets.on(GetSecretValueCommand).callsFake(() => ({ SecretBinary: new Uint8Array(der) }));
    await handler(create(props({ KeySpec, WrappingAlgorithm })));
    await handler(update(props({ KeySpec, WrappingAlgorithm }), props({ KeySpec, WrappingAlgorithm })));
    for (const call of kms.commandCalls(ImportKeyMaterialCommand)) expect(call.args[0].input.ImportType).toBeUndefined();
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(2);
  });
});

describe('Delete', () => {
  test.each([
    ['an imported key', KEY_ARN],
    ['a Create that failed', 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED'],
  ])('succeeds without any API call for %s', async (_name, physicalId) => {
    kms.onAnyCommand().rejects(Object.assign(new Error('gone'), { name: 'NotFoundException' }));
    const response = await handler({ RequestType: 'Delete', PhysicalResourceId: physicalId, ResourceProperties: props() });
    expect(response.PhysicalResourceId).toBe(physicalId);
    expect(kms.calls()).toHaveLength(0);
    expect(secrets.calls()).toHaveLength(0);
  });
});

describe('errors become one actionable sentence', () => {
  const kmsErrors: Array<[string, RegExp]> = [
    ['DependencyTimeoutException', /timed out.*Retry the deployment/],
    ['ExpiredImportTokenException', /expired.*Retry the deployment/],
    ['IncorrectKeyMaterialException', /differs from the material this key already holds.*Put the original material back/],
    ['InvalidArnException', /not a valid KMS key ARN/],
    ['InvalidCiphertextException', /could not unwrap.*wrappingAlgorithm/],
    ['InvalidImportTokenException', /import token.*does not belong to this key/],
    ['KMSInternalException', /internal error.*Retry the deployment/],
    ['KMSInvalidStateException', /state that does not accept imports.*Cancel its deletion or enable it/],
    ['NotFoundException', /does not exist.*Restore the key, or remove/],
    ['UnsupportedOperationException', /Origin is not EXTERNAL/],
  ];

  test.each(kmsErrors)('ImportKeyMaterial %s', async (name, expected) => {
    kms.on(ImportKeyMaterialCommand).rejects(Object.assign(new Error(`raw KMS text ${TOKEN.toString('base64')}`), { name }));
    const message = await failure(create());
    expect(message).toMatch(new RegExp(`^ImportKeyMaterial failed for KMS key ${KEY_ARN} \\(${name}\\): `));
    expect(message).toMatch(expected);
    expect(message).not.toContain('raw KMS text');
  });

  test.each(kmsErrors.filter(([name]) => ['NotFoundException', 'KMSInvalidStateException', 'UnsupportedOperationException', 'InvalidArnException'].includes(name)))(
    'GetParametersForImport %s', async (name, expected) => {
      kms.on(GetParametersForImportCommand).rejects(Object.assign(new Error('raw'), { name }));
      const message = await failure(create());
      expect(message).toMatch(new RegExp(`^GetParametersForImport failed for KMS key ${KEY_ARN} \\(${name}\\): `));
      expect(message).toMatch(expected);
      expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
    });

  test.each([
    ['ResourceNotFoundException', /does not exist.*fix the secret and versionStage/],
    ['AccessDeniedException', /may not read the secret/],
    ['DecryptionFailure', /could not decrypt the secret/],
    ['InvalidRequestException', /scheduled for deletion.*RestoreSecret/],
    ['InternalServiceError', /internal error.*Retry/],
  ])('Secrets Manager %s', async (name, expected) => {
    secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('raw'), { name }));
    const message = await failure(create());
    expect(message).toMatch(new RegExp(`^Could not read the key material from secret ${SECRET_ARN} \\(${name}\\): `));
    expect(message).toMatch(expected);
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
  });

  test('material of the wrong length is refused before any import, without echoing it', async () => {
    const wrong = Buffer.concat([material, Buffer.from([1, 2, 3])]);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: wrong.toString('base64') });
    const message = await failure(create());
    expect(message).toBe('SYMMETRIC_DEFAULT key material must be exactly 32 bytes; found 35 bytes.');
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
    expectNoLeak(message + logged.join('\n'), wrong);
  });

  test('an expiration that passed since synth is refused before any call', async () => {
    const message = await failure(create(props({ ValidTo: '2020-01-01T00:00:00Z' })));
    expect(message).toMatch(/expiration 2020-01-01T00:00:00Z is in the past.*Move the expiration forward/);
    expect(kms.calls()).toHaveLength(0);
  });

  test('an unexpected error is replaced by a generic message', async () => {
    kms.on(ImportKeyMaterialCommand).rejects(new TypeError(`boom ${material.toString('hex')}`));
    const message = await failure(create());
    expect(message).toMatch(/\(TypeError\): an unexpected error occurred/);
    expectNoLeak(message, material);
  });
});

describe('nothing secret leaves the handler', () => {
  test('logs, responses and errors never hold material, wrapped material or the import token', async () => {
    const outputs: string[] = [];
    outputs.push(JSON.stringify(await handler(create())));
    const wrapped = Buffer.from(kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input.EncryptedKeyMaterial!);
    kms.on(ImportKeyMaterialCommand).rejects(Object.assign(new Error('x'), { name: 'IncorrectKeyMaterialException' }));
    outputs.push(await failure(update(props(), props())));
    expectNoLeak(outputs.join('\n') + logged.join('\n'), material, wrapped, TOKEN);
    expect(logged.length).toBeGreaterThan(0);
  });
});
