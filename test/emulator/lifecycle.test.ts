/**
 * The synthesized handler bundle against third-party emulators: local-kms (KMS) and moto
 * (Secrets Manager). CloudFormation's part is played by EmulatedDeployment. local-kms offers
 * only RSA_2048 wrapping keys, so these stacks choose WrappingKeySpec.RSA_2048.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, KMSClient, ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ImportedKmsKey, KeyMaterial, KeyMaterialExpiration, SecretKeyMaterialOptions, WrappingKeySpec } from '../../lib';
import { EmulatedDeployment, Outcome, synthesize } from '../support/emulated-deployment';
import { Emulators, startEmulators } from '../support/emulators';
import { expectNoLeak } from '../support/keys';

jest.setTimeout(120_000);

let emulators: Emulators;
let kms: KMSClient;
let secrets: SecretsManagerClient;
/** Every piece of material these tests stored, for the leak scan at the end. */
const materials: Buffer[] = [];
/** Every outcome the handler reported. */
const outcomes: Outcome[] = [];

beforeAll(async () => {
  emulators = await startEmulators();
  const config = { region: emulators.env.AWS_REGION, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } };
  kms = new KMSClient({ ...config, endpoint: emulators.kmsEndpoint });
  secrets = new SecretsManagerClient({ ...config, endpoint: emulators.secretsEndpoint });
});
afterAll(async () => {
  kms?.destroy();
  secrets?.destroy();
  await emulators?.stop();
});

/** A date `days` ahead of this test file's start, in whole seconds. */
const start = Math.floor(Date.now() / 1000) * 1000;
const inDays = (days: number) => new Date(start + days * 86_400_000);

function newMaterial(length = 32): Buffer {
  const material = randomBytes(length);
  materials.push(material);
  return material;
}

async function newSecret(value: { SecretBinary?: Uint8Array; SecretString?: string }): Promise<string> {
  const { ARN } = await secrets.send(new CreateSecretCommand({ Name: `material-${randomBytes(6).toString('hex')}`, ...value }));
  return ARN!;
}

interface KeySetup {
  readonly id: string;
  readonly secretArn: string;
  readonly options?: SecretKeyMaterialOptions;
  readonly expiration?: KeyMaterialExpiration;
}

/** Synthesizes a stack with these keys and creates the keys in the emulator. */
async function deploy(keys: KeySetup[]): Promise<EmulatedDeployment> {
  const synthesized = synthesize((stack: Stack) => keys.forEach((k) => new ImportedKmsKey(stack, k.id, {
    keyMaterial: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, `${k.id}Secret`, k.secretArn), k.options),
    expiration: k.expiration,
    wrappingKeySpec: WrappingKeySpec.RSA_2048,
    description: `emulator test ${k.id}`,
  })));
  const deployment = new EmulatedDeployment(emulators, synthesized);
  await deployment.createKeys(kms);
  return deployment;
}

async function invoke(deployment: EmulatedDeployment, ...events: object[]): Promise<Outcome[]> {
  const results = await deployment.invoke(...events);
  outcomes.push(...results);
  return results;
}

async function describe_(keyArn: string) {
  return (await kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata!;
}

async function encrypt(keyArn: string, plaintext: Buffer): Promise<Uint8Array> {
  return (await kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: plaintext }))).CiphertextBlob!;
}

async function decrypt(keyArn: string, ciphertext: Uint8Array): Promise<Buffer> {
  return Buffer.from((await kms.send(new DecryptCommand({ KeyId: keyArn, CiphertextBlob: ciphertext }))).Plaintext!);
}

function failureOf(outcome: Outcome): string {
  if (outcome.status !== 'FAILED') throw new Error(`expected FAILED, got ${JSON.stringify(outcome)}`);
  return outcome.reason;
}

test('1. Create imports from a binary secret, a base64 string secret and a JSON-field secret', async () => {
  const [binary, base64, json] = [newMaterial(), newMaterial(), newMaterial()];
  const deployment = await deploy([
    { id: 'Binary', secretArn: await newSecret({ SecretBinary: binary }) },
    { id: 'Base64', secretArn: await newSecret({ SecretString: base64.toString('base64') }), expiration: KeyMaterialExpiration.at(inDays(30)) },
    { id: 'Json', secretArn: await newSecret({ SecretString: JSON.stringify({ owner: 'payments', material: json.toString('base64') }) }), options: { jsonField: 'material' } },
  ]);
  for (const id of ['Binary', 'Base64', 'Json']) expect((await describe_(deployment.keyArn(id))).KeyState).toBe('PendingImport');

  const results = await invoke(deployment, ...['Binary', 'Base64', 'Json'].map((id) => deployment.createEvent(id)));
  for (const [i, id] of ['Binary', 'Base64', 'Json'].entries()) {
    const keyArn = deployment.keyArn(id);
    expect(results[i]).toEqual({ status: 'SUCCESS', response: { PhysicalResourceId: keyArn, Data: { KeyArn: keyArn, KeyId: keyArn.split('/')[1] } } });
    const metadata = await describe_(keyArn);
    expect(metadata).toMatchObject({ KeyState: 'Enabled', Origin: 'EXTERNAL', Description: `emulator test ${id}` });
    const plaintext = randomBytes(64);
    expect(await decrypt(keyArn, await encrypt(keyArn, plaintext))).toEqual(plaintext);
  }
  const expiring = await describe_(deployment.keyArn('Base64'));
  expect(expiring.ExpirationModel).toBe('KEY_MATERIAL_EXPIRES');
  expect(expiring.ValidTo).toEqual(inDays(30));
  expect((await describe_(deployment.keyArn('Binary'))).ExpirationModel).toBe('KEY_MATERIAL_DOES_NOT_EXPIRE');
});

test('2. An update that changes the expiration re-imports into the same key, usable before and after', async () => {
  const material = newMaterial();
  const secretArn = await newSecret({ SecretBinary: material });
  const first = await deploy([{ id: 'Key', secretArn, expiration: KeyMaterialExpiration.at(inDays(30)) }]);
  const oldProps = first.properties('Key');
  expect((await invoke(first, first.createEvent('Key')))[0].status).toBe('SUCCESS');
  const keyArn = first.keyArn('Key');
  const before = await encrypt(keyArn, Buffer.from('written before the update'));

  // The next `cdk synth` with a later expiration: same logical ids, new ValidTo.
  const second = synthesize((stack) => new ImportedKmsKey(stack, 'Key', {
    keyMaterial: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'KeySecret', secretArn)),
    expiration: KeyMaterialExpiration.at(inDays(90)),
    wrappingKeySpec: WrappingKeySpec.RSA_2048,
  }));
  const newProps = { ...Object.values(second.imports)[0].properties, KeyArn: keyArn } as typeof oldProps;
  expect(newProps.ValidTo).not.toEqual(oldProps.ValidTo);

  const [result] = await invoke(first, first.updateEvent(newProps, oldProps));
  expect(result).toMatchObject({ status: 'SUCCESS', response: { PhysicalResourceId: keyArn } });
  const metadata = await describe_(keyArn);
  expect(metadata).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_EXPIRES' });
  expect(metadata.ValidTo).toEqual(inDays(90));
  expect(await decrypt(keyArn, before)).toEqual(Buffer.from('written before the update'));
  expect(await decrypt(keyArn, await encrypt(keyArn, Buffer.from('after')))).toEqual(Buffer.from('after'));
});

test('3. An update after the secret changed to different material fails, and the key keeps its material', async () => {
  const secretArn = await newSecret({ SecretBinary: newMaterial() });
  const deployment = await deploy([{ id: 'Key', secretArn, expiration: KeyMaterialExpiration.at(inDays(30)) }]);
  const oldProps = deployment.properties('Key');
  await invoke(deployment, deployment.createEvent('Key'));
  const keyArn = deployment.keyArn('Key');
  const before = await encrypt(keyArn, Buffer.from('still readable'));

  await secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretBinary: newMaterial() }));
  const [result] = await invoke(deployment, deployment.updateEvent({ ...oldProps, ValidTo: inDays(60).toISOString().replace('.000Z', 'Z') }, oldProps));
  expect(failureOf(result)).toBe(`ImportKeyMaterial failed for KMS key ${keyArn} (IncorrectKeyMaterialException): KMS rejected the key material: `
    + 'it differs from the material this key already holds, and a key only ever accepts its original material. '
    + 'Put the original material back in the secret, or create a new ImportedKmsKey for the new material.');
  const metadata = await describe_(keyArn);
  expect(metadata.KeyState).toBe('Enabled');
  expect(metadata.ValidTo).toEqual(inDays(30));
  expect(await decrypt(keyArn, before)).toEqual(Buffer.from('still readable'));
});

describe('4. bad input fails with a clear message', () => {
  test.each([
    ['wrong-length material', () => newSecret({ SecretBinary: newMaterial(31) }), {}, () => 'SYMMETRIC_DEFAULT key material must be exactly 32 bytes; found 31 bytes.'],
    ['a non-base64 string', () => newSecret({ SecretString: 'this is not key material' }), {},
      (arn: string) => `secret ${arn}: expected base64 (or hex, or PEM), found 24 characters that are not valid in that encoding. Store the material base64-encoded, or as a SecretBinary.`],
    ['a missing JSON field', () => newSecret({ SecretString: JSON.stringify({ other: newMaterial().toString('base64') }) }), { jsonField: 'material' },
      (arn: string) => `field 'material' of secret ${arn}: the JSON SecretString has no field 'material'. Add it, or fix jsonField.`],
  ])('%s', async (_name, makeSecret, options, expected) => {
    const secretArn = await makeSecret();
    const deployment = await deploy([{ id: 'Key', secretArn, options }]);
    const [result] = await invoke(deployment, deployment.createEvent('Key'));
    expect(failureOf(result)).toBe(expected(secretArn));
    expect((await describe_(deployment.keyArn('Key'))).KeyState).toBe('PendingImport');
  });

  test('a missing secret', async () => {
    const secretArn = await newSecret({ SecretBinary: newMaterial() });
    const missing = secretArn.replace(/material-[0-9a-f]+/, 'material-gone');
    const deployment = await deploy([{ id: 'Key', secretArn: missing }]);
    const [result] = await invoke(deployment, deployment.createEvent('Key'));
    expect(failureOf(result)).toBe(`Could not read the key material from secret ${missing} (ResourceNotFoundException): `
      + 'the secret (or the requested version stage) does not exist. Create it, or fix the secret and versionStage given to KeyMaterial.fromSecret.');
  });

  test('a key that is not EXTERNAL', async () => {
    const deployment = await deploy([{ id: 'Key', secretArn: await newSecret({ SecretBinary: newMaterial() }) }]);
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'KMS-generated' }));
    const [result] = await invoke(deployment, deployment.createEvent('Key', { KeyArn: KeyMetadata!.Arn! }));
    expect(failureOf(result)).toMatch(new RegExp(`^GetParametersForImport failed for KMS key ${KeyMetadata!.Arn} \\(UnsupportedOperationException\\): `
      + 'the KMS key does not accept imported material: its Origin is not EXTERNAL'));
  });

  test('a key pending deletion', async () => {
    const deployment = await deploy([{ id: 'Key', secretArn: await newSecret({ SecretBinary: newMaterial() }) }]);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: deployment.keyArn('Key'), PendingWindowInDays: 7 }));
    const [result] = await invoke(deployment, deployment.createEvent('Key'));
    expect(failureOf(result)).toMatch(/\(KMSInvalidStateException\): the KMS key is in a state that does not accept imports .*Cancel its deletion/);
  });
});

describe('5. deletes and rollbacks succeed', () => {
  test('Delete after a failed Create, and Delete of a key that is already gone', async () => {
    const deployment = await deploy([{ id: 'Key', secretArn: await newSecret({ SecretString: 'not material' }) }]);
    const props = deployment.properties('Key');
    expect((await invoke(deployment, deployment.createEvent('Key')))[0].status).toBe('FAILED');
    const goneArn = props.KeyArn.replace(/key\/.*/, 'key/00000000-0000-0000-0000-000000000000');
    const results = await invoke(deployment,
      deployment.deleteEvent('AWSCDK::CustomResourceProviderFramework::CREATE_FAILED', props),
      deployment.deleteEvent(goneArn, { ...props, KeyArn: goneArn }));
    expect(results.map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect((await describe_(props.KeyArn)).KeyState).toBe('PendingImport');
  });

  test('an update rolled back to the old properties', async () => {
    const deployment = await deploy([{ id: 'Key', secretArn: await newSecret({ SecretBinary: newMaterial() }), expiration: KeyMaterialExpiration.at(inDays(30)) }]);
    const oldProps = deployment.properties('Key');
    const newProps = { ...oldProps, ValidTo: inDays(45).toISOString().replace('.000Z', 'Z') };
    await invoke(deployment, deployment.createEvent('Key'));
    const results = [
      ...await invoke(deployment, deployment.updateEvent(newProps, oldProps)),
      ...await invoke(deployment, deployment.updateEvent(oldProps, newProps)), // CloudFormation's rollback
    ];
    expect(results.map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS']);
    const metadata = await describe_(oldProps.KeyArn);
    expect(metadata).toMatchObject({ KeyState: 'Enabled' });
    expect(metadata.ValidTo).toEqual(inDays(30));
  });
});

test('6. 25 concurrent Creates for 25 keys all succeed', async () => {
  const keys = await Promise.all(Array.from({ length: 25 }, async (_, i) => ({ id: `Key${i}`, secretArn: await newSecret({ SecretBinary: newMaterial() }) })));
  const deployment = await deploy(keys);
  const results = await invoke(deployment, ...keys.map((k) => deployment.createEvent(k.id)));
  expect(results.filter((r) => r.status === 'SUCCESS')).toHaveLength(25);
  const states = await Promise.all(keys.map(async (k) => (await describe_(deployment.keyArn(k.id))).KeyState));
  expect(new Set(states)).toEqual(new Set(['Enabled']));
});

test('7. no material (raw, hex or base64) ever appeared in handler output, responses or errors', () => {
  expect(materials.length).toBeGreaterThan(30);
  expect(EmulatedDeployment.transcript.join('').length).toBeGreaterThan(0);
  expectNoLeak([...EmulatedDeployment.transcript, JSON.stringify(outcomes)].join('\n'), ...materials);
});
