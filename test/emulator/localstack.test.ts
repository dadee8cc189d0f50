/**
 * The synthesized bundle against LocalStack (KMS and Secrets Manager), which really uses imported
 * material: every key spec the library supports is created with its default wrapping under
 * RSA_4096, and each key is shown to hold exactly the secret's material by a check that does not
 * trust the emulator (local crypto with the material itself). Every format, and every wrapping
 * algorithm LocalStack implements under all three wrapping key specs.
 */
import { constants, createHmac, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes, verify } from 'node:crypto';
import { DecryptCommand, GenerateMacCommand, GetParametersForImportCommand, GetPublicKeyCommand, ImportKeyMaterialCommand, SignCommand } from '@aws-sdk/client-kms';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { wrapKeyMaterial } from '../../lambda/material/wrap';
import { KeyMaterialEncoding, WrappingAlgorithm, WrappingKeySpec } from '../../lib';
import { EmulatedDeployment } from '../../tools/emulated-deployment';
import { EmulatorHarness, KeySetup } from '../support/emulator-harness';
import { expectNoLeak } from '../support/keys';
import { startLocalStack } from '../support/localstack';

jest.setTimeout(180_000);

const h = new EmulatorHarness(startLocalStack);
const MESSAGE = Buffer.from('signed by the imported key');

/** A key spec's material, how the secret stores it, and how to check KMS holds exactly it. */
interface Case {
  readonly id: string;
  readonly keySpec: kms.KeySpec;
  readonly keyUsage?: kms.KeyUsage;
  readonly secret: { SecretBinary?: Uint8Array; SecretString?: string };
  readonly encoding?: KeyMaterialEncoding;
  readonly check: (keyArn: string) => Promise<void>;
  readonly materials: Buffer[];
}

const secretMaterial = (bytes: Buffer) => { h.materials.push(bytes); return bytes; };

function symmetric(id: string, format: 'binary' | 'base64' | 'hex'): Case {
  const material = secretMaterial(randomBytes(32));
  const secret = format === 'binary' ? { SecretBinary: material } : { SecretString: material.toString(format) };
  return {
    id, keySpec: kms.KeySpec.SYMMETRIC_DEFAULT, secret, materials: [material],
    check: async (keyArn) => {
      const plaintext = randomBytes(48);
      expect(await h.decrypt(keyArn, await h.encrypt(keyArn, plaintext))).toEqual(plaintext);
    },
  };
}

function hmac(id: string, keySpec: kms.KeySpec, bytes: number, format: 'binary' | 'base64' | 'hex'): Case {
  const material = secretMaterial(randomBytes(bytes));
  const bits = keySpec.replace('HMAC_', '');
  return {
    id, keySpec, secret: format === 'binary' ? { SecretBinary: material } : { SecretString: material.toString(format) }, materials: [material],
    check: async (keyArn) => {
      const { Mac } = await h.kms.send(new GenerateMacCommand({ KeyId: keyArn, Message: MESSAGE, MacAlgorithm: `HMAC_SHA_${bits}` as 'HMAC_SHA_256' }));
      expect(Buffer.from(Mac!)).toEqual(createHmac(`sha${bits}`, material).update(MESSAGE).digest());
    },
  };
}

type Format = 'pkcs1-pem' | 'sec1-pem' | 'pkcs8-pem' | 'pkcs8-der';

function asymmetric(id: string, keySpec: kms.KeySpec, keyUsage: kms.KeyUsage, format: Format, signingAlgorithm: string, hash: string): Case {
  const privateKey = keySpec.startsWith('RSA')
    ? generateKeyPairSync('rsa', { modulusLength: Number(keySpec.replace('RSA_', '')) }).privateKey
    : generateKeyPairSync('ec', { namedCurve: ({ ECC_NIST_P256: 'prime256v1', ECC_NIST_P384: 'secp384r1', ECC_NIST_P521: 'secp521r1', ECC_SECG_P256K1: 'secp256k1' } as Record<string, string>)[keySpec] }).privateKey;
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const stored = format === 'pkcs8-der' ? der
    : Buffer.from(privateKey.export({ format: 'pem', type: format === 'pkcs1-pem' ? 'pkcs1' : format === 'sec1-pem' ? 'sec1' : 'pkcs8' }) as string);
  secretMaterial(der);
  const publicKey = createPublicKey(privateKey);
  return {
    id, keySpec, keyUsage, secret: format === 'pkcs8-der' ? { SecretBinary: stored } : { SecretString: stored.toString() }, materials: [der, stored],
    check: async (keyArn) => {
      const { PublicKey } = await h.kms.send(new GetPublicKeyCommand({ KeyId: keyArn }));
      expect(Buffer.from(PublicKey!)).toEqual(publicKey.export({ format: 'der', type: 'spki' }));
      if (keyUsage === kms.KeyUsage.SIGN_VERIFY) {
        const { Signature } = await h.kms.send(new SignCommand({ KeyId: keyArn, Message: MESSAGE, MessageType: 'RAW', SigningAlgorithm: signingAlgorithm as 'ECDSA_SHA_256' }));
        expect(verify(hash, MESSAGE, publicKey, Buffer.from(Signature!))).toBe(true);
      } else {
        // Encrypted here with the material's public half: only the material's private half decrypts it.
        const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, MESSAGE);
        const { Plaintext } = await h.kms.send(new DecryptCommand({ KeyId: keyArn, CiphertextBlob: ciphertext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
        expect(Buffer.from(Plaintext!)).toEqual(MESSAGE);
      }
    },
  };
}

async function importAll(cases: Case[], props: (c: Case) => KeySetup['props'] = () => ({})): Promise<EmulatedDeployment> {
  const setups = await Promise.all(cases.map(async (c) => ({
    id: c.id, secretArn: await h.newSecret(c.secret), options: { encoding: c.encoding },
    props: { keySpec: c.keySpec, keyUsage: c.keyUsage, wrappingKeySpec: WrappingKeySpec.RSA_4096, ...props(c) },
  })));
  const deployment = await h.deploy(setups);
  const results = await h.invoke(deployment, ...cases.map((c) => deployment.createEvent(c.id)));
  expect(results.map((r, i) => `${cases[i].id}: ${r.status}${r.status === 'FAILED' ? ` ${r.reason}` : ''}`)).toEqual(cases.map((c) => `${c.id}: SUCCESS`));
  return deployment;
}

test('every key spec, with its default wrapping under RSA_4096, holds exactly the secret\'s material; every format at least once', async () => {
  const cases = [
    symmetric('SymmetricBinary', 'binary'),
    hmac('Hmac224', kms.KeySpec.HMAC_224, 28, 'binary'),
    hmac('Hmac256', kms.KeySpec.HMAC_256, 32, 'base64'),
    hmac('Hmac384', kms.KeySpec.HMAC_384, 48, 'hex'),
    hmac('Hmac512', kms.KeySpec.HMAC_512, 64, 'base64'),
    asymmetric('Rsa2048Sign', kms.KeySpec.RSA_2048, kms.KeyUsage.SIGN_VERIFY, 'pkcs1-pem', 'RSASSA_PKCS1_V1_5_SHA_256', 'sha256'),
    asymmetric('Rsa3072Encrypt', kms.KeySpec.RSA_3072, kms.KeyUsage.ENCRYPT_DECRYPT, 'pkcs8-pem', '', ''),
    asymmetric('Rsa4096Sign', kms.KeySpec.RSA_4096, kms.KeyUsage.SIGN_VERIFY, 'pkcs8-der', 'RSASSA_PKCS1_V1_5_SHA_512', 'sha512'),
    asymmetric('P256', kms.KeySpec.ECC_NIST_P256, kms.KeyUsage.SIGN_VERIFY, 'sec1-pem', 'ECDSA_SHA_256', 'sha256'),
    asymmetric('P384', kms.KeySpec.ECC_NIST_P384, kms.KeyUsage.SIGN_VERIFY, 'pkcs8-pem', 'ECDSA_SHA_384', 'sha384'),
    asymmetric('P521', kms.KeySpec.ECC_NIST_P521, kms.KeyUsage.SIGN_VERIFY, 'pkcs8-der', 'ECDSA_SHA_512', 'sha512'),
    asymmetric('Secp256k1', kms.KeySpec.ECC_SECG_P256K1, kms.KeyUsage.SIGN_VERIFY, 'sec1-pem', 'ECDSA_SHA_256', 'sha256'),
  ];
  const deployment = await importAll(cases);
  for (const c of cases) await c.check(deployment.keyArn(c.id));
});

test('a symmetric key accepts a re-import of the same bytes (a repeated Create) and keeps decrypting', async () => {
  const c = symmetric('Symmetric', 'hex');
  const deployment = await importAll([c]);
  const keyArn = deployment.keyArn(c.id);
  const ciphertext = await h.encrypt(keyArn, MESSAGE);
  const [again] = await h.invoke(deployment, deployment.createEvent(c.id));
  expect(again.status).toBe('SUCCESS');
  expect(await h.decrypt(keyArn, ciphertext)).toEqual(MESSAGE);
});

test('crypto-shred: the Delete of an HMAC and an ECC key that opted in deletes their material (the keys are PendingImport at once)', async () => {
  const cases = [
    hmac('ShredMac', kms.KeySpec.HMAC_256, 32, 'base64'),
    asymmetric('ShredSigner', kms.KeySpec.ECC_NIST_P256, kms.KeyUsage.SIGN_VERIFY, 'pkcs8-pem', 'ECDSA_SHA_256', 'sha256'),
  ];
  // LocalStack has no GetKeyLastUsage, so these keys opt out of the check (shredIfUnusedFor 0)...
  const deployment = await importAll(cases, () => ({ shredMaterialOnRemoval: true, removalPolicy: RemovalPolicy.DESTROY, shredIfUnusedFor: Duration.seconds(0) }));
  for (const c of cases) await c.check(deployment.keyArn(c.id));
  // ...and with the default window, a check that cannot be answered fails the Delete and keeps the material.
  const checked = { ...deployment.properties('ShredMac') };
  delete checked.ShredIfUnusedFor;
  const [refused] = await h.invoke(deployment, deployment.deleteEvent(deployment.keyArn('ShredMac'), checked));
  expect(refused.status).toBe('FAILED');
  expect(refused.status === 'FAILED' && refused.reason).toMatch(/GetKeyLastUsage|last used/);
  expect((await h.describeKey(deployment.keyArn('ShredMac'))).KeyState).toBe('Enabled');
  const results = await h.invoke(deployment, ...cases.map((c) => deployment.deleteEvent(deployment.keyArn(c.id), deployment.properties(c.id))));
  expect(results.map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS']);
  // KMS refuses every cryptographic operation of a PendingImport key; LocalStack still performs them (README).
  for (const c of cases) expect((await h.describeKey(deployment.keyArn(c.id))).KeyState).toBe('PendingImport');
  // A Delete sent again finds nothing left to shred, and succeeds.
  const [again] = await h.invoke(deployment, deployment.deleteEvent(deployment.keyArn('ShredMac'), deployment.properties('ShredMac')));
  expect(again.status).toBe('SUCCESS');
});

describe('where LocalStack differs from KMS (each covered elsewhere; README lists them)', () => {
  /** Imports `material` into `keyArn` directly, as the handler would, with these settings. */
  async function importDirectly(keyArn: string, material: Buffer, settings: { validTo?: Date; importType?: 'EXISTING_KEY_MATERIAL'; algorithm?: string }) {
    const algorithm = settings.algorithm ?? 'RSAES_OAEP_SHA_256';
    const { ImportToken, PublicKey } = await h.kms.send(new GetParametersForImportCommand({ KeyId: keyArn, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: algorithm as 'RSAES_OAEP_SHA_256' }));
    return h.kms.send(new ImportKeyMaterialCommand({
      KeyId: keyArn, ImportToken, EncryptedKeyMaterial: wrapKeyMaterial(material, PublicKey!, algorithm), ImportType: settings.importType,
      ExpirationModel: settings.validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE', ValidTo: settings.validTo,
    }));
  }

  test('DescribeKey reports the expiration model of expiring material, but no ValidTo', async () => {
    const c = symmetric('Expiring', 'binary');
    const keyArn = (await importAll([c])).keyArn(c.id);
    await importDirectly(keyArn, c.materials[0], { validTo: h.inDays(30), importType: 'EXISTING_KEY_MATERIAL' });
    const metadata = await h.describeKey(keyArn);
    expect(metadata.ExpirationModel).toBe('KEY_MATERIAL_EXPIRES');
    expect(metadata.ValidTo).toBeUndefined();
  });

  test('other material is accepted as EXISTING_KEY_MATERIAL (KMS refuses it)', async () => {
    const c = symmetric('Other', 'binary');
    const keyArn = (await importAll([c])).keyArn(c.id);
    await expect(importDirectly(keyArn, randomBytes(32), { importType: 'EXISTING_KEY_MATERIAL' })).resolves.toBeDefined();
  });
});

describe('every wrapping algorithm LocalStack implements, under every wrapping key spec', () => {
  const specs = [WrappingKeySpec.RSA_2048, WrappingKeySpec.RSA_3072, WrappingKeySpec.RSA_4096];
  test.each([
    [WrappingAlgorithm.RSAES_OAEP_SHA_1, () => symmetric('S', 'binary')],
    [WrappingAlgorithm.RSAES_OAEP_SHA_256, () => symmetric('S', 'binary')],
    [WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256, () => asymmetric('E', kms.KeySpec.ECC_NIST_P256, kms.KeyUsage.SIGN_VERIFY, 'pkcs8-pem', 'ECDSA_SHA_256', 'sha256')],
  ])('%s', async (algorithm, make) => {
    const idOf = (spec: WrappingKeySpec) => `Key${spec.replace('_', '')}`;
    const cases = specs.map((spec) => ({ ...make(), id: idOf(spec) }));
    const deployment = await importAll(cases, (c) => ({ wrappingAlgorithm: algorithm, wrappingKeySpec: specs.find((spec) => c.id === idOf(spec)) }));
    for (const c of cases) await c.check(deployment.keyArn(c.id));
  });
});

test('no material ever appeared in handler output, responses or errors', () => {
  expect(h.materials.length).toBeGreaterThan(15);
  expectNoLeak([...EmulatedDeployment.transcript, JSON.stringify(h.outcomes)].join('\n'), ...h.materials);
});
