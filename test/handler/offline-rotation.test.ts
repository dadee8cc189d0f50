/**
 * Offline rotation (MaterialGeneration) through the handler: the deploy publishes a NEW_KEY_MATERIAL
 * set when the key holds fewer materials than asked, the upload imports and rotates, re-deliveries
 * and crashes converge to one rotation, a rollback changes nothing, and an expiration change of a
 * rotated key gets one set per material. KMS is the stateful model; S3 an in-memory versioned bucket
 * behind aws-sdk-client-mock; EventBridge a stub.
 */
import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { GetParametersForImportCommand, GetParametersForImportCommandInput, ImportKeyMaterialCommand, RotateKeyOnDemandCommand, RotateKeyOnDemandCommandInput } from '@aws-sdk/client-kms';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, GetObjectCommandInput, PutObjectCommand, PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda';
import type { S3ObjectCreatedEvent, UploadOutcome } from '../../lambda/operations/import-upload';
import { ImportProperties, offlinePrefix, ParameterManifest, UploadResult } from '../../lib/shared/contract';
import { leakForms, symmetricMaterial } from '../support/keys';
import { awsError, inDays, KEY_ARN, kms, kmsCalls, kmsKey, output, resetHarness, success, TOKEN, update, withFakeTimers, wrapping } from './support/handler-harness';

const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
const BUCKET = 'ceremonies';
const PREFIX = offlinePrefix(KEY_ARN);

/** The bucket: every version of every object, newest last. */
const objects = new Map<string, Buffer[]>();
/** Makes the next PutObject to a key matching this fail (a crash before the result is written). */
let failPut: RegExp | undefined;

function resetS3(): void {
  objects.clear();
  failPut = undefined;
  s3.reset();
  events.reset();
  s3.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
    if (failPut?.test(input.Key!)) { failPut = undefined; throw awsError('InternalError'); }
    const versions = objects.get(input.Key!) ?? [];
    versions.push(Buffer.from(input.Body as string | Uint8Array));
    objects.set(input.Key!, versions);
    return { VersionId: `v${versions.length}` };
  });
  s3.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
    const versions = objects.get(input.Key!);
    const body = input.VersionId ? versions?.[Number(input.VersionId.slice(1)) - 1] : versions?.[versions.length - 1];
    if (!body) throw awsError('NoSuchKey');
    return { ContentLength: body.length, Body: { transformToByteArray: () => Promise.resolve(new Uint8Array(body)) } };
  });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
}

const offline = (overrides: Partial<ImportProperties> = {}): ImportProperties => ({
  KeyArn: KEY_ARN, KeySpec: 'SYMMETRIC_DEFAULT', ParameterBucket: BUCKET, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256', ...overrides,
});

/** Every published set's name and manifest, oldest first. */
function manifests(): Array<{ set: string; manifest: ParameterManifest }> {
  return [...objects.keys()].filter((key) => key.endsWith('/manifest.json'))
    .map((key) => ({ set: key.split('/').slice(-2)[0], manifest: JSON.parse(objects.get(key)!.at(-1)!.toString()) as ParameterManifest }));
}

/** The operator: wraps `material` under the set's published public key (as the HSM would), uploads it, and S3 delivers the event. */
async function upload(set: string, material: Buffer): Promise<{ event: S3ObjectCreatedEvent; outcome: UploadOutcome }> {
  const pem = objects.get(`${PREFIX}parameters/${set}/wrapping-public-key.pem`)!.at(-1)!.toString();
  const blob = publicEncrypt({ key: createPublicKey(pem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
  const key = `${PREFIX}uploads/${set}/wrapped-material.bin`;
  const versions = objects.get(key) ?? [];
  versions.push(blob);
  objects.set(key, versions);
  const event: S3ObjectCreatedEvent = {
    source: 'aws.s3', 'detail-type': 'Object Created', account: '111122223333', region: 'eu-west-1', resources: [`arn:aws:s3:::${BUCKET}`],
    detail: { bucket: { name: BUCKET }, object: { key, size: blob.length, 'version-id': `v${versions.length}` } },
  };
  return { event, outcome: await deliver(event) };
}

/** S3 (through EventBridge) delivers an upload event to the handler; retry waits pass at once. */
async function deliver(event: S3ObjectCreatedEvent): Promise<UploadOutcome> {
  return withFakeTimers(() => handler(event));
}

const resultOf = (set: string) => JSON.parse(objects.get(`${PREFIX}results/${set}.json`)!.at(-1)!.toString()) as UploadResult;
const imports = () => kms.commandCalls(ImportKeyMaterialCommand).length;
const rotations = () => kms.commandCalls(RotateKeyOnDemandCommand).length;

const first = symmetricMaterial();
const second = symmetricMaterial();

beforeEach(() => {
  resetHarness();
  resetS3();
  // KMS hands out a distinct set per call; the model's token is fixed and the fake clock stands still, so each set is a second apart.
  let calls = 0;
  kms.on(GetParametersForImportCommand).callsFake((input: GetParametersForImportCommandInput) => {
    const answer = kmsKey.getParametersForImport(input);
    return { ...answer, ParametersValidTo: new Date(answer.ParametersValidTo.getTime() + 1000 * calls++) };
  });
  // A key whose first material came from an earlier ceremony, never expiring.
  kmsKey.holdMaterials([{ bytes: first, description: 'offline generation 1 set earlier' }]);
});

describe('offline rotation: the deploy asks, the upload rotates', () => {
  test('raising materialGeneration publishes one NEW_KEY_MATERIAL set and changes nothing in KMS', async () => {
    await success(update(offline({ MaterialGeneration: '2' }), offline({ MaterialGeneration: '1' })));
    const sets = manifests();
    expect(sets).toHaveLength(1);
    expect(sets[0].manifest).toMatchObject({ importType: 'NEW_KEY_MATERIAL', materialGeneration: 2, expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(sets[0].manifest.keyMaterialId).toBeUndefined();
    expect(kmsKey.materials).toHaveLength(1);
    expect(kmsCalls()).not.toContain('ImportKeyMaterial');
    expect(kmsCalls()).not.toContain('RotateKeyOnDemand');
  });

  test('the upload imports the new material and rotates once: it is current, the first still held, the result names its KeyMaterialId', async () => {
    await success(update(offline({ MaterialGeneration: '2' }), offline({ MaterialGeneration: '1' })));
    const [{ set }] = manifests();
    const { outcome } = await upload(set, second);
    expect(outcome.outcome).toBe('imported');
    expect(kmsKey.materials.map((m) => m.bytes)).toEqual([first, second]);
    expect(kmsKey.current()!.bytes).toEqual(second);
    expect(kmsKey.rotations).toBe(1);
    const result = resultOf(set);
    expect(result.keyMaterialId).toBe(kmsKey.current()!.id);
    expect(result.keyMaterialId).not.toBe(kmsKey.materials[0].id);
    expect(result.sentence).toMatch(/rotated it in: it is the key's current material \(generation 2\)/);
    expect(kmsKey.current()!.description).toBe(`offline generation 2 set ${set}`);
    expect(kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input.ImportType).toBe('NEW_KEY_MATERIAL');
  });

  test('a re-delivered upload rotates once, and so does one whose result was lost', async () => {
    await success(update(offline({ MaterialGeneration: '2' }), offline({ MaterialGeneration: '1' })));
    const [{ set }] = manifests();
    const { event } = await upload(set, second);
    expect((await deliver(event)).outcome).toBe('already-handled');
    objects.delete(`${PREFIX}results/${set}.json`);
    const again = await deliver(event);
    expect(again.outcome).toBe('imported');
    expect(resultOf(set).sentence).toMatch(/already key .* generation 2; nothing was imported again/);
    expect([imports(), rotations(), kmsKey.rotations]).toEqual([1, 1, 1]);
  });

  test('a crash between import and rotation converges: the re-delivery rotates without a new import', async () => {
    await success(update(offline({ MaterialGeneration: '2' }), offline({ MaterialGeneration: '1' })));
    const [{ set }] = manifests();
    // The Lambda dies after ImportKeyMaterial: RotateKeyOnDemand never answers and no result is written.
    kms.on(RotateKeyOnDemandCommand).rejectsOnce(awsError('KMSInternalException'));
    failPut = /results\//;
    const { event } = await upload(set, second).then((r) => r, (e: Error) => ({ event: undefined, error: e }));
    expect(event).toBeUndefined();
    expect(kmsKey.materials[1]).toMatchObject({ state: 'PENDING_ROTATION' });
    kms.on(RotateKeyOnDemandCommand).callsFake((input: RotateKeyOnDemandCommandInput) => kmsKey.rotateKeyOnDemand(input));
    const key = `${PREFIX}uploads/${set}/wrapped-material.bin`;
    const redelivered: S3ObjectCreatedEvent = {
      source: 'aws.s3', 'detail-type': 'Object Created', account: '111122223333', region: 'eu-west-1',
      detail: { bucket: { name: BUCKET }, object: { key, 'version-id': 'v1' } },
    };
    expect((await deliver(redelivered)).outcome).toBe('imported');
    expect(resultOf(set).sentence).toMatch(/imported before but not made current; it is now key .* current material \(generation 2\), without a new import/);
    expect([imports(), kmsKey.rotations]).toEqual([1, 1]);
    expect(kmsKey.current()!.bytes).toEqual(second);
  });

  test('a crash between import and rotation converges on the next deploy too: it rotates the pending material in, publishing nothing', async () => {
    await success(update(offline({ MaterialGeneration: '2' }), offline({ MaterialGeneration: '1' })));
    const [{ set }] = manifests();
    kms.on(RotateKeyOnDemandCommand).rejectsOnce(awsError('KMSInternalException'));
    failPut = /results\//;
    await upload(set, second).catch(() => undefined);
    kms.on(RotateKeyOnDemandCommand).callsFake((input: RotateKeyOnDemandCommandInput) => kmsKey.rotateKeyOnDemand(input));
    const response = await success(update(offline({ MaterialGeneration: '2' }), offline({ MaterialGeneration: '1' })));
    expect(kmsKey.current()!.bytes).toEqual(second);
    expect(response.Data!.KeyMaterialId).toBe(kmsKey.current()!.id);
    expect(manifests()).toHaveLength(1);
    expect(imports()).toBe(1);
  });

  test('a re-sent deploy after the rotation publishes nothing; a second set for the same generation is refused on upload: one rotation', async () => {
    const request = update(offline({ MaterialGeneration: '2' }), offline({ MaterialGeneration: '1' }));
    await success(request);
    await success(request); // CloudFormation re-sent it before the ceremony: a second set for generation 2
    const [a, b] = manifests();
    expect(b.manifest.importType).toBe('NEW_KEY_MATERIAL');
    await upload(a.set, second);
    const { outcome } = await upload(b.set, symmetricMaterial());
    expect(outcome.outcome).toBe('refused');
    expect(resultOf(b.set).sentence).toMatch(/already holds 2 materials, so generation 2 \(this set's\) is in place .* a generation rotates once/);
    expect([imports(), kmsKey.rotations, kmsKey.materials.length]).toEqual([1, 1, 2]);
    const sets = manifests().length;
    await success(request);
    expect(manifests()).toHaveLength(sets);
  });

  test('a rollback (the old, lower generation) publishes nothing and changes nothing; the deploy succeeds and says why', async () => {
    kmsKey.holdMaterials([{ bytes: first }, { bytes: second }]);
    const before = JSON.stringify(kmsKey.materials);
    const response = await success(update(offline({ MaterialGeneration: '1' }), offline({ MaterialGeneration: '2' })));
    expect(response.Data!.KeyMaterialId).toBe(kmsKey.current()!.id);
    expect(manifests()).toHaveLength(0);
    expect(JSON.stringify(kmsKey.materials)).toBe(before);
    expect(kmsCalls().filter((c) => c !== 'DescribeKey' && c !== 'ListKeyRotations')).toEqual([]);
    expect(output.join('\n')).toMatch(/holds 2 materials and this deployment asks for generation 1 \(a rollback, or a lowered materialGeneration\); rotation cannot be undone/);
  });

  test('a new key with materialGeneration 1 gets its first set; the upload imports it described by its generation, and rotates nothing', async () => {
    kmsKey.reset();
    await success({ RequestType: 'Create', ResourceProperties: offline({ MaterialGeneration: '1' }) });
    const [{ set, manifest }] = manifests();
    expect(manifest).toMatchObject({ materialGeneration: 1 });
    expect(manifest.importType).toBeUndefined();
    expect((await upload(set, first)).outcome.outcome).toBe('imported');
    expect(kmsKey.materials).toHaveLength(1);
    expect(kmsKey.current()).toMatchObject({ bytes: first, description: `offline generation 1 set ${set}` });
    expect([rotations(), kmsKey.keyState]).toEqual([0, 'Enabled']);
    expect(resultOf(set).keyMaterialId).toBe(kmsKey.current()!.id);
  });

  test('a jump of two generations publishes one NEW set and says the next deploy publishes the next', async () => {
    await success(update(offline({ MaterialGeneration: '3' }), offline({ MaterialGeneration: '1' })));
    expect(manifests().map((s) => s.manifest.materialGeneration)).toEqual([2]);
    expect(output.join('\n')).toMatch(/generation 3 is 2 rotations away and a ceremony makes one/);
  });

  test('the wrong bytes for a NEW set (an earlier material) are refused with a sentence, and nothing rotates', async () => {
    await success(update(offline({ MaterialGeneration: '2' }), offline({ MaterialGeneration: '1' })));
    const [{ set }] = manifests();
    const { outcome } = await upload(set, first);
    expect(outcome.outcome).toBe('refused');
    expect(resultOf(set).sentence).toMatch(/\(IncorrectKeyMaterialException\): KMS refused it as new material: the key already holds these bytes/);
    expect([kmsKey.materials.length, rotations()]).toEqual([1, 0]);
  });
});

describe('offline rotation: expiration changes of a rotated key', () => {
  beforeEach(() => kmsKey.holdMaterials([{ bytes: first, description: 'offline generation 1 set a' }, { bytes: second, description: 'offline generation 2 set b' }]));

  test('one EXISTING set per material, each naming its KeyMaterialId; each upload re-imports that material alone', async () => {
    const validTo = inDays(30);
    await success(update(offline({ MaterialGeneration: '2', ValidTo: validTo }), offline({ MaterialGeneration: '2' })));
    const sets = manifests();
    expect(sets.map((s) => [s.manifest.importType, s.manifest.materialGeneration, s.manifest.keyMaterialId, s.manifest.keyMaterialDescription])).toEqual([
      ['EXISTING_KEY_MATERIAL', 1, kmsKey.materials[0].id, 'offline generation 1 set a'],
      ['EXISTING_KEY_MATERIAL', 2, kmsKey.materials[1].id, 'offline generation 2 set b'],
    ]);
    // The older material's wrap in the newer material's set: KMS finds the bytes are not that material.
    expect((await upload(sets[1].set, first)).outcome.outcome).toBe('refused');
    expect(resultOf(sets[1].set).sentence).toMatch(/IncorrectKeyMaterialException/);
    expect((await upload(sets[0].set, first)).outcome.outcome).toBe('imported');
    expect(kmsKey.materials[0].validTo?.toISOString().replace('.000Z', 'Z')).toBe(validTo);
    expect(kmsKey.materials[1].validTo).toBeUndefined();
    expect(resultOf(sets[0].set)).toMatchObject({ keyMaterialId: kmsKey.materials[0].id, keyState: 'Enabled' });
    expect((await upload(sets[1].set, second)).outcome.outcome).toBe('imported');
    expect(kmsKey.materials.map((m) => m.validTo?.toISOString().replace('.000Z', 'Z'))).toEqual([validTo, validTo]);
    expect([kmsKey.rotations, kmsKey.current()!.bytes]).toEqual([1, second]);
    // Every material now has the expiration: the same deploy publishes nothing more.
    await success(update(offline({ MaterialGeneration: '2', ValidTo: validTo }), offline({ MaterialGeneration: '2' })));
    expect(manifests()).toHaveLength(2);
  });

  test('a rotation with an expiration change publishes the NEW set and a set for each older material', async () => {
    await success(update(offline({ MaterialGeneration: '3', ValidTo: inDays(30) }), offline({ MaterialGeneration: '2' })));
    expect(manifests().map((s) => [s.manifest.importType, s.manifest.materialGeneration])).toEqual([
      ['EXISTING_KEY_MATERIAL', 1], ['EXISTING_KEY_MATERIAL', 2], ['NEW_KEY_MATERIAL', 3],
    ]);
  });
});

test('no token, public key or material in any result, event or log line', async () => {
  await success(update(offline({ MaterialGeneration: '2' }), offline({ MaterialGeneration: '1' })));
  const [{ set }] = manifests();
  await upload(set, second);
  const seen = [
    ...output, ...[...objects.entries()].filter(([key]) => key.includes('/results/')).map(([, v]) => v.map(String).join('')),
    ...events.commandCalls(PutEventsCommand).map((c) => JSON.stringify(c.args[0].input)),
  ].join('\n');
  for (const secret of [TOKEN, first, second, wrapping.publicKeyDer]) for (const form of leakForms(secret)) expect(seen).not.toContain(form);
});
