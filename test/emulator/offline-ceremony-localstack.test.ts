/**
 * The offline-wrapping ceremony through the real handler bundle on LocalStack's KMS (which
 * implements RSA_AES_KEY_WRAP and imports RSA, ECC and HMAC material) and moto's S3: an RSA_2048
 * signing key wrapped by the CLI's two-step openssl recipe for RSA_AES_KEY_WRAP_SHA_256 (AES key
 * wrap with padding, then OAEP of the AES key), an ECC_NIST_P256 signing key and an HMAC_256 key
 * wrapped with RSAES_OAEP_SHA_256. Each is checked by a computation that does not trust the
 * emulator: node:crypto verifies the signature with the material's public half, and computes the
 * HMAC with the material itself.
 */
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { GenerateMacCommand, GetPublicKeyCommand, SignCommand } from '@aws-sdk/client-kms';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ImportedKmsKey, KeyMaterial, WrappingAlgorithm, WrappingKeySpec } from '../../lib';
import { EmulatedDeployment } from '../../tools/emulated-deployment';
import { EmulatorHarness } from '../support/emulator-harness';
import { expectNoLeak } from '../support/keys';
import { startLocalStack } from '../support/localstack';
import { OfflineCeremony } from '../support/offline-ceremony';

jest.setTimeout(180_000);

const harness = new EmulatorHarness(startLocalStack);
const c = new OfflineCeremony(harness);
const MESSAGE = Buffer.from('signed by material that never left the HSM');

beforeAll(async () => {
  await c.deploy((stack, bucket) => {
    const keyMaterial = KeyMaterial.fromOfflineWrapping({ bucket });
    new ImportedKmsKey(stack, 'Rsa', {
      keyMaterial, keySpec: kms.KeySpec.RSA_2048, keyUsage: kms.KeyUsage.SIGN_VERIFY, wrappingKeySpec: WrappingKeySpec.RSA_4096,
      wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256,
    });
    new ImportedKmsKey(stack, 'Ecc', { keyMaterial, keySpec: kms.KeySpec.ECC_NIST_P256, keyUsage: kms.KeyUsage.SIGN_VERIFY, wrappingKeySpec: WrappingKeySpec.RSA_3072 });
    new ImportedKmsKey(stack, 'Hmac', { keyMaterial, keySpec: kms.KeySpec.HMAC_256, keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC, wrappingKeySpec: WrappingKeySpec.RSA_2048 });
  });
}, 120_000);

async function imported(id: string, material: Buffer): Promise<{ keyArn: string; recipe: string[] }> {
  const keyArn = c.deployment.keyArn(id);
  expect((await harness.describeKey(keyArn)).KeyState).toBe('PendingImport');
  const { uploaded, outcome, recipe, set } = await c.ceremony(id, material);
  expect(outcome).toMatchObject({ outcome: 'imported', keyArn });
  expect(uploaded.stderr).toBe('');
  expect(uploaded.code).toBe(0);
  expect(JSON.parse(uploaded.stdout)).toMatchObject({ outcome: 'imported', keyState: 'Enabled', set });
  expect((await harness.describeKey(keyArn)).KeyState).toBe('Enabled');
  return { keyArn, recipe };
}

async function signsAs(keyArn: string, publicKey: ReturnType<typeof createPublicKey>, algorithm: 'RSASSA_PKCS1_V1_5_SHA_256' | 'ECDSA_SHA_256'): Promise<void> {
  const { PublicKey } = await harness.kms.send(new GetPublicKeyCommand({ KeyId: keyArn }));
  expect(Buffer.from(PublicKey!)).toEqual(publicKey.export({ format: 'der', type: 'spki' }));
  const { Signature } = await harness.kms.send(new SignCommand({ KeyId: keyArn, Message: MESSAGE, MessageType: 'RAW', SigningAlgorithm: algorithm }));
  expect(verify('sha256', MESSAGE, publicKey, Buffer.from(Signature!))).toBe(true);
}

test('RSA_2048 material wrapped by the two-step openssl recipe (RSA_AES_KEY_WRAP_SHA_256) signs as the HSM\'s key', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { keyArn, recipe } = await imported('Rsa', privateKey.export({ format: 'der', type: 'pkcs8' }));
  expect(recipe.some((line) => line.includes('-id-aes256-wrap-pad'))).toBe(true);
  expect(recipe.some((line) => line.includes('rsa_padding_mode:oaep'))).toBe(true);
  await signsAs(keyArn, createPublicKey(privateKey), 'RSASSA_PKCS1_V1_5_SHA_256');
});

test('ECC_NIST_P256 material (PKCS#8) wrapped with RSAES_OAEP_SHA_256 signs as the HSM\'s key', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const { keyArn } = await imported('Ecc', privateKey.export({ format: 'der', type: 'pkcs8' }));
  await signsAs(keyArn, createPublicKey(privateKey), 'ECDSA_SHA_256');
});

test('HMAC_256 material: GenerateMac equals the HMAC node:crypto computes with the material', async () => {
  const material = randomBytes(32);
  const { keyArn } = await imported('Hmac', material);
  const { Mac } = await harness.kms.send(new GenerateMacCommand({ KeyId: keyArn, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }));
  expect(Buffer.from(Mac!)).toEqual(createHmac('sha256', material).update(MESSAGE).digest());
});

test('leak scan: no token, public key, blob or material in any result object, handler log line or CLI output', async () => {
  const results = await c.results();
  expect(results).toHaveLength(3);
  expectNoLeak([...c.transcript, ...EmulatedDeployment.transcript, ...results].join('\n'), ...c.secrets);
});
