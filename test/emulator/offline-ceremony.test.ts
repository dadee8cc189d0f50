/**
 * The offline-wrapping ceremony end to end on local-kms (KMS) and moto (S3, EventBridge), through
 * the REAL handler bundle: a stack with KeyMaterial.fromOfflineWrapping is synthesized and its
 * Create publishes the set; the bundled CLI downloads it and prints the recipe; openssl, playing the
 * HSM, runs the printed openssl commands literally on 32 random bytes; the CLI uploads and waits.
 * No emulator delivers S3 -> EventBridge -> Lambda: the test delivers S3's documented "Object
 * Created" event to the handler, as the stack's rule would (test/support/offline-ceremony.ts).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ImportedKmsKey, KeyMaterial, KeyMaterialExpiration, WrappingKeySpec } from '../../lib';
import { OFFLINE_FOLDER, UploadResult } from '../../lib/shared/contract';
import { importUpload } from '../../lambda/operations/import-upload';
import { EmulatedDeployment } from '../../tools/emulated-deployment';
import { EmulatorHarness } from '../support/emulator-harness';
import { expectNoLeak } from '../support/keys';
import { OfflineCeremony } from '../support/offline-ceremony';

const harness = new EmulatorHarness();
const c = new OfflineCeremony(harness);
const BUCKET = c.bucket;
let deployment: EmulatedDeployment;

beforeAll(async () => {
  deployment = await c.deploy((stack, bucket) => {
    new ImportedKmsKey(stack, 'Offline', {
      keyMaterial: KeyMaterial.fromOfflineWrapping({ bucket }), expiration: KeyMaterialExpiration.at(harness.inDays(30)), wrappingKeySpec: WrappingKeySpec.RSA_2048,
    });
    new ImportedKmsKey(stack, 'Other', { keyMaterial: KeyMaterial.fromOfflineWrapping({ bucket }), wrappingKeySpec: WrappingKeySpec.RSA_2048 });
  });
}, 60_000);

const setOf = (id: string) => c.setOf(id);
const uploadKey = (id: string, set: string) => c.uploadKey(id, set);
const resultOf = (id: string, set: string) => c.resultOf(id, set);
const deliver = (event: Parameters<OfflineCeremony['deliver']>[0]) => c.deliver(event);
const objectCreated = (key: string) => c.objectCreated(key);
const cli = (...args: string[]) => c.cli(...args);

test('deploy publishes; openssl runs the printed recipe; upload; the delivered event imports it; the CLI prints the result; a re-delivery does nothing', async () => {
  const keyArn = deployment.keyArn('Offline');
  const set = await setOf('Offline');
  expect(set).toContain(':');
  expect((await harness.describeKey(keyArn)).KeyState).toBe('PendingImport');
  const { blob, hsm, stdout } = await c.wrap('Offline', randomBytes(32));
  expect(stdout).toContain(`Parameter set ${set} for ${keyArn}`);
  expect(blob).toHaveLength(256);

  // A truncated blob: the CLI refuses it, nothing is uploaded.
  writeFileSync(join(hsm, 'truncated.bin'), blob.subarray(0, 200));
  const truncated = await cli('upload', '--bucket', BUCKET, '--key', keyArn, '--file', join(hsm, 'truncated.bin'), '--wait', '5');
  expect(truncated.code).toBe(1);
  expect(truncated.stderr).toMatch(/Nothing was uploaded/);
  expect(await c.list(`${c.prefixOf('Offline')}${OFFLINE_FOLDER.UPLOADS}`)).toEqual([]);

  // The blob: uploaded by the CLI, imported by the handler on the delivered event, printed by the CLI.
  const [uploaded, outcome] = await Promise.all([
    cli('upload', '--bucket', BUCKET, '--key', keyArn, '--file', join(hsm, 'wrapped-material.bin'), '--wait', '60', '--interval', '0.2', '--json'),
    c.deliverWhenUploaded(uploadKey('Offline', set)),
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
    await c.put(uploadKey('Other', set), randomBytes(200));
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
    const { blob } = await c.wrap('Offline', randomBytes(32));
    await c.put(uploadKey('Other', otherSet), blob);
    expect((await deliver(await objectCreated(uploadKey('Other', otherSet)))).outcome).toBe('refused');
    const refused = await resultOf('Other', otherSet);
    expect(refused).toMatchObject({ outcome: 'refused', keyState: 'PendingImport' });
    expect(refused.sentence).toMatch(new RegExp(`^ImportKeyMaterial \\(uploaded wrapped material\\) failed for KMS key ${other} \\((InvalidCiphertextException)\\): `
      + 'KMS could not unwrap the upload with this set\'s private key'));

    await c.put(uploadKey('Other', offlineSet), blob);
    expect((await deliver(await objectCreated(uploadKey('Other', offlineSet)))).outcome).toBe('refused');
    expect((await resultOf('Other', offlineSet)).sentence).toMatch(new RegExp(`^No import-parameter set ${offlineSet} was published for key ${other}: the material was wrapped for another key's set`));
    expect((await harness.describeKey(other)).KeyState).toBe('PendingImport');
  }, 60_000);

  test('a lapsed set: refused from its manifest before KMS sees it (local-kms\'s own 24-hour check cannot be reached without waiting a day)', async () => {
    const set = await setOf('Other');
    const { blob } = await c.wrap('Other', randomBytes(32));
    await c.put(uploadKey('Other', set), blob);
    // The handler's operation in this process, with its clock 25 hours ahead (the bundle's clock cannot be moved).
    const config = { region: harness.emulators.env.AWS_REGION, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } };
    const clients = {
      kms: new KMSClient({ ...config, endpoint: harness.emulators.kmsEndpoint }), secrets: new SecretsManagerClient({ ...config, endpoint: harness.emulators.secretsEndpoint }),
      s3: c.s3, events: c.events, kmsIn: () => { throw new Error('no other Region'); },
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
    await c.put(uploadKey('Other', set), blob);
    const imported = await deliver(await objectCreated(uploadKey('Other', set)));
    expect(imported.outcome).toBe('imported');
    expect(await harness.describeKey(deployment.keyArn('Other'))).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
  }, 60_000);
});

test('leak scan: no token, public key, blob or material in any result object, handler log line or CLI output', async () => {
  const results = await c.results();
  expect(results.length).toBeGreaterThanOrEqual(3);
  expect(c.secrets.length).toBeGreaterThan(6);
  expectNoLeak([...c.transcript, ...EmulatedDeployment.transcript, ...results].join('\n'), ...c.secrets);
});
