/**
 * The synthesized handler bundle against third-party emulators: local-kms (KMS) and moto
 * (Secrets Manager). CloudFormation's part is played by EmulatedDeployment. local-kms offers
 * only RSA_2048 wrapping keys, so these stacks choose WrappingKeySpec.RSA_2048.
 */
import { randomBytes } from 'node:crypto';
import { CreateKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { GetResourcePolicyCommand, PutResourcePolicyCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ImportedKmsKey, KeyMaterial, KeyMaterialExpiration, WrappingKeySpec } from '../../lib';
import { EmulatedDeployment, synthesize } from '../../tools/emulated-deployment';
import { EmulatorHarness, failureOf, KeySetup } from '../support/emulator-harness';
import { expectNoLeak } from '../support/keys';
import { resolvePolicy } from '../support/policy-simulator';

jest.setTimeout(120_000);

const h = new EmulatorHarness();
const inDays = (days: number) => h.inDays(days);
const newMaterial = (length?: number) => h.newMaterial(length);
const newSecret = (value: { SecretBinary?: Uint8Array; SecretString?: string }) => h.newSecret(value);
const deploy = (keys: KeySetup[]) => h.deploy(keys);
const invoke = (deployment: EmulatedDeployment, ...events: object[]) => h.invoke(deployment, ...events);
const describe_ = (keyArn: string) => h.describeKey(keyArn);
const encrypt = (keyArn: string, plaintext: Buffer) => h.encrypt(keyArn, plaintext);
const decrypt = (keyArn: string, ciphertext: Uint8Array) => h.decrypt(keyArn, ciphertext);

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
    // local-kms reports no KeyMaterialId (README, emulator gaps): the attribute is then empty, never missing.
    expect(results[i]).toEqual({ status: 'SUCCESS', response: { PhysicalResourceId: keyArn, Data: { KeyArn: keyArn, KeyId: keyArn.split('/')[1], KeyMaterialId: '' } } });
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

test('3. After the secret changed to other material, an update fails, the key keeps its material, and the rollback succeeds', async () => {
  const secretArn = await newSecret({ SecretBinary: newMaterial() });
  const deployment = await deploy([{ id: 'Key', secretArn, expiration: KeyMaterialExpiration.at(inDays(30)) }]);
  const oldProps = deployment.properties('Key');
  await invoke(deployment, deployment.createEvent('Key'));
  const keyArn = deployment.keyArn('Key');
  const before = await encrypt(keyArn, Buffer.from('still readable'));

  await h.secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretBinary: newMaterial() }));
  const newProps = { ...oldProps, ValidTo: h.validTo(60) };
  const [result] = await invoke(deployment, deployment.updateEvent(newProps, oldProps));
  expect(failureOf(result)).toBe(`ImportKeyMaterial failed for KMS key ${keyArn} (IncorrectKeyMaterialException): KMS rejected the key material: `
    + 'it differs from the material this key already holds, and a deploy only re-imports the key\'s own material (new material for a symmetric key '
    + 'is a rotation, not a re-import: see README, "Changing the material"). Put the original material back in the secret or point versionStage at it, '
    + 'or create a new ImportedKmsKey for the new material.');
  expect((await describe_(keyArn)).ValidTo).toEqual(inDays(30));

  // CloudFormation rolls back with the old properties; the secret still holds the other material.
  const [rollback] = await invoke(deployment, deployment.updateEvent(oldProps, newProps));
  expect(rollback).toMatchObject({ status: 'SUCCESS', response: { PhysicalResourceId: keyArn } });
  const metadata = await describe_(keyArn);
  expect(metadata).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_EXPIRES' });
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
    const { KeyMetadata } = await h.kms.send(new CreateKeyCommand({ Description: 'KMS-generated' }));
    const [result] = await invoke(deployment, deployment.createEvent('Key', { KeyArn: KeyMetadata!.Arn! }));
    expect(failureOf(result)).toMatch(new RegExp(`^GetParametersForImport failed for KMS key ${KeyMetadata!.Arn} \\(UnsupportedOperationException\\): `
      + 'the KMS key does not accept imported material: its Origin is not EXTERNAL'));
  });

  test('a key pending deletion', async () => {
    const deployment = await deploy([{ id: 'Key', secretArn: await newSecret({ SecretBinary: newMaterial() }) }]);
    await h.kms.send(new ScheduleKeyDeletionCommand({ KeyId: deployment.keyArn('Key'), PendingWindowInDays: 7 }));
    const [result] = await invoke(deployment, deployment.createEvent('Key'));
    expect(failureOf(result)).toBe(`KMS key ${deployment.keyArn('Key')} is PendingDeletion, so it takes no import. To keep the key, cancel its deletion `
      + `(aws kms cancel-key-deletion --key-id ${deployment.keyArn('Key')}), enable it if it held material (aws kms enable-key --key-id ${deployment.keyArn('Key')}), then deploy again.`);
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

test('8. a locked secret (lockdown) is imported through: the synthesized resource policy is accepted, and the Create succeeds', async () => {
  const synthesized = synthesize((stack) => new ImportedKmsKey(stack, 'Key', {
    keyMaterial: KeyMaterial.fromSecret(new secretsmanager.Secret(stack, 'Material', { secretName: `locked-${randomBytes(4).toString('hex')}` }), { lockdown: {} }),
    wrappingKeySpec: WrappingKeySpec.RSA_2048,
  }));
  const deployment = new EmulatedDeployment(h.emulators, synthesized);
  await deployment.createKeys(h.kms);
  const [policy] = Object.values(synthesized.resources).filter((r) => r.Type === 'AWS::SecretsManager::ResourcePolicy');
  const [secret] = Object.values(synthesized.resources).filter((r) => r.Type === 'AWS::SecretsManager::Secret');
  const secretArn = await newSecret({ SecretBinary: newMaterial() });
  // moto stores resource policies without evaluating them: this proves the shape is accepted, not the Deny.
  const document = JSON.stringify(resolvePolicy(policy.Properties.ResourcePolicy));
  await h.secrets.send(new PutResourcePolicyCommand({ SecretId: secretArn, ResourcePolicy: document }));
  expect(JSON.parse((await h.secrets.send(new GetResourcePolicyCommand({ SecretId: secretArn }))).ResourcePolicy!)).toEqual(JSON.parse(document));
  expect(secret.Properties.Name).toMatch(/^locked-/);
  const [result] = await invoke(deployment, deployment.createEvent('Key', { SecretId: secretArn }));
  expect(result.status).toBe('SUCCESS');
  expect((await describe_(deployment.keyArn('Key'))).KeyState).toBe('Enabled');
});

test('7. no material (raw, hex or base64) ever appeared in handler output, responses or errors', () => {
  expect(h.materials.length).toBeGreaterThan(30);
  expect(EmulatedDeployment.transcript.join('').length).toBeGreaterThan(0);
  expectNoLeak([...EmulatedDeployment.transcript, JSON.stringify(h.outcomes)].join('\n'), ...h.materials);
});
