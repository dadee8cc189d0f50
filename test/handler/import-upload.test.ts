/**
 * Offline wrapping, the upload path of the handler (lambda/operations/import-upload.ts), on the
 * stateful KMS model and an in-memory versioned S3 bucket (support/memory-bucket.ts), EventBridge mocked.
 * Each test publishes a set through the handler's own Create, wraps with node:crypto as the HSM
 * would, puts the blob, and delivers S3's "Object Created" event in EventBridge's documented shape.
 */
import { constants, createPublicKey, generateKeyPairSync, KeyObject, publicEncrypt, randomBytes } from 'node:crypto';
import { ImportKeyMaterialCommand } from '@aws-sdk/client-kms';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda';
import type { S3ObjectCreatedEvent, UploadOutcome } from '../../lambda/operations/import-upload';
import { OFFLINE_FOLDER, offlinePrefix, PARAMETER_FILE, ParameterManifest, UPLOAD_FILE, UploadResult } from '../../lib/shared/contract';
import { expectNoLeak } from '../support/keys';
import {
  awsError, create, inDays, KEY_ARN, kms, kmsKey, kmsModel, MATERIAL_ID, OTHER_KEY_ARN, output, props, resetHarness, state, success, TOKEN, wrapping,
} from './support/handler-harness';
import { MemoryBucket } from './support/memory-bucket';

const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
const BUCKET = 'imported-kms-key-parameters';
const bucket = new MemoryBucket(BUCKET);
const PREFIX = offlinePrefix(KEY_ARN);
const VALID_TO = inDays(30);

/** null: never expires. */
const offlineProps = (validTo: string | null) => props({ SecretId: undefined, ParameterBucket: BUCKET, ValidTo: validTo ?? undefined });

beforeEach(() => {
  resetHarness();
  s3.reset();
  events.reset();
  bucket.clear();
  bucket.install(s3);
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'event-1' }] });
});
afterEach(() => { jest.useRealTimers(); jest.restoreAllMocks(); });

/** Publishes a set through the handler's Create and returns its folder name. */
async function publish(validTo: string | null = VALID_TO): Promise<string> {
  const before = new Set(bucket.keys());
  await success(create(offlineProps(validTo)));
  const manifest = bucket.keys().find((k) => !before.has(k) && k.endsWith(`/${PARAMETER_FILE.MANIFEST}`))!;
  return manifest.split('/').at(-2)!;
}

/** What the HSM does: RSAES_OAEP_SHA_256 under the set's public key (here the model's wrapping key). */
const wrap = (material: Buffer, publicKey: KeyObject = createPublicKey({ key: wrapping.publicKeyDer, format: 'der', type: 'spki' })) =>
  publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);

/** S3's "Object Created" event on EventBridge, as the S3 user guide documents it (ev-events). */
function objectCreated(key: string, version: { versionId?: string; etag?: string; size?: number }): S3ObjectCreatedEvent {
  return {
    version: '0', id: '17793124-05d4-b198-2fde-7ededc63b103', 'detail-type': 'Object Created', source: 'aws.s3', account: '111122223333',
    time: new Date().toISOString(), region: 'eu-west-1', resources: [`arn:aws:s3:::${BUCKET}`],
    detail: {
      version: '0', bucket: { name: BUCKET },
      object: { key, size: version.size, etag: version.etag?.replace(/"/g, ''), 'version-id': version.versionId, sequencer: '617f08299329d189' },
      'request-id': 'N4N7GDK58NMKJ12R', requester: '111122223333', 'source-ip-address': '1.2.3.4', reason: 'PutObject',
    },
  } as S3ObjectCreatedEvent;
}

/** Puts the blob where an operator would and returns the event S3 sends for it. */
function upload(set: string, blob: Buffer, { prefix = PREFIX, file = UPLOAD_FILE } = {}): S3ObjectCreatedEvent {
  const key = `${prefix}${OFFLINE_FOLDER.UPLOADS}${set}/${file}`;
  const stored = bucket.put(key, blob);
  return objectCreated(key, { versionId: stored.versionId, etag: stored.etag, size: blob.length });
}

const deliver = (event: S3ObjectCreatedEvent): Promise<UploadOutcome> => handler(event);
const resultOf = (set: string, prefix = PREFIX): UploadResult | undefined => {
  const stored = bucket.objects.get(`${prefix}${OFFLINE_FOLDER.RESULTS}${set}.json`);
  return stored && JSON.parse(stored.body.toString()) as UploadResult;
};
const imports = () => kms.commandCalls(ImportKeyMaterialCommand).map((c) => c.args[0].input);
const sentEvents = () => events.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
const metricLines = () => output.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('an upload of wrapped material', () => {
  test('is imported with the set\'s own token and the manifest\'s expiration; the key is Enabled; result, metric and event say so', async () => {
    const set = await publish();
    const material = randomBytes(32);
    const event = upload(set, wrap(material));
    const outcome = await deliver(event);

    expect(imports()).toHaveLength(1);
    const sent = imports()[0];
    expect(Buffer.from(sent.ImportToken!)).toEqual(TOKEN);
    expect(sent).toMatchObject({ KeyId: KEY_ARN, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(VALID_TO), ImportType: undefined });
    // KMS received the operator's material (the model unwrapped it); the handler zeroed its copy of the blob afterwards.
    expect(kmsKey.materials.map((m) => m.bytes)).toEqual([material]);
    expect(Buffer.from(sent.EncryptedKeyMaterial!).every((b) => b === 0)).toBe(true);
    expect(state.key.KeyState).toBe('Enabled');
    expect(state.key.ValidTo).toEqual(new Date(VALID_TO));

    const sentence = `Imported the uploaded material into key ${KEY_ARN} with set ${set}, expiring at ${VALID_TO}; the key is Enabled.`;
    expect(resultOf(set)).toEqual({
      keyArn: KEY_ARN, set, outcome: 'imported', sentence, keyMaterialId: MATERIAL_ID, keyState: 'Enabled', at: expect.any(String) as unknown,
      upload: { key: event.detail.object.key, versionId: event.detail.object['version-id'], etag: event.detail.object.etag },
    });
    expect(outcome).toEqual({ keyArn: KEY_ARN, outcome: 'imported', sentence, resultKey: `${PREFIX}results/${set}.json`, eventSent: true });
    expect(metricLines()).toHaveLength(1);
    expect(metricLines()[0]).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'ImportedKmsKey', Dimensions: [['KeyId']], Metrics: [{ Name: 'OfflineImports', Unit: 'Count' }] }] },
      OfflineImports: 1, KeyId: KEY_ARN.split('/')[1], outcome: 'imported',
    });
    expect(sentEvents()).toEqual([{
      Source: 'imported-kms-key', DetailType: 'Imported Key Material Upload Result', Resources: [KEY_ARN], Detail: expect.any(String) as unknown,
    }]);
    expect(JSON.parse(sentEvents()[0].Detail!)).toMatchObject({ outcome: 'imported', keyMaterialId: MATERIAL_ID, bucket: BUCKET });
    expect(JSON.parse(output.at(-1)!)).toMatchObject({ requestType: 'Upload', outcome: 'imported', keyArn: KEY_ARN });
  });

  test('a never-expiring set imports never-expiring material, whatever the key\'s props say by the time of the upload', async () => {
    const set = await publish(null);
    const outcome = await deliver(upload(set, wrap(randomBytes(32))));
    expect(imports()[0]).toMatchObject({ ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ValidTo: undefined });
    expect(outcome.sentence).toMatch(/, never expiring; the key is Enabled\.$/);
  });

  test('a re-import (an expiration change) sends the manifest\'s EXISTING_KEY_MATERIAL', async () => {
    state.key = { KeyId: KEY_ARN, KeyState: 'Enabled', CurrentKeyMaterialId: MATERIAL_ID, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(inDays(5)) };
    const set = await publish();
    await deliver(upload(set, wrap(state.material)));
    expect(imports()[0]).toMatchObject({ ImportType: 'EXISTING_KEY_MATERIAL', ValidTo: new Date(VALID_TO) });
    expect(resultOf(set)).toMatchObject({ outcome: 'imported', keyState: 'Enabled' });
  });

  test('the key as EventBridge sends it (\':\' unencoded) and URL-encoded, as S3 notifications send it, both name the upload', async () => {
    const set = await publish();
    const event = upload(set, wrap(randomBytes(32)));
    expect(set).toContain(':');
    const encoded = { ...event, detail: { ...event.detail, object: { ...event.detail.object, key: event.detail.object.key.replace(/:/g, '%3A') } } };
    expect((await deliver(encoded)).outcome).toBe('imported');
    expect(resultOf(set)?.upload.key).toBe(event.detail.object.key);
    // A malformed escape names nothing: ignored, no result, no import.
    const malformed = { ...event, detail: { ...event.detail, object: { ...event.detail.object, key: `${event.detail.object.key}%E0%A4%A` } } };
    expect((await deliver(malformed)).outcome).toBe('ignored');
    expect(imports()).toHaveLength(1);
  });
});

describe('a refused upload gets its sentence in results/<set>.json, and nothing is imported', () => {
  async function refused(event: S3ObjectCreatedEvent, set: string, sentence: RegExp, prefix = PREFIX): Promise<UploadResult> {
    const outcome = await deliver(event);
    expect(outcome.outcome).toBe('refused');
    const result = resultOf(set, prefix)!;
    expect(result).toMatchObject({ outcome: 'refused', set });
    expect(result.sentence).toMatch(sentence);
    expect(imports()).toHaveLength(0);
    expect(metricLines()).toHaveLength(1);
    expect(metricLines()[0]).toMatchObject({ OfflineImportRefusals: 1, outcome: 'refused' });
    expect(JSON.parse(sentEvents()[0].Detail!)).toMatchObject({ outcome: 'refused', sentence: result.sentence });
    return result;
  }

  test('a set that lapsed (ParametersValidTo passed)', async () => {
    const set = await publish();
    const event = upload(set, wrap(randomBytes(32)));
    jest.useFakeTimers({ now: Date.now() + 25 * 3_600_000 });
    const settled = deliver(event);
    await jest.runAllTimersAsync();
    expect((await settled).outcome).toBe('refused');
    jest.useRealTimers();
    expect(resultOf(set)!.sentence).toMatch(new RegExp(`^Parameter set ${set} lapsed at .+: KMS no longer accepts its token\\. Request a fresh set \\(npx imported-kms-key parameters\\)`));
    expect(imports()).toHaveLength(0);
  });

  test('a set whose manifest names another key', async () => {
    const set = await publish();
    const manifestKey = `${PREFIX}parameters/${set}/manifest.json`;
    const manifest = JSON.parse(bucket.objects.get(manifestKey)!.body.toString()) as ParameterManifest;
    bucket.put(manifestKey, JSON.stringify({ ...manifest, keyArn: OTHER_KEY_ARN }));
    await refused(upload(set, wrap(randomBytes(32))), set, new RegExp(`^Parameter set ${set} belongs to key ${OTHER_KEY_ARN}, not ${KEY_ARN}: the material was wrapped for another key\\.`));
  });

  test('a blob wrapped for this key\'s set but uploaded under another key\'s prefix', async () => {
    const set = await publish();
    const other = offlinePrefix(OTHER_KEY_ARN);
    await refused(upload(set, wrap(randomBytes(32)), { prefix: other }), set,
      new RegExp(`^No import-parameter set ${set} was published for key ${OTHER_KEY_ARN}: the material was wrapped for another key's set`), other);
    expect(resultOf(set)).toBeUndefined(); // nothing written under the key whose set it was
  });

  test('an upload under a prefix of the key id (or the id with more after it) names no key: ignored, nothing written', async () => {
    const set = await publish();
    const keyId = KEY_ARN.split('/')[1];
    for (const id of [keyId.slice(0, 8), `${keyId}0`]) {
      const outcome = await deliver(upload(set, wrap(randomBytes(32)), { prefix: `eu-west-1/${id}/` }));
      expect(outcome.outcome).toBe('ignored');
    }
    expect(bucket.keys().filter((k) => k.includes('/results/'))).toEqual([]);
    expect(imports()).toHaveLength(0);
  });

  test('a file not named wrapped-material.bin', async () => {
    const set = await publish();
    await refused(upload(set, wrap(randomBytes(32)), { file: 'material.enc' }), set,
      new RegExp(`^The upload must be named ${UPLOAD_FILE} \\(got material\\.enc\\); upload the wrapped material again as ${PREFIX}uploads/${set}/${UPLOAD_FILE}\\.$`));
  });

  test('a set name that was never published', async () => {
    await publish();
    const set = '2030-01-01T00:00:00.000Z-0123456789abcdef';
    await refused(upload(set, wrap(randomBytes(32))), set, new RegExp(`^No import-parameter set ${set} was published for key ${KEY_ARN}`));
  });

  test('an upload larger than any wrapped material', async () => {
    const set = await publish();
    await refused(upload(set, randomBytes(16 * 1024 + 1)), set, /^The upload is larger than 16384 bytes, more than any wrapped key material/);
  });

  test('a blob whose length cannot fit the algorithm and wrapping key (truncated)', async () => {
    const set = await publish();
    await refused(upload(set, wrap(randomBytes(32)).subarray(0, 255)), set,
      /^Nothing was imported: the upload is 255 bytes, but SYMMETRIC_DEFAULT material wrapped with RSAES_OAEP_SHA_256 under a RSA_2048 wrapping key is exactly 256 bytes/);
  });

  test('an import token that differs from the manifest\'s digest', async () => {
    const set = await publish();
    bucket.put(`${PREFIX}parameters/${set}/${PARAMETER_FILE.IMPORT_TOKEN}`, randomBytes(64));
    await refused(upload(set, wrap(randomBytes(32))), set, new RegExp(`^The import token of set ${set} is missing or differs from its manifest; nothing was imported\\.`));
  });
});

describe('KMS refusals become one sentence each that says what to do', () => {
  test('material wrapped under another public key: InvalidCiphertextException (the model cannot unwrap it)', async () => {
    const set = await publish();
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    await deliver(upload(set, wrap(randomBytes(32), stranger)));
    expect(resultOf(set)).toMatchObject({ outcome: 'refused', keyState: 'PendingImport' });
    expect(resultOf(set)!.sentence).toBe(`ImportKeyMaterial (uploaded wrapped material) failed for KMS key ${KEY_ARN} (InvalidCiphertextException): `
      + 'KMS could not unwrap the upload with this set\'s private key and wrapping algorithm. Wrap the material again under this set\'s public key, with the algorithm its manifest names, and upload.');
  });

  test('other material than the key holds, on a re-import: IncorrectKeyMaterialException', async () => {
    state.key = { KeyId: KEY_ARN, KeyState: 'Enabled', CurrentKeyMaterialId: MATERIAL_ID, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(inDays(5)) };
    const set = await publish();
    await deliver(upload(set, wrap(randomBytes(32))));
    expect(resultOf(set)).toMatchObject({ outcome: 'refused', keyState: 'Enabled' });
    expect(resultOf(set)!.sentence).toMatch(/\(IncorrectKeyMaterialException\): KMS refused the material: it differs from the material this key already holds .*Wrap the key's original material and upload\.$/);
  });

  test('a token KMS finds expired: ExpiredImportTokenException', async () => {
    const set = await publish();
    kms.on(ImportKeyMaterialCommand).rejects(awsError('ExpiredImportTokenException', 'raw service text'));
    await deliver(upload(set, wrap(randomBytes(32))));
    const sentence = resultOf(set)!.sentence;
    expect(sentence).toMatch(/\(ExpiredImportTokenException\): the parameter set lapsed before the import\. Request a fresh set \(npx imported-kms-key parameters\), wrap again under its public key and upload\.$/);
    expect(sentence).not.toContain('raw service text');
  });
});

describe('delivery', () => {
  test('a re-delivered event (the same version) imports once', async () => {
    const set = await publish();
    const event = upload(set, wrap(randomBytes(32)));
    await deliver(event);
    const first = resultOf(set);
    const again = await deliver(event);
    expect(again.outcome).toBe('already-handled');
    expect(imports()).toHaveLength(1);
    expect(sentEvents()).toHaveLength(1);
    expect(resultOf(set)).toEqual(first);
    // A new upload to the same set is another version: it is handled.
    expect((await deliver(upload(set, wrap(randomBytes(32)).subarray(1)))).outcome).toBe('refused');
  });

  test('an S3 failure throws (EventBridge retries) with a sentence that names the object and the error, nothing secret', async () => {
    const set = await publish();
    const material = randomBytes(32);
    const blob = wrap(material);
    const event = upload(set, blob);
    s3.on(GetObjectCommand).rejects(awsError('AccessDenied', `raw text ${TOKEN.toString('base64')}`));
    await expect(deliver(event)).rejects.toThrow(new RegExp(`^The import handler could not read s3://${BUCKET}/${PREFIX}results/${set}\\.json \\(AccessDenied\\)\\. `
      + 'Check that the bucket exists and the handler may read and write the key\'s prefix, then upload again\\.$'));
    expect(JSON.parse(output.at(-1)!)).toMatchObject({ requestType: 'Upload', outcome: 'failed' });
    // The result cannot be written: thrown too, after the import (a retry then finds the key holds it).
    s3.reset();
    bucket.install(s3);
    s3.on(PutObjectCommand).rejects(awsError('SlowDown'));
    await expect(deliver(event)).rejects.toThrow(/could not write s3:\/\/.+ \(SlowDown\)/);
    expect(output.join('\n')).not.toContain('raw text');
    expectNoLeak(output.join('\n'), TOKEN, blob, material, wrapping.publicKeyDer);
  });

  test('a lost EventBridge event does not undo the import: the result is written, the log says eventSent false', async () => {
    const set = await publish();
    events.on(PutEventsCommand).rejects(awsError('ThrottlingException'));
    const outcome = await deliver(upload(set, wrap(randomBytes(32))));
    expect(outcome).toMatchObject({ outcome: 'imported', eventSent: false });
    expect(resultOf(set)?.outcome).toBe('imported');
  });
});

test('leak scan: no token, blob, material or public key in any result, log line, event or error', async () => {
  const secrets: Buffer[] = [TOKEN, wrapping.publicKeyDer];
  const texts: string[] = [];
  const run = async (event: S3ObjectCreatedEvent) => {
    texts.push(JSON.stringify(await deliver(event).catch((e: Error) => e.message)));
  };
  for (const make of [
    () => randomBytes(32),
    () => randomBytes(31),
  ]) {
    const set = await publish();
    const material = make();
    const blob = wrap(material);
    secrets.push(material, blob, blob.subarray(0, 200));
    await run(upload(set, blob));
    await run(upload(set, blob.subarray(0, 200)));
    kms.on(ImportKeyMaterialCommand).rejects(awsError('InvalidCiphertextException', blob.toString('base64')));
    await run(upload(set, wrap(material)));
    kmsKey.reset();
    resetKmsOverrides();
  }
  for (const key of bucket.keys().filter((k) => k.includes(`/${OFFLINE_FOLDER.RESULTS}`))) texts.push(bucket.objects.get(key)!.body.toString());
  texts.push(...sentEvents().map((e) => JSON.stringify(e)), ...output);
  expect(texts.length).toBeGreaterThan(10);
  expectNoLeak(texts.join('\n'), ...secrets);
  // The scan can fail: the token's base64 in a text is caught.
  expect(() => expectNoLeak(`x ${TOKEN.toString('base64')} y`, ...secrets)).toThrow(/leaked/);
});

function resetKmsOverrides(): void {
  kms.reset();
  kmsModel.install(kms);
}
