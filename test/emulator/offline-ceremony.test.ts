/**
 * The offline-wrapping ceremony end to end on local-kms (KMS) and moto (S3, EventBridge), through
 * the REAL handler bundle: a stack with KeyMaterial.fromOfflineWrapping is synthesized and its
 * Create publishes the set; the bundled CLI downloads it and prints the recipe; openssl, playing the
 * HSM, runs the printed openssl commands literally on 32 random bytes; the CLI uploads and waits.
 * No emulator delivers S3 -> EventBridge -> Lambda, so the test does what the stack's rule would:
 * it sends S3's "Object Created" event, in the shape the S3 user guide documents for EventBridge
 * to the handler.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ImportedKmsKey, KeyMaterial, KeyMaterialExpiration, WrappingKeySpec } from '../../lib';
import { OFFLINE_FOLDER, offlinePrefix, PARAMETER_FILE, UPLOAD_FILE, UploadResult } from '../../lib/shared/contract';
import { importUpload, S3ObjectCreatedEvent, UploadOutcome } from '../../lambda/operations/import-upload';
import { EmulatedDeployment, Outcome } from '../../tools/emulated-deployment';
import { EmulatorHarness } from '../support/emulator-harness';
import { expectNoLeak } from '../support/keys';
import { opensslRecipe, runCli, runRecipe } from '../support/operator-cli';

const harness = new EmulatorHarness();
const BUCKET = 'ceremony-parameters';
let bucket: S3Client;
let eventBridge: EventBridgeClient;
let deployment: EmulatedDeployment;
/** Everything the CLI printed. */
const transcript: string[] = [];
/** Bytes that must never appear anywhere: tokens, public keys, blobs, material. */
const secrets: Buffer[] = [];

const env = () => ({
  AWS_REGION: harness.emulators.env.AWS_REGION, AWS_ACCESS_KEY_ID: 'emulator', AWS_SECRET_ACCESS_KEY: 'emulator',
  AWS_ENDPOINT_URL_S3: harness.emulators.secretsEndpoint, AWS_ENDPOINT_URL_KMS: harness.emulators.kmsEndpoint,
});
const cli = (...args: string[]) => runCli(args, env(), transcript);

beforeAll(async () => {
  const config = { region: harness.emulators.env.AWS_REGION, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' }, endpoint: harness.emulators.secretsEndpoint };
  bucket = new S3Client({ ...config, forcePathStyle: true });
  eventBridge = new EventBridgeClient(config);
  await bucket.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: config.region as 'eu-west-2' } }));
  await bucket.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  // A bucket passed by name, as an operator's organisation may own it; moto serves its S3 and the default event bus.
  deployment = await harness.deployStack((stack) => {
    const parameters = s3.Bucket.fromBucketName(stack, 'Parameters', BUCKET);
    new ImportedKmsKey(stack, 'Offline', {
      keyMaterial: KeyMaterial.fromOfflineWrapping({ bucket: parameters }), expiration: KeyMaterialExpiration.at(harness.inDays(30)), wrappingKeySpec: WrappingKeySpec.RSA_2048,
    });
    new ImportedKmsKey(stack, 'Other', { keyMaterial: KeyMaterial.fromOfflineWrapping({ bucket: parameters }), wrappingKeySpec: WrappingKeySpec.RSA_2048 });
  });
  deployment.envOverrides = { AWS_ENDPOINT_URL_S3: harness.emulators.secretsEndpoint, AWS_ENDPOINT_URL_EVENTBRIDGE: harness.emulators.secretsEndpoint };
  const created = await harness.invoke(deployment, deployment.createEvent('Offline'), deployment.createEvent('Other'));
  expect(created.map((o) => o.status)).toEqual(['SUCCESS', 'SUCCESS']);
  for (const id of ['Offline', 'Other']) {
    for (const file of [PARAMETER_FILE.IMPORT_TOKEN, PARAMETER_FILE.PUBLIC_KEY_DER]) secrets.push(await read(`${setPrefix(id, await setOf(id))}${file}`));
  }
}, 60_000);
afterAll(() => { bucket?.destroy(); eventBridge?.destroy(); });

async function read(key: string): Promise<Buffer> {
  return Buffer.from(await (await bucket.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
}
const list = async (prefix: string) => ((await bucket.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);
const prefixOf = (id: string) => offlinePrefix(deployment.keyArn(id));
const setPrefix = (id: string, set: string) => `${prefixOf(id)}${OFFLINE_FOLDER.PARAMETERS}${set}/`;
async function setOf(id: string): Promise<string> {
  const manifests = (await list(`${prefixOf(id)}${OFFLINE_FOLDER.PARAMETERS}`)).filter((k) => k.endsWith(PARAMETER_FILE.MANIFEST));
  expect(manifests).toHaveLength(1);
  return manifests[0].split('/').at(-2)!;
}
const uploadKey = (id: string, set: string) => `${prefixOf(id)}${OFFLINE_FOLDER.UPLOADS}${set}/${UPLOAD_FILE}`;
const resultOf = async (id: string, set: string) => JSON.parse((await read(`${prefixOf(id)}${OFFLINE_FOLDER.RESULTS}${set}.json`)).toString()) as UploadResult;

/** S3's "Object Created" event on EventBridge as the S3 user guide documents it, for the newest version of `key`. */
async function objectCreated(key: string): Promise<S3ObjectCreatedEvent> {
  const versions = (await bucket.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: key }))).Versions!.filter((v) => v.Key === key && v.IsLatest);
  const [version] = versions;
  return {
    version: '0', id: randomBytes(16).toString('hex'), 'detail-type': 'Object Created', source: 'aws.s3', account: '111122223333',
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), region: harness.emulators.env.AWS_REGION, resources: [`arn:aws:s3:::${BUCKET}`],
    detail: {
      version: '0', bucket: { name: BUCKET },
      // The key as EventBridge sends it: not URL-encoded (decisions/upload-key.ts), ':' and all.
      object: { key, size: version.Size, etag: version.ETag!.replace(/"/g, ''), 'version-id': version.VersionId, sequencer: '617f08299329d189' },
      'request-id': 'N4N7GDK58NMKJ12R', requester: '111122223333', 'source-ip-address': '127.0.0.1', reason: 'PutObject',
    },
  } as S3ObjectCreatedEvent;
}

/**
 * What the stack's rule does: sends the event to the handler bundle. (The rule's pattern is checked
 * in test/construct/offline-wrapping.test.ts; moto's TestEventPattern answers this server's requests
 * without a Result, so the event is not matched against it here.)
 */
async function deliver(event: S3ObjectCreatedEvent): Promise<UploadOutcome> {
  const [outcome] = await harness.invoke(deployment, event);
  return succeeded(outcome) as unknown as UploadOutcome;
}
function succeeded(outcome: Outcome): object {
  if (outcome.status !== 'SUCCESS') throw new Error(`the handler failed: ${outcome.reason}`);
  return outcome.response;
}

/** Waits for the CLI's upload to land (a version newer than `known`), then delivers its event. */
async function deliverWhenUploaded(key: string, known: number): Promise<UploadOutcome> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const versions = (await bucket.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: key }))).Versions ?? [];
    if (versions.length > known) return deliver(await objectCreated(key));
    if (Date.now() > deadline) throw new Error('the CLI never uploaded');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The HSM's part: the CLI's recipe for key `id`, run literally by openssl on fresh material; returns the blob. */
async function ceremonyWrap(id: string, material: Buffer): Promise<{ blob: Buffer; hsm: string; out: string; stdout: string }> {
  const out = mkdtempSync(join(tmpdir(), 'ceremony-set-'));
  const run = await cli('parameters', '--bucket', BUCKET, '--key', deployment.keyArn(id), '--out', out, '--min-hours', '1');
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const hsm = mkdtempSync(join(tmpdir(), 'ceremony-hsm-'));
  writeFileSync(join(hsm, 'material.bin'), material);
  await runRecipe(opensslRecipe(run.stdout), hsm);
  const blob = readFileSync(join(hsm, 'wrapped-material.bin'));
  secrets.push(material, blob);
  return { blob, hsm, out, stdout: run.stdout };
}

test('deploy publishes; openssl runs the printed recipe; upload; the delivered event imports it; the CLI prints the result; a re-delivery does nothing', async () => {
  const keyArn = deployment.keyArn('Offline');
  const set = await setOf('Offline');
  expect(set).toContain(':');
  expect((await harness.describeKey(keyArn)).KeyState).toBe('PendingImport');
  const { blob, hsm, stdout } = await ceremonyWrap('Offline', randomBytes(32));
  expect(stdout).toContain(`Parameter set ${set} for ${keyArn}`);
  expect(blob).toHaveLength(256);

  // A truncated blob: the CLI refuses it, nothing is uploaded.
  writeFileSync(join(hsm, 'truncated.bin'), blob.subarray(0, 200));
  const truncated = await cli('upload', '--bucket', BUCKET, '--key', keyArn, '--file', join(hsm, 'truncated.bin'), '--wait', '5');
  expect(truncated.code).toBe(1);
  expect(truncated.stderr).toMatch(/Nothing was uploaded/);
  expect(await list(`${prefixOf('Offline')}${OFFLINE_FOLDER.UPLOADS}`)).toEqual([]);

  // The blob: uploaded by the CLI, imported by the handler on the delivered event, printed by the CLI.
  const [uploaded, outcome] = await Promise.all([
    cli('upload', '--bucket', BUCKET, '--key', keyArn, '--file', join(hsm, 'wrapped-material.bin'), '--wait', '60', '--interval', '0.2', '--json'),
    deliverWhenUploaded(uploadKey('Offline', set), 0),
  ]);
  expect(outcome).toMatchObject({ outcome: 'imported', keyArn, eventSent: true });
  expect(uploaded.stderr).toBe('');
  expect(uploaded.code).toBe(0);
  const printed = JSON.parse(uploaded.stdout) as UploadResult;
  const sentence = `Imported the uploaded material into key ${keyArn} with set ${set}, expiring at ${harness.validTo(30)}; the key is Enabled.`;
  expect(printed).toMatchObject({ outcome: 'imported', keyState: 'Enabled', sentence, upload: { key: uploadKey('Offline', set) } });
  const stored = await resultOf('Offline', set);
  expect(printed).toMatchObject(stored);

  const key = await harness.describeKey(keyArn);
  expect(key).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: harness.inDays(30) });
  const plaintext = randomBytes(48);
  expect(await harness.decrypt(keyArn, await harness.encrypt(keyArn, plaintext))).toEqual(plaintext);
  expect(EmulatedDeployment.transcript.join('\n')).toMatch(/"OfflineImports":1/);

  // EventBridge delivers at least once: the same event again imports nothing and keeps the result.
  const again = await deliver(await objectCreated(uploadKey('Offline', set)));
  expect(again.outcome).toBe('already-handled');
  expect(await resultOf('Offline', set)).toEqual(stored);
}, 120_000);

describe('refusals on the real handler leave the key as it was and say what to do', () => {
  test('a truncated blob put straight into S3, past the CLI', async () => {
    const set = await setOf('Other');
    await bucket.send(new PutObjectCommand({ Bucket: BUCKET, Key: uploadKey('Other', set), Body: randomBytes(200) }));
    const outcome = await deliver(await objectCreated(uploadKey('Other', set)));
    expect(outcome.outcome).toBe('refused');
    expect((await resultOf('Other', set)).sentence).toMatch(/^Nothing was imported: the upload is 200 bytes, but SYMMETRIC_DEFAULT material wrapped with RSAES_OAEP_SHA_256 under a RSA_2048 wrapping key is exactly 256 bytes/);
    expect((await harness.describeKey(deployment.keyArn('Other'))).KeyState).toBe('PendingImport');
  }, 60_000);

  test('a blob wrapped for another key\'s set: under this key\'s set folder local-kms cannot unwrap it; under the other set\'s name no such set exists here', async () => {
    const other = deployment.keyArn('Other');
    const otherSet = await setOf('Other');
    const offlineSet = await setOf('Offline');
    // Wrapped by the recipe of the Offline key's set, uploaded as the Other key's.
    const { blob } = await ceremonyWrap('Offline', randomBytes(32));
    await bucket.send(new PutObjectCommand({ Bucket: BUCKET, Key: uploadKey('Other', otherSet), Body: blob }));
    expect((await deliver(await objectCreated(uploadKey('Other', otherSet)))).outcome).toBe('refused');
    const refused = await resultOf('Other', otherSet);
    expect(refused).toMatchObject({ outcome: 'refused', keyState: 'PendingImport' });
    expect(refused.sentence).toMatch(new RegExp(`^ImportKeyMaterial \\(uploaded wrapped material\\) failed for KMS key ${other} \\((InvalidCiphertextException)\\): `
      + 'KMS could not unwrap the upload with this set\'s private key'));

    await bucket.send(new PutObjectCommand({ Bucket: BUCKET, Key: uploadKey('Other', offlineSet), Body: blob }));
    expect((await deliver(await objectCreated(uploadKey('Other', offlineSet)))).outcome).toBe('refused');
    expect((await resultOf('Other', offlineSet)).sentence).toMatch(new RegExp(`^No import-parameter set ${offlineSet} was published for key ${other}: the material was wrapped for another key's set`));
    expect((await harness.describeKey(other)).KeyState).toBe('PendingImport');
  }, 60_000);

  test('a lapsed set: refused from its manifest before KMS sees it (local-kms\'s own 24-hour check cannot be reached without waiting a day)', async () => {
    const set = await setOf('Other');
    const { blob } = await ceremonyWrap('Other', randomBytes(32));
    await bucket.send(new PutObjectCommand({ Bucket: BUCKET, Key: uploadKey('Other', set), Body: blob }));
    // The handler's operation in this process, with its clock 25 hours ahead (the bundle's clock cannot be moved).
    const config = { region: harness.emulators.env.AWS_REGION, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } };
    const clients = {
      kms: new KMSClient({ ...config, endpoint: harness.emulators.kmsEndpoint }), secrets: new SecretsManagerClient({ ...config, endpoint: harness.emulators.secretsEndpoint }),
      s3: bucket, events: eventBridge, kmsIn: () => { throw new Error('no other Region'); },
    };
    const outcome = await importUpload(clients, await objectCreated(uploadKey('Other', set)), undefined, () => new Date(Date.now() + 25 * 3_600_000));
    clients.kms.destroy();
    clients.secrets.destroy();
    expect(outcome.outcome).toBe('refused');
    expect((await resultOf('Other', set)).sentence).toMatch(new RegExp(`^Parameter set ${set} lapsed at .+: KMS no longer accepts its token\\. Request a fresh set`));
    expect((await harness.describeKey(deployment.keyArn('Other'))).KeyState).toBe('PendingImport');

    // That version stays refused (a re-delivery of it does nothing); nothing was lost: the operator
    // uploads the same blob again, a new version, and it imports (never expiring, as the Other key's props say).
    expect((await deliver(await objectCreated(uploadKey('Other', set)))).outcome).toBe('already-handled');
    await bucket.send(new PutObjectCommand({ Bucket: BUCKET, Key: uploadKey('Other', set), Body: blob }));
    const imported = await deliver(await objectCreated(uploadKey('Other', set)));
    expect(imported.outcome).toBe('imported');
    expect(await harness.describeKey(deployment.keyArn('Other'))).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
  }, 60_000);
});

test('leak scan: no token, public key, blob or material in any result object, handler log line or CLI output', async () => {
  const results = await list('');
  const texts = [...transcript, ...EmulatedDeployment.transcript];
  for (const key of results.filter((k) => k.includes(`/${OFFLINE_FOLDER.RESULTS}`))) texts.push((await read(key)).toString());
  expect(results.filter((k) => k.includes(`/${OFFLINE_FOLDER.RESULTS}`)).length).toBeGreaterThanOrEqual(3);
  expect(secrets.length).toBeGreaterThan(6);
  expectNoLeak(texts.join('\n'), ...secrets);
});
