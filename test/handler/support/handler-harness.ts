/**
 * The handler against aws-sdk-client-mock: Secrets Manager returns `state.material`, and KMS is the
 * stateful model of one key in ./kms-model.ts (installed anew by resetHarness), which imports,
 * rotates, lists and deletes materials as the KMS API reference documents. `state.key` is
 * DescribeKey's view of that key; assigning a view (e.g. `holding(...)`) puts the model in that
 * state, holding the current secret material. Tests that need another answer override a command
 * with `kms.on(X)`; `kms` and `secrets` stay the mocks, so call assertions work as before.
 */
import { ImportKeyMaterialCommand, KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { constants, privateDecrypt } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, ProviderEvent } from '../../../lambda';
import { ImportProperties } from '../../../lib/shared/contract';
import { symmetricMaterial, wrappingKeyPair } from '../../support/keys';
import { awsError, KmsModel } from './kms-model';

export { awsError };
export const kms = mockClient(KMSClient);
export const secrets = mockClient(SecretsManagerClient);
export const wrapping = wrappingKeyPair(2048);
export const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
export const OTHER_KEY_ARN = KEY_ARN.replace('1234abcd', '9999abcd');
export const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/kms-material-AbCdEf';
export const TOKEN = Buffer.from('import-token-bytes-that-must-not-leak');
export const MATERIAL_ID = 'a'.repeat(64);
/** The KMS model; its key (kmsKey) is the one every KeyId names unless a test asks for a key per ARN. A key's first material gets MATERIAL_ID. */
export const kmsModel = new KmsModel({ keyArn: KEY_ARN, wrapping, importToken: TOKEN, firstMaterialId: MATERIAL_ID });
export const kmsKey = kmsModel.key;

export const props = (overrides: Partial<ImportProperties> = {}): ImportProperties => ({
  KeyArn: KEY_ARN,
  KeySpec: 'SYMMETRIC_DEFAULT',
  SecretId: SECRET_ARN,
  WrappingKeySpec: 'RSA_2048',
  WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
  ...overrides,
});
export const create = (p = props()): ProviderEvent => ({ RequestType: 'Create', ResourceProperties: p });
export const update = (p: ImportProperties, old: ImportProperties): ProviderEvent => ({
  RequestType: 'Update', PhysicalResourceId: old.KeyArn, ResourceProperties: p, OldResourceProperties: old,
});

/** An ISO date `days` from now in whole seconds, as the construct writes ValidTo. */
export const inDays = (days: number): string => new Date(Math.floor(Date.now() / 1000) * 1000 + days * 86_400_000).toISOString().replace('.000Z', 'Z');

/** DescribeKey's view of a key holding material with this expiration (undefined: never expires). */
export const holding = (validTo?: string, KeyState = 'Enabled'): KeyMetadata => ({
  KeyId: KEY_ARN, KeyState: KeyState as 'Enabled', CurrentKeyMaterialId: MATERIAL_ID,
  ExpirationModel: validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE', ValidTo: validTo ? new Date(validTo) : undefined,
});

interface HarnessState {
  /** What the secret holds (GetSecretValue returns a fresh copy each time). */
  material: Buffer;
  /** DescribeKey's view of the key; assigning a view forces the model into it (KmsKeyModel.force), holding `material`. */
  key: KeyMetadata;
}
export const state: HarnessState = {
  material: Buffer.alloc(0),
  get key(): KeyMetadata { return kmsKey.describeKey({ KeyId: KEY_ARN }).KeyMetadata; },
  set key(view: KeyMetadata) { kmsKey.force(view, state.material); },
};
/** Everything written to the console or to stdout/stderr, objects serialised. */
export const output: string[] = [];

export function resetHarness(): void {
  kms.reset();
  secrets.reset();
  state.material = symmetricMaterial();
  kmsModel.reset();
  kmsModel.install(kms);
  // Like the SDK, every call returns a fresh buffer (the handler zeroes the one it got).
  secrets.on(GetSecretValueCommand).callsFake(() => ({ SecretBinary: new Uint8Array(state.material) }));
  output.length = 0;
  const capture = (...args: unknown[]) => { output.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')); };
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) jest.spyOn(console, method).mockImplementation(capture);
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => { capture(String(chunk)); return true; });
  }
}

/** Runs the handler with fake timers (retry waits pass at once) and returns its error message, failing if it succeeded. */
export async function failure(event: ProviderEvent): Promise<string> {
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

/** Runs the handler with fake timers and returns its response. */
export async function success(event: ProviderEvent) {
  return withFakeTimers(() => handler(event));
}

/** Runs `run` with fake timers (retry waits pass at once) and returns what it settles to. */
export async function withFakeTimers<T>(run: () => Promise<T>): Promise<T> {
  jest.useFakeTimers();
  try {
    const settled = run();
    await jest.runAllTimersAsync();
    return await settled;
  } finally {
    jest.useRealTimers();
  }
}

/** The material the handler sent in ImportKeyMaterial call `call`, unwrapped with the test wrapping key. */
export function unwrapSentMaterial(call = 0, privateKey = wrapping.privateKey): Buffer {
  const input = kms.commandCalls(ImportKeyMaterialCommand)[call].args[0].input;
  return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, input.EncryptedKeyMaterial!);
}

/** The KMS calls made, in order, by operation name. */
export const kmsCalls = () => kms.calls().map((c) => c.args[0].constructor.name.replace(/Command$/, ''));
