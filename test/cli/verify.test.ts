/**
 * `verify` against LocalStack's KMS (which really imports RSA, ECC and HMAC material): node:crypto
 * plays the HSM (generates the key, computes the MAC), openssl writes the public key files as an
 * operator would export them; the bundled CLI runs in a child process.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient, type KeySpec, type KeyUsageType } from '@aws-sdk/client-kms';
import { wrapKeyMaterial } from '../../lambda/material/wrap';
import { EMULATOR_REGION, Server } from '../../tools/emulators';
import { startLocalStackKms } from '../support/localstack';
import { CLI, runCli } from '../support/cli-runner';
import { expectNoLeak } from '../support/keys';

jest.setTimeout(120_000);

let localstack: Server;
let kms: KMSClient;
/** Everything the CLI printed, for the leak scan. */
const transcript: string[] = [];
const cli = async (args: string[]) => {
  const run = await runCli(args, { kms: localstack.endpoint });
  transcript.push(run.stdout, run.stderr);
  return run;
};
const secrets: Buffer[] = [];
const dir = mkdtempSync(join(tmpdir(), 'cli-verify-'));

async function importedKey(keySpec: KeySpec, keyUsage: KeyUsageType, material: Buffer, algorithm: 'RSA_AES_KEY_WRAP_SHA_256' | 'RSAES_OAEP_SHA_256'): Promise<string> {
  const keyArn = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', KeySpec: keySpec, KeyUsage: keyUsage }))).KeyMetadata!.Arn!;
  const { PublicKey, ImportToken } = await kms.send(new GetParametersForImportCommand({ KeyId: keyArn, WrappingAlgorithm: algorithm, WrappingKeySpec: 'RSA_4096' }));
  await kms.send(new ImportKeyMaterialCommand({ KeyId: keyArn, ImportToken, EncryptedKeyMaterial: wrapKeyMaterial(material, PublicKey!, algorithm), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
  return keyArn;
}

/** The HSM's key pair: its private key (PKCS#8 DER, imported into KMS), and the public key openssl exports as PEM and DER. */
function hsmKeyPair(name: string, type: 'rsa' | 'ec', curve?: string): { privateDer: Buffer; pem: string; der: string } {
  const { privateKey } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: curve! });
  const privatePem = join(dir, `${name}-private.pem`);
  writeFileSync(privatePem, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const privateDer = privateKey.export({ format: 'der', type: 'pkcs8' });
  secrets.push(privateDer);
  const pem = join(dir, `${name}.pem`);
  const der = join(dir, `${name}.der`);
  execFileSync('openssl', ['pkey', '-in', privatePem, '-pubout', '-out', pem]);
  execFileSync('openssl', ['pkey', '-in', privatePem, '-pubout', '-outform', 'DER', '-out', der]);
  return { privateDer, pem, der };
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run bundle.`);
  localstack = await startLocalStackKms();
  kms = new KMSClient({ region: EMULATOR_REGION, endpoint: localstack.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterAll(async () => {
  kms?.destroy();
  await localstack?.stop();
});

test('RSA: KMS\'s public key equals the HSM\'s (PEM and DER); another key, another key type, a private key file', async () => {
  const hsm = hsmKeyPair('rsa', 'rsa');
  const keyArn = await importedKey('RSA_2048', 'SIGN_VERIFY', hsm.privateDer, 'RSA_AES_KEY_WRAP_SHA_256');
  for (const file of [hsm.pem, hsm.der]) {
    const run = await cli(['verify', '--key', keyArn, '--public-key', file]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^MATCH: the public key of ${keyArn} \\(RSA_2048\\) equals the one in ${file} \\(DER SubjectPublicKeyInfo, SHA-256 [0-9a-f]{64}\\)\\.\n$`));
  }
  const other = hsmKeyPair('other-rsa', 'rsa');
  const mismatch = await cli(['verify', '--key', keyArn, '--public-key', other.pem, '--json']);
  expect(mismatch.code).toBe(1);
  expect(JSON.parse(mismatch.stdout)).toMatchObject({ match: false, check: 'public-key', keySpec: 'RSA_2048', difference: 'the modulus differs (same length, 2048 bits): another key' });
  const ec = hsmKeyPair('ec-for-rsa', 'ec', 'P-256');
  const wrongType = await cli(['verify', '--key', keyArn, '--public-key', ec.der]);
  expect(wrongType.code).toBe(1);
  expect(wrongType.stdout).toContain('MISMATCH: the public key of');
  expect(wrongType.stdout).toContain(': the key type differs: KMS has rsa, the file ec.');
  expect((await cli(['verify', '--key', keyArn, '--public-key', join(dir, 'rsa-private.pem')])).stderr).toContain('holds a private key: give the public key only');
  expect((await cli(['verify', '--key', keyArn])).stderr).toContain('is a RSA_2048 key: give the HSM\'s public key with --public-key <file>.');
  expect((await cli(['verify', '--key', keyArn, '--public-key', hsm.pem, '--mac', 'ab'])).code).toBe(2);
});

test('ECC P-256: a match, and a mismatch on the curve and on the point', async () => {
  const hsm = hsmKeyPair('p256', 'ec', 'P-256');
  const keyArn = await importedKey('ECC_NIST_P256', 'SIGN_VERIFY', hsm.privateDer, 'RSA_AES_KEY_WRAP_SHA_256');
  expect((await cli(['verify', '--key', keyArn, '--public-key', hsm.pem])).code).toBe(0);
  const p384 = await cli(['verify', '--key', keyArn, '--public-key', hsmKeyPair('p384', 'ec', 'P-384').pem, '--json']);
  expect(p384.code).toBe(1);
  expect(JSON.parse(p384.stdout)).toMatchObject({ difference: 'the curve differs: KMS has prime256v1, the file secp384r1' });
  const point = await cli(['verify', '--key', keyArn, '--public-key', hsmKeyPair('p256-other', 'ec', 'P-256').der, '--json']);
  expect(JSON.parse(point.stdout)).toMatchObject({ match: false, difference: 'the public point differs (same curve, prime256v1): another key' });
});

test('HMAC_256: the HSM\'s MAC (hex, base64, raw file) is accepted by kms:VerifyMac; a wrong MAC or message is a mismatch', async () => {
  const material = randomBytes(32);
  secrets.push(material);
  const keyArn = await importedKey('HMAC_256', 'GENERATE_VERIFY_MAC', material, 'RSAES_OAEP_SHA_256');
  const message = 'known answer from the HSM';
  const mac = createHmac('sha256', material).update(message).digest();
  secrets.push(mac);
  writeFileSync(join(dir, 'mac.bin'), mac);
  writeFileSync(join(dir, 'message.txt'), message);
  for (const args of [['--message', message, '--mac', mac.toString('hex')], ['--message-file', join(dir, 'message.txt'), '--mac', mac.toString('base64')], ['--message', message, '--mac-file', join(dir, 'mac.bin')]]) {
    const run = await cli(['verify', '--key', keyArn, ...args]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`MATCH: ${keyArn} (HMAC_256) computes the HSM's HMAC_SHA_256 MAC over the 25-byte message (kms:VerifyMac): it holds the HSM's key.\n`);
  }
  const flipped = Buffer.from(mac);
  flipped[0] ^= 1;
  const wrong = await cli(['verify', '--key', keyArn, '--message', message, '--mac', flipped.toString('hex'), '--json']);
  expect(wrong.code).toBe(1);
  expect(JSON.parse(wrong.stdout)).toMatchObject({ match: false, check: 'known-answer-mac', macAlgorithm: 'HMAC_SHA_256', messageBytes: 25 });
  const otherMessage = await cli(['verify', '--key', keyArn, '--message', `${message}!`, '--mac', mac.toString('hex')]);
  expect(otherMessage.code).toBe(1);
  expect(otherMessage.stdout).toMatch(/^MISMATCH: kms:VerifyMac says/);
  const short = await cli(['verify', '--key', keyArn, '--message', message, '--mac', mac.subarray(0, 20).toString('hex')]);
  expect(short.code).toBe(2);
  expect(short.stderr).toContain('the MAC must be 32 bytes for this key (raw, hex or base64), and --mac gives');
  expect((await cli(['verify', '--key', keyArn, '--mac', mac.toString('hex')])).stderr).toContain('give the message the HSM MACed with exactly one of');
});

test('SYMMETRIC_DEFAULT: a round trip and the KeyMaterialId, since no known-answer test exists; a PendingImport key is not checked', async () => {
  const material = randomBytes(32);
  secrets.push(material);
  const keyArn = await importedKey('SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', material, 'RSAES_OAEP_SHA_256');
  const run = await cli(['verify', '--key', keyArn, '--json']);
  expect(run.code).toBe(0);
  const out = JSON.parse(run.stdout) as { match: boolean; roundTrip: boolean; currentKeyMaterialId?: string };
  expect(out).toMatchObject({ match: true, check: 'round-trip', roundTrip: true });
  const human = await cli(['verify', '--key', keyArn]);
  expect(human.stdout).toContain('encrypts and decrypts (a round trip of 32 random bytes)');
  expect(human.stdout).toContain('KMS\'s ciphertext format cannot be reproduced outside KMS');
  expect(out.currentKeyMaterialId).toBeTruthy(); // LocalStack reports it (local-kms does not)
  const rightId = await cli(['verify', '--key', keyArn, '--key-material-id', out.currentKeyMaterialId!]);
  expect(rightId.code).toBe(0);
  expect(rightId.stdout).toContain('The KeyMaterialId is the one you expected (--key-material-id).');
  const wrongId = await cli(['verify', '--key', keyArn, '--key-material-id', 'f'.repeat(64)]);
  expect(wrongId.code).toBe(1);
  expect(wrongId.stdout).toContain(`The KeyMaterialId is not the one you expected (--key-material-id ${'f'.repeat(64)})`);
  expect((await cli(['verify', '--key', keyArn, '--public-key', join(dir, 'rsa.pem')])).code).toBe(2);
  const pending = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.Arn!;
  const notChecked = await cli(['verify', '--key', pending]);
  expect(notChecked.code).toBe(1);
  expect(notChecked.stderr).toContain('is PendingImport, so KMS cannot use it to verify anything (import its material first); nothing was checked.');
  expect((await cli(['verify', '--key', 'arn:aws:kms:eu-west-2:000000000000:key/00000000-0000-0000-0000-000000000000'])).code).toBe(3);
});

test('leak scan: no material, private key or MAC in anything the CLI printed', () => {
  expect(secrets.length).toBeGreaterThan(5);
  expectNoLeak(transcript.join('\n'), ...secrets);
});
