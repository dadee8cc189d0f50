/**
 * Offline rotation on emulators: LocalStack's KMS (NEW_KEY_MATERIAL and RotateKeyOnDemand, but no
 * ListKeyRotations) and moto's S3 and EventBridge, with openssl as the HSM.
 *
 * What LocalStack can show, through the handler's own code: the first ceremony (published set,
 * openssl wrap, upload path import); and the upload path of a NEW_KEY_MATERIAL set, importing new
 * material and rotating it in, CurrentKeyMaterialId confirmed, the earlier ciphertext still
 * decrypting and a new one opened locally with the new material. What it cannot: ListKeyRotations
 * answers HTTP 501, so the deploy's rotation request (which counts the key's materials) fails there
 * with its sentence, publishing nothing and changing nothing; the NEW set is therefore written by the
 * test in the handler's layout, without a materialGeneration (the re-delivery and crash checks list
 * materials too). Those paths run on the KMS model (test/handler/offline-rotation.test.ts); the gap is
 * in docs/emulators.md. The bundled operator CLI (npm run bundle) picks the rotation's set, or one by --set.
 */
import { execFileSync } from 'node:child_process';
import { createDecipheriv, createHash, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GetParametersForImportCommand, KMSClient } from '@aws-sdk/client-kms';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { OFFLINE_FOLDER, offlinePrefix, PARAMETER_FILE, ParameterManifest, UPLOAD_FILE, UploadResult, withDefaults } from '../../lib/shared/contract';
import { publishParameters } from '../../lambda/operations/publish-parameters';
import { importUpload, UploadClients } from '../../lambda/operations/import-upload';
import { EMULATOR_REGION, Server, startMoto } from '../../tools/emulators';
import { startLocalStackKms } from '../support/localstack';
import { expectNoLeak } from '../support/keys';

jest.setTimeout(180_000);

const BUCKET = 'ceremonies';
const ACCOUNT = '000000000000';
let kmsServer: Server;
let moto: Server;
let clients: UploadClients;
let dir: string;
const CLI = resolve(__dirname, '..', '..', 'assets', 'cli', 'index.js');
/** Everything the CLI printed, for the leak scan. */
const transcript: string[] = [];

beforeAll(async () => {
  [kmsServer, moto] = await Promise.all([startLocalStackKms(), startMoto()]);
  const config = { region: EMULATOR_REGION, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } };
  clients = {
    kms: new KMSClient({ ...config, endpoint: kmsServer.endpoint }),
    secrets: new SecretsManagerClient({ ...config, endpoint: moto.endpoint }),
    s3: new S3Client({ ...config, endpoint: moto.endpoint, forcePathStyle: true }),
    events: new EventBridgeClient({ ...config, endpoint: moto.endpoint }),
  };
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: EMULATOR_REGION } }));
  await clients.s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  dir = mkdtempSync(join(tmpdir(), 'hsm-'));
});
afterAll(async () => {
  for (const client of [clients?.kms, clients?.s3, clients?.secrets, clients?.events]) client?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await Promise.all([kmsServer?.stop(), moto?.stop()]);
});

const read = async (key: string) => Buffer.from(await (await clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
const noWait = () => Promise.resolve();

/** The set folders under the key's parameters/. */
async function sets(keyArn: string): Promise<string[]> {
  const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}`, Delimiter: '/' }));
  return (listed.CommonPrefixes ?? []).map((p) => p.Prefix!.split('/').slice(-2)[0]);
}

/** openssl as the HSM: wraps `material` under the set's PEM (RSAES_OAEP_SHA_256), uploads it, and delivers S3's event to the upload path. */
async function ceremony(keyArn: string, set: string, material: Buffer): Promise<UploadResult> {
  const prefix = offlinePrefix(keyArn);
  writeFileSync(join(dir, 'material.bin'), material);
  writeFileSync(join(dir, 'wrapping.pem'), await read(`${prefix}${OFFLINE_FOLDER.PARAMETERS}${set}/${PARAMETER_FILE.PUBLIC_KEY_PEM}`));
  execFileSync('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', join(dir, 'wrapping.pem'), '-in', join(dir, 'material.bin'),
    '-out', join(dir, 'wrapped.bin'), '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256']);
  rmSync(join(dir, 'material.bin'));
  const key = `${prefix}${OFFLINE_FOLDER.UPLOADS}${set}/${UPLOAD_FILE}`;
  const put = await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(join(dir, 'wrapped.bin')) }));
  await importUpload(clients, {
    source: 'aws.s3', 'detail-type': 'Object Created', account: ACCOUNT, region: EMULATOR_REGION, resources: [`arn:aws:s3:::${BUCKET}`],
    detail: { bucket: { name: BUCKET }, object: { key, 'version-id': put.VersionId } },
  }, noWait);
  return JSON.parse((await read(`${prefix}${OFFLINE_FOLDER.RESULTS}${set}.json`)).toString()) as UploadResult;
}

/** The bundled operator CLI against moto's S3, as an operator runs it (exit code 0 expected). */
function cli(args: string[]): { stdout: string } {
  const stdout = execFileSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, HOME: tmpdir(), AWS_REGION: EMULATOR_REGION, AWS_ACCESS_KEY_ID: 'emulator', AWS_SECRET_ACCESS_KEY: 'emulator',
      AWS_ENDPOINT_URL_S3: moto.endpoint, AWS_EC2_METADATA_DISABLED: 'true' },
  }).toString();
  transcript.push(stdout);
  return { stdout };
}

/** LocalStack's symmetric ciphertext (key id, IV, tag, AES-256-GCM of the padded plaintext), opened with `material`: throws for another material. */
function openLocally(blob: Uint8Array, material: Buffer): Buffer {
  const bytes = Buffer.from(blob);
  const decipher = createDecipheriv('aes-256-gcm', material, bytes.subarray(36, 52));
  decipher.setAuthTag(bytes.subarray(52, 68));
  const padded = Buffer.concat([decipher.update(bytes.subarray(68)), decipher.final()]);
  return padded.subarray(0, padded.length - padded[padded.length - 1]);
}

test('LocalStack: the first ceremony, a rotation request failing cleanly without ListKeyRotations, and the upload path of a NEW set rotating the key', async () => {
  const keyArn = (await clients.kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.Arn!;
  const props = withDefaults({ KeyArn: keyArn, ParameterBucket: BUCKET, WrappingKeySpec: 'RSA_2048' });
  const first = randomBytes(32);
  const second = randomBytes(32);

  // The first material, through the handler's publish and upload paths.
  await publishParameters(clients, props);
  const [firstSet] = await sets(keyArn);
  const imported = await ceremony(keyArn, firstSet, first);
  expect(imported).toMatchObject({ outcome: 'imported', keyState: 'Enabled' });
  const plaintext = randomBytes(40);
  const before = (await clients.kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: plaintext }))).CiphertextBlob!;
  expect(openLocally(before, first)).toEqual(plaintext);
  const firstId = (await clients.kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata!.CurrentKeyMaterialId;

  // The rotation request counts the key's materials: LocalStack has no ListKeyRotations (501), so the deploy fails with one sentence and publishes nothing.
  await expect(publishParameters(clients, { ...props, MaterialGeneration: '2' }))
    .rejects.toThrow(/^ListKeyRotations failed for KMS key .+ \(InternalFailure\)/);
  expect(await sets(keyArn)).toEqual([firstSet]);

  // A NEW_KEY_MATERIAL set in the handler's layout (written here, since publishing it needs ListKeyRotations), wrapped by openssl, imported and rotated in by the upload path.
  const parameters = await clients.kms.send(new GetParametersForImportCommand({ KeyId: keyArn, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' }));
  const set = `${parameters.ParametersValidTo!.toISOString()}-${createHash('sha256').update(parameters.ImportToken!).digest('hex').slice(0, 16)}`;
  const setPrefix = `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}${set}/`;
  const files: Record<string, Uint8Array | string> = {
    [PARAMETER_FILE.PUBLIC_KEY_DER]: parameters.PublicKey!,
    [PARAMETER_FILE.PUBLIC_KEY_PEM]: createPublicKey({ key: Buffer.from(parameters.PublicKey!), format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }).toString(),
    [PARAMETER_FILE.IMPORT_TOKEN]: parameters.ImportToken!,
  };
  const sha256: Record<string, string> = {};
  for (const [name, body] of Object.entries(files)) {
    sha256[name] = createHash('sha256').update(body).digest('hex');
    await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${setPrefix}${name}`, Body: body }));
  }
  const manifest: ParameterManifest = {
    keyArn, region: EMULATOR_REGION, keySpec: 'SYMMETRIC_DEFAULT', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048', materialFormat: 'raw',
    parametersValidTo: parameters.ParametersValidTo!.toISOString(), expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', importType: 'NEW_KEY_MATERIAL', sha256,
  };
  await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${setPrefix}${PARAMETER_FILE.MANIFEST}`, Body: JSON.stringify(manifest) }));
  // The operator CLI: the freshest set is the rotation's, and says so; --set takes another by name.
  const fresh = cli(['parameters', '--bucket', BUCKET, '--key', keyArn, '--out', join(dir, 'fresh')]);
  expect(fresh.stdout).toContain(`Parameter set ${set} for ${keyArn}`);
  expect(fresh.stdout).toMatch(/a rotation: generate NEW material in the HSM/);
  const named = JSON.parse(cli(['parameters', '--bucket', BUCKET, '--key', keyArn, '--set', firstSet, '--out', join(dir, 'named'), '--json']).stdout) as { set: string; importType?: string };
  expect(named.set).toBe(firstSet);
  expect(named.importType).toBeUndefined();
  const rotated = await ceremony(keyArn, set, second);
  expect(rotated.outcome).toBe('imported');
  expect(rotated.sentence).toMatch(/and rotated it in: it is the key's current material/);
  const key = (await clients.kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata!;
  expect(rotated.keyMaterialId).toBe(key.CurrentKeyMaterialId);
  expect(rotated.keyMaterialId).not.toBe(firstId);
  // The earlier ciphertext still decrypts; a new one is made with the new material.
  expect(Buffer.from((await clients.kms.send(new DecryptCommand({ KeyId: keyArn, CiphertextBlob: before }))).Plaintext!)).toEqual(plaintext);
  const after = (await clients.kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: plaintext }))).CiphertextBlob!;
  expect(openLocally(after, second)).toEqual(plaintext);
  expect(() => openLocally(after, first)).toThrow();
  expectNoLeak(JSON.stringify([imported, rotated]) + transcript.join('\n'), first, second, Buffer.from(parameters.ImportToken!));
});
