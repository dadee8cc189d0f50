/**
 * What the handler sends, checked against independent references: asymmetric material in every
 * format arrives as the PKCS#8 DER that openssl produces, the configured wrapping reaches
 * GetParametersForImport for every spec, and expiration limits hold on both sides of each boundary.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParametersForImportCommand, ImportKeyMaterialCommand } from '@aws-sdk/client-kms';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { handler } from '../../lambda';
import { defaultWrappingAlgorithm, IMPORTABLE_KEY_SPECS } from '../../lib/shared/key-spec-rules';
import { create, failure, kms, props, resetHarness, secrets, update, wrapping } from './support/handler-harness';
import { opensslUnwrap } from '../support/openssl';

beforeEach(resetHarness);
afterEach(() => jest.restoreAllMocks());

const openssl = (...args: string[]) => execFileSync('openssl', args);

/** A private key made by openssl, in the given formats, and openssl's own PKCS#8 DER of it. */
function opensslKey(genpkeyArgs: string[], traditional: 'rsa' | 'ec') {
  const dir = mkdtempSync(join(tmpdir(), 'openssl-key-'));
  try {
    const pkcs8Pem = join(dir, 'key.pem');
    openssl('genpkey', ...genpkeyArgs, '-out', pkcs8Pem);
    const pkcs8Der = openssl('pkcs8', '-topk8', '-nocrypt', '-in', pkcs8Pem, '-outform', 'DER');
    // PKCS#1 (RSA) or SEC1 (EC): the "traditional" format.
    const traditionalPem = openssl(traditional, '-in', pkcs8Pem, ...(traditional === 'rsa' ? ['-traditional'] : []));
    return { pkcs8Der, formats: { 'PKCS#8 PEM': readFileSync(pkcs8Pem), [traditional === 'rsa' ? 'PKCS#1 PEM' : 'SEC1 PEM']: traditionalPem, 'PKCS#8 DER': pkcs8Der } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('asymmetric material in every format reaches KMS as openssl\'s PKCS#8 DER', () => {
  const keys = [
    ['RSA_2048', 'RSA_AES_KEY_WRAP_SHA_256', opensslKey(['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], 'rsa')],
    ['ECC_NIST_P384', 'RSAES_OAEP_SHA_256', opensslKey(['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'ec')],
    ['ECC_SECG_P256K1', 'RSA_AES_KEY_WRAP_SHA_256', opensslKey(['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1'], 'ec')],
  ] as const;
  const cases = keys.flatMap(([spec, algorithm, key]) => Object.entries(key.formats).flatMap(([format, bytes]) => [
    [spec, format, 'SecretBinary', algorithm, key.pkcs8Der, { SecretBinary: new Uint8Array(bytes) }] as const,
    ...(format.endsWith('PEM') ? [[spec, format, 'SecretString', algorithm, key.pkcs8Der, { SecretString: bytes.toString() }] as const] : []),
  ]));

  test.each(cases)('%s from %s in a %s', async (KeySpec, _format, _where, WrappingAlgorithm, expected, value) => {
    secrets.on(GetSecretValueCommand).resolves(value);
    await handler(create(props({ KeySpec, WrappingAlgorithm })));
    const sent = Buffer.from(kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input.EncryptedKeyMaterial!);
    expect(opensslUnwrap(sent, wrapping.privateKey, WrappingAlgorithm)).toEqual(expected);
  });
});

describe('the configured wrapping reaches GetParametersForImport', () => {
  const specs = Object.keys(IMPORTABLE_KEY_SPECS);
  test.each(specs)('%s with its default algorithm under RSA_3072', async (KeySpec) => {
    // The material check fails on 32 random bytes for most specs (immediately, with no retry); the
    // parameters are requested in parallel with the secret read anyway.
    await handler(create(props({ KeySpec, WrappingKeySpec: 'RSA_3072', WrappingAlgorithm: undefined }))).catch(() => undefined);
    expect(kms.commandCalls(GetParametersForImportCommand)[0].args[0].input).toEqual({
      KeyId: props().KeyArn, WrappingKeySpec: 'RSA_3072', WrappingAlgorithm: defaultWrappingAlgorithm(KeySpec),
    });
  });

  test.each([
    ['RSA_4096', 'RSAES_OAEP_SHA_1'],
    ['RSA_2048', 'RSAES_OAEP_SHA_256'],
  ])('a symmetric key under %s with %s', async (WrappingKeySpec, WrappingAlgorithm) => {
    await handler(create(props({ WrappingKeySpec, WrappingAlgorithm })));
    expect(kms.commandCalls(GetParametersForImportCommand)[0].args[0].input).toMatchObject({ WrappingKeySpec, WrappingAlgorithm });
    const sent = Buffer.from(kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input.EncryptedKeyMaterial!);
    expect(opensslUnwrap(sent, wrapping.privateKey, WrappingAlgorithm)).toHaveLength(32);
  });
});

describe('expiration boundaries, on both sides', () => {
  const DAY = 86_400_000;
  const at = (ms: number) => new Date(Math.floor((Date.now() + ms) / 1000) * 1000).toISOString();

  test('365 days minus a minute is imported; 365 days plus a minute is refused before any call', async () => {
    await handler(create(props({ ValidTo: at(365 * DAY - 60_000) })));
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(1);
    resetHarness();
    expect(await failure(create(props({ ValidTo: at(365 * DAY + 60_000) })))).toMatch(/is more than 365 days away, so KMS would refuse the import/);
    expect(kms.calls()).toHaveLength(0);
  });

  test('a few minutes ahead is imported; a few minutes in the past is refused on Create and converges on Update', async () => {
    await handler(create(props({ ValidTo: at(3 * 60_000) })));
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(1);
    resetHarness();
    expect(await failure(create(props({ ValidTo: at(-3 * 60_000) })))).toMatch(/is in the past, so KMS would refuse the import/);
    expect(await handler(update(props({ ValidTo: at(-3 * 60_000) }), props()))).toMatchObject({ PhysicalResourceId: props().KeyArn });
    // No import: only the read that reports the KeyMaterialId.
    expect(kms.calls().map((c) => c.args[0].constructor.name)).toEqual(['DescribeKeyCommand']);
  });

  test.each([
    ['soon', '86400'],
    ['2592000', 'daily'],
  ])('a RollingValidity %s / RenewalInterval %s that is not a number of seconds is refused with the sentence, before any call', async (validity, interval) => {
    expect(await failure(create(props({ RollingValidity: validity, RenewalInterval: interval })))).toBe(
      `RollingValidity '${validity}' / RenewalInterval '${interval}' are not numbers of seconds. Use KeyMaterialExpiration.rolling(validity).`);
    expect(kms.calls()).toHaveLength(0);
  });

  test('a rolling validity over 365 days names the expiration it would import', async () => {
    expect(await failure(create(props({ RollingValidity: String(366 * 86400), RenewalInterval: '86400' })))).toMatch(
      /^The expiration \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z is more than 365 days away, so KMS would refuse the import\./);
    expect(kms.calls()).toHaveLength(0);
  });

  test('a ValidTo that is not a date is refused with the sentence, before any call', async () => {
    expect(await failure(create(props({ ValidTo: 'next tuesday' })))).toBe("ValidTo 'next tuesday' is not an ISO-8601 date. Use KeyMaterialExpiration.at(date).");
    expect(kms.calls()).toHaveLength(0);
  });
});
