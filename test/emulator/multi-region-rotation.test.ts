/**
 * Multi-Region rotation of imported material on LocalStack, which serves several Regions in one
 * process: probes of what it does with a multi-Region EXTERNAL primary, its replica, a NEW import
 * and RotateKeyOnDemand, by raw SDK calls in two Regions. LocalStack 2026.3.0 does not implement the
 * flow KMS documents (docs/emulators.md lists each gap and the handler test that covers it instead),
 * so the handler's multi-Region rotation is tested against the stateful KMS model
 * (test/handler/multi-region-rotation.test.ts); these probes fail when LocalStack starts to
 * implement it, so that the emulator suite can take it over.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateKeyCommand, DescribeKeyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient, ListKeyRotationsCommand, ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { startLocalStackKms } from '../support/localstack';
import { wrapKeyMaterial } from '../../lambda/material/wrap';
import type { Server } from '../../tools/emulators';

jest.setTimeout(120_000);

let server: Server;
const clients: Record<string, KMSClient> = {};
const kmsIn = (region: string) => (clients[region] ??= new KMSClient({
  region, endpoint: server.endpoint, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' },
}));

beforeAll(async () => { server = await startLocalStackKms(); });
afterAll(async () => {
  for (const client of Object.values(clients)) client.destroy();
  await server?.stop();
});

async function importInto(region: string, keyId: string, material: Buffer, importType: 'NEW_KEY_MATERIAL' | 'EXISTING_KEY_MATERIAL') {
  const kms = kmsIn(region);
  const { ImportToken, PublicKey } = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' }));
  return kms.send(new ImportKeyMaterialCommand({
    KeyId: keyId, ImportToken, EncryptedKeyMaterial: wrapKeyMaterial(material, PublicKey!, 'RSAES_OAEP_SHA_256'), ImportType: importType,
    ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
  }));
}
const describe1 = async (region: string, keyId: string) => (await kmsIn(region).send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;

test('the multi-Region imported rotation KMS documents, as LocalStack 2026.3.0 answers it', async () => {
  const created = await kmsIn('us-east-1').send(new CreateKeyCommand({ Origin: 'EXTERNAL', MultiRegion: true }));
  const keyId = created.KeyMetadata!.KeyId!;
  const [first, second] = [randomBytes(32), randomBytes(32)];
  await importInto('us-east-1', keyId, first, 'NEW_KEY_MATERIAL');
  const replicated = await kmsIn('us-east-1').send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'eu-west-1' }));
  const replica = await describe1('eu-west-1', keyId);
  const observed: Record<string, unknown> = { replicaState: replica.KeyState, replicaType: replicated.ReplicaKeyMetadata?.MultiRegionConfiguration?.MultiRegionKeyType };
  observed.replicaFirstImport = await importInto('eu-west-1', keyId, first, 'EXISTING_KEY_MATERIAL').then((r) => r.KeyMaterialId ? 'accepted' : 'accepted, no id', (e: Error) => e.name);
  const firstId = (await describe1('us-east-1', keyId)).CurrentKeyMaterialId;
  observed.primaryNew = await importInto('us-east-1', keyId, second, 'NEW_KEY_MATERIAL').then((r) => (r.KeyMaterialId ? 'accepted' : 'no id'), (e: Error) => e.name);
  observed.listKeyRotations = await kmsIn('us-east-1').send(new ListKeyRotationsCommand({ KeyId: keyId, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }))
    .then((r) => r.Rotations?.map((e) => e.KeyMaterialState), (e: Error & { $metadata?: { httpStatusCode?: number } }) => `${e.name} (HTTP ${e.$metadata?.httpStatusCode})`);
  // KMS refuses to rotate until every replica holds the new material; the replica does not hold it yet.
  observed.rotateBeforeReplica = await kmsIn('us-east-1').send(new RotateKeyOnDemandCommand({ KeyId: keyId })).then(() => 'rotated', (e: Error) => e.name);
  const primaryAfter = await describe1('us-east-1', keyId);
  const replicaAfter = await describe1('eu-west-1', keyId);
  observed.primaryCurrentChanged = primaryAfter.CurrentKeyMaterialId !== firstId;
  observed.replicaCurrentFollowed = replicaAfter.CurrentKeyMaterialId === primaryAfter.CurrentKeyMaterialId;
  // A replica takes no NEW_KEY_MATERIAL in KMS (new material goes into the primary first).
  observed.replicaNew = await importInto('eu-west-1', keyId, randomBytes(32), 'NEW_KEY_MATERIAL').then(() => 'accepted', (e: Error) => e.name);
  expect(observed).toEqual({
    // KMS: the replica of an EXTERNAL primary is PendingImport; LocalStack copies the primary, material and all.
    replicaState: 'Enabled', replicaType: 'REPLICA', replicaFirstImport: 'accepted',
    primaryNew: 'accepted',
    // KMS lists the new material PENDING_MULTI_REGION_IMPORT_AND_ROTATION; LocalStack has no ListKeyRotations at all.
    listKeyRotations: 'InternalFailure (HTTP 501)',
    // KMS waits for every replica; LocalStack rotates at once, and the replica keeps its old material current.
    rotateBeforeReplica: 'rotated', primaryCurrentChanged: true, replicaCurrentFollowed: false,
    // Refused, as KMS refuses it, but because LocalStack's EXISTING re-import above left a material pending (its gap), not as a replica.
    replicaNew: 'KMSInvalidStateException',
  });
});
