/**
 * Offline wrapping, the publish path on real emulators: local-kms gives the import parameters,
 * moto's S3 holds the set. openssl plays the HSM: it wraps fresh material under the published public
 * key, and KMS accepts it with the published token, so the set is exactly what a ceremony needs.
 * (This test imports directly; the import through the handler is test/emulator/offline-ceremony.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DescribeKeyCommand, ImportKeyMaterialCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { OFFLINE_FOLDER, offlinePrefix, PARAMETER_FILE, ParameterManifest, withDefaults } from '../../lib/shared/contract';
import { publishParameters, OfflineClients } from '../../lambda/operations/publish-parameters';
import { EMULATOR_REGION } from '../../tools/emulators';
import { OfflineEmulators } from '../support/offline-emulators';

const BUCKET = 'ceremonies';
const emulators = new OfflineEmulators(BUCKET);
let clients: OfflineClients;
beforeAll(() => { clients = emulators.clients; });

async function read(key: string): Promise<Buffer> {
  const object = await clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

async function externalKey(): Promise<string> {
  return (await clients.kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.Arn!;
}

const propsOf = (keyArn: string, validTo?: string) =>
  withDefaults({ KeyArn: keyArn, ParameterBucket: BUCKET, WrappingKeySpec: 'RSA_2048', ValidTo: validTo });

test('a Create publishes a complete set; openssl wraps under its public key and KMS imports it with its token', async () => {
  const keyArn = await externalKey();
  const validTo = new Date(Date.now() + 30 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const result = await publishParameters(clients, propsOf(keyArn, validTo));
  expect(result.imported).toBe(false);
  // A second set published at once (a re-sent Create) lands beside the first, never over it.
  const second = await publishParameters(clients, propsOf(keyArn, validTo));
  expect(result.reason).toMatch(/^published the import-parameter set s3:\/\/ceremonies\/eu-west-2\/[0-9a-f-]+\/parameters\/.+, valid until .+; the key waits for the wrapped material$/);

  const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}` }));
  // The newest set: local-kms voids a key's earlier token once a newer one is issued (docs/emulators.md).
  const setPrefix = `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}${second.parameterSet}/`;
  const names = (listed.Contents ?? []).filter((o) => o.Key!.startsWith(setPrefix)).map((o) => o.Key!.split('/').pop()).sort();
  expect(names).toEqual([PARAMETER_FILE.IMPORT_TOKEN, PARAMETER_FILE.MANIFEST, PARAMETER_FILE.PUBLIC_KEY_DER, PARAMETER_FILE.PUBLIC_KEY_PEM].sort());
  expect(listed.Contents).toHaveLength(8);
  const manifest = JSON.parse((await read(`${setPrefix}${PARAMETER_FILE.MANIFEST}`)).toString()) as ParameterManifest;
  expect(manifest).toMatchObject({
    keyArn, region: EMULATOR_REGION, keySpec: 'SYMMETRIC_DEFAULT', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048',
    materialFormat: '32 random bytes (a 256-bit AES key), raw', expirationModel: 'KEY_MATERIAL_EXPIRES', validTo,
  });
  const hoursLeft = (new Date(manifest.parametersValidTo).getTime() - Date.now()) / 3_600_000;
  expect(hoursLeft).toBeGreaterThan(23);
  expect(hoursLeft).toBeLessThanOrEqual(24);
  const files: Record<string, Buffer> = {};
  for (const name of [PARAMETER_FILE.PUBLIC_KEY_DER, PARAMETER_FILE.PUBLIC_KEY_PEM, PARAMETER_FILE.IMPORT_TOKEN]) {
    files[name] = await read(`${setPrefix}${name}`);
    expect(manifest.sha256[name]).toBe(createHash('sha256').update(files[name]).digest('hex'));
  }
  // The PEM is the DER, and the key is the RSA_2048 wrapping key asked for.
  const fromPem = createPublicKey(files[PARAMETER_FILE.PUBLIC_KEY_PEM]);
  expect(fromPem.export({ format: 'der', type: 'spki' })).toEqual(files[PARAMETER_FILE.PUBLIC_KEY_DER]);
  expect(fromPem.asymmetricKeyDetails?.modulusLength).toBe(2048);

  // openssl as the HSM: wrap 32 fresh bytes with RSAES_OAEP_SHA_256 under the published key.
  const dir = mkdtempSync(join(tmpdir(), 'hsm-'));
  writeFileSync(join(dir, 'material.bin'), randomBytes(32));
  writeFileSync(join(dir, 'wrapping.pem'), files[PARAMETER_FILE.PUBLIC_KEY_PEM]);
  execFileSync('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', join(dir, 'wrapping.pem'), '-in', join(dir, 'material.bin'),
    '-out', join(dir, 'wrapped.bin'), '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256']);
  await clients.kms.send(new ImportKeyMaterialCommand({
    KeyId: keyArn, ImportToken: files[PARAMETER_FILE.IMPORT_TOKEN], EncryptedKeyMaterial: readFileSync(join(dir, 'wrapped.bin')),
    ExpirationModel: manifest.expirationModel, ValidTo: new Date(manifest.validTo!),
  }));
  const key = (await clients.kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata!;
  expect(key.KeyState).toBe('Enabled');

  // Nothing secret-adjacent in what goes back to CloudFormation or the log: no token, no public key.
  const response = JSON.stringify(result);
  for (const secretish of [files[PARAMETER_FILE.IMPORT_TOKEN], files[PARAMETER_FILE.PUBLIC_KEY_DER]]) {
    expect(response).not.toContain(secretish.toString('base64').slice(0, 24));
    expect(response).not.toContain(secretish.toString('hex').slice(0, 24));
  }

  // The key now holds the requested expiration: the same request (a re-sent Create, a no-op Update) publishes nothing.
  const again = await publishParameters(clients, propsOf(keyArn, validTo));
  expect(again.reason).toBe('the key already holds material with the requested expiration; no parameter set was needed');
  // An expiration change needs a fresh wrap: a new set, for a re-import of the same material.
  // (Within the same second as the first: KMS reports ParametersValidTo in whole seconds, and sets must not collide.)
  const moved = await publishParameters(clients, propsOf(keyArn));
  expect(moved.reason).toMatch(/^published the import-parameter set/);
  expect(moved.reason).not.toContain(setPrefix);
  const sets = await clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}`, Delimiter: '/' }));
  expect(sets.CommonPrefixes).toHaveLength(3);
}, 60_000);

test('a set cannot be written: the deploy fails with one sentence naming the bucket', async () => {
  const keyArn = await externalKey();
  await expect(publishParameters(clients, withDefaults({ KeyArn: keyArn, ParameterBucket: 'no-such-bucket', WrappingKeySpec: 'RSA_2048' })))
    .rejects.toThrow(/^Could not write the import-parameter set of .+ to s3:\/\/no-such-bucket\/.+ \(NoSuchBucket\)\. Check that the bucket exists/);
});
