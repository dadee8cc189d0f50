/**
 * A multi-Region primary and its replica, one emulator per Region: local-kms in eu-west-2 holds the
 * primary, a second local-kms in eu-west-1 the replica (an EXTERNAL key standing in for ReplicateKey,
 * which no emulator offers), moto serves each Region's secret. The replica's import runs the bundle
 * synthesized for the replica's stack with that Region's environment.
 */
import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DecryptCommand, EncryptCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient } from '@aws-sdk/client-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { wrapKeyMaterial } from '../../lambda/material/wrap';
import { ImportedKmsReplicaKey, KeyMaterial, WrappingKeySpec } from '../../lib';
import { EmulatedDeployment, synthesize } from '../../tools/emulated-deployment';
import { EmulatorHarness } from '../support/emulator-harness';
import { Emulators, emulatorsOf, startLocalKms, startMoto } from '../../tools/emulators';
import { expectNoLeak } from '../support/keys';

jest.setTimeout(120_000);

const REPLICA_REGION = 'eu-west-1';
const h = new EmulatorHarness();
let second: Emulators;
let kms2: KMSClient;
let secrets2: SecretsManagerClient;

beforeAll(async () => {
  second = await emulatorsOf(startLocalKms(REPLICA_REGION), startMoto(), REPLICA_REGION);
  const config = { region: REPLICA_REGION, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } };
  kms2 = new KMSClient({ ...config, endpoint: second.kmsEndpoint });
  secrets2 = new SecretsManagerClient({ ...config, endpoint: second.secretsEndpoint });
});
afterAll(async () => {
  kms2?.destroy();
  secrets2?.destroy();
  await second?.stop();
});

async function roundTrip(client: KMSClient, keyArn: string): Promise<void> {
  const plaintext = randomBytes(40);
  const { CiphertextBlob } = await client.send(new EncryptCommand({ KeyId: keyArn, Plaintext: plaintext }));
  const { Plaintext } = await client.send(new DecryptCommand({ KeyId: keyArn, CiphertextBlob }));
  expect(Buffer.from(Plaintext!)).toEqual(plaintext);
}

async function importDirectly(keyArn: string, material: Buffer) {
  const { ImportToken, PublicKey } = await kms2.send(new GetParametersForImportCommand({ KeyId: keyArn, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' }));
  return kms2.send(new ImportKeyMaterialCommand({
    KeyId: keyArn, ImportToken, EncryptedKeyMaterial: wrapKeyMaterial(material, PublicKey!, 'RSAES_OAEP_SHA_256'),
    ImportType: 'EXISTING_KEY_MATERIAL', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
  }));
}

test('the replica gets the primary\'s material from its own Region\'s secret: both round-trip, and the replica takes the primary\'s bytes and no others', async () => {
  const material = h.newMaterial();
  const primarySecret = await h.newSecret({ SecretBinary: material });
  const primary = await h.deploy([{ id: 'Primary', secretArn: primarySecret, props: { multiRegion: true } }]);
  const primaryArn = primary.keyArn('Primary');
  expect((await h.invoke(primary, primary.createEvent('Primary')))[0].status).toBe('SUCCESS');

  // Secrets Manager's replica of the secret in the second Region (the same bytes).
  const { ARN: replicaSecret } = await secrets2.send(new CreateSecretCommand({ Name: `material-${randomBytes(6).toString('hex')}`, SecretBinary: material }));
  const replica = new EmulatedDeployment(second, synthesize((stack) => new ImportedKmsReplicaKey(stack, 'Replica', {
    primaryKeyArn: primaryArn,
    keyMaterial: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', replicaSecret!)),
    wrappingKeySpec: WrappingKeySpec.RSA_2048,
  })));
  await replica.createKeys(kms2);
  const replicaArn = replica.keyArn('Replica');
  expect(replicaArn).toContain(`:${REPLICA_REGION}:`);
  const event = replica.createEvent('Replica');
  expect(event.ResourceProperties).toMatchObject({ Replica: 'true', SecretId: replicaSecret });
  const [created] = await h.invoke(replica, event);
  expect(created).toMatchObject({ status: 'SUCCESS', response: { PhysicalResourceId: replicaArn } });

  await roundTrip(h.kms, primaryArn);
  await roundTrip(kms2, replicaArn);
  // local-kms checks material on re-import: the primary's bytes are accepted, other bytes refused.
  await expect(importDirectly(replicaArn, material)).resolves.toBeDefined();
  await expect(importDirectly(replicaArn, randomBytes(32))).rejects.toMatchObject({ name: 'IncorrectKeyMaterialException' });
  await roundTrip(kms2, replicaArn);
});

test('no material ever appeared in handler output, responses or errors', () => {
  expectNoLeak([...EmulatedDeployment.transcript, JSON.stringify(h.outcomes)].join('\n'), ...h.materials);
});
