import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { decodeSecretValue, normaliseMaterial } from '../../lambda/material/decode';
import { IMPORTABLE_KEY_SPECS } from '../../lib/shared/key-spec-rules';
import { expectNoLeak } from '../support/keys';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:kms-material-AbCdEf';
const at = (extra: object = {}) => ({ secretId: SECRET, ...extra });
const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('decoding the secret value', () => {
  const material = randomBytes(32);

  test.each([
    ['SecretBinary (raw bytes)', { SecretBinary: new Uint8Array(material) }, {}],
    ['base64 SecretString', { SecretString: material.toString('base64') }, {}],
    ['base64 with a trailing newline', { SecretString: `${material.toString('base64')}\n` }, {}],
    ['base64 wrapped in lines', { SecretString: material.toString('base64').replace(/(.{16})/g, '$1\r\n') }, {}],
    ['hex SecretString', { SecretString: material.toString('hex') }, {}],
    ['upper-case hex', { SecretString: material.toString('hex').toUpperCase() }, {}],
    ['hex between spaces and a newline', { SecretString: ` ${material.toString('hex')}\n` }, {}],
    ['base64 between spaces and a newline', { SecretString: `  ${material.toString('base64')} \r\n` }, {}],
    ['JSON field holding base64', { SecretString: JSON.stringify({ k: material.toString('base64') }) }, { jsonField: 'k' }],
    ['JSON field holding hex', { SecretString: JSON.stringify({ k: material.toString('hex') }) }, { jsonField: 'k' }],
    ['explicit BASE64 encoding', { SecretString: material.toString('base64') }, { encoding: 'BASE64' }],
  ])('%s', (_name, value, where) => {
    expect(decodeSecretValue(value, at(where))).toEqual(material);
  });

  test.each([
    ['begins with hex pairs', 'ab12+/QUJD'],
    ['ends with hex pairs', 'QUJDab12'],
    ['is hex digits of odd length', 'abcdef0'],
  ])('base64 that %s is decoded as base64', (_name, text) => {
    expect(decodeSecretValue({ SecretString: text }, at())).toEqual(Buffer.from(text, 'base64'));
  });

  test('an explicit encoding overrides detection', () => {
    const looksHex = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'utf8');
    const text = looksHex.toString('base64');
    expect(decodeSecretValue({ SecretString: '0011' }, at({ encoding: 'BASE64' }))).toEqual(Buffer.from('0011', 'base64'));
    expect(decodeSecretValue({ SecretString: text }, at({ encoding: 'BASE64' }))).toEqual(looksHex);
  });

  test.each([
    ['a non-base64 string', { SecretString: 'not base64 at all!' }, {}, `secret ${SECRET}: expected base64 (or hex, or PEM), found 18 characters that are not valid in that encoding. Store the material base64-encoded, or as a SecretBinary.`],
    ['an empty string', { SecretString: '' }, {}, `secret ${SECRET}: expected base64 (or hex, or PEM), found an empty string. Store the material base64-encoded, or as a SecretBinary.`],
    ['bad hex', { SecretString: 'abc' }, { encoding: 'HEX' }, `secret ${SECRET}: expected hex (pairs of 0-9a-f), found 3 characters that are not valid in that encoding.`],
    ['base64 after stray characters', { SecretString: '**QUJD' }, {}, `secret ${SECRET}: expected base64 (or hex, or PEM), found 6 characters that are not valid in that encoding. Store the material base64-encoded, or as a SecretBinary.`],
    ['base64 with a dangling character', { SecretString: 'QUJDR' }, {}, `secret ${SECRET}: expected base64 (or hex, or PEM), found 5 characters that are not valid in that encoding. Store the material base64-encoded, or as a SecretBinary.`],
    ['base64 whose padding hides a dangling character', { SecretString: 'QUJDR==' }, {}, `secret ${SECRET}: expected base64 (or hex, or PEM), found 7 characters that are not valid in that encoding. Store the material base64-encoded, or as a SecretBinary.`],
    ['an encoding the handler does not know (a template edited by hand)', { SecretString: 'QUJD' }, { encoding: 'BASE32' }, `secret ${SECRET}: Encoding 'BASE32' is not supported; use AUTO, BASE64, HEX or PEM (KeyMaterialEncoding).`],
    ['PEM encoding without a PEM block', { SecretString: 'MIIEvQIBADANBgkq' }, { encoding: 'PEM' }, `secret ${SECRET}: encoding is PEM, but no '-----BEGIN' line was found.`],
    ['a missing JSON field', { SecretString: '{"other":"x"}' }, { jsonField: 'k' }, `field 'k' of secret ${SECRET}: the JSON SecretString has no field 'k'. Add it, or fix jsonField.`],
    ['a JSON field that is not a string', { SecretString: '{"k":42}' }, { jsonField: 'k' }, `field 'k' of secret ${SECRET}: the field holds a number, expected a string with the encoded material.`],
    ['jsonField on a string that is not JSON', { SecretString: 'abcd' }, { jsonField: 'k' }, `field 'k' of secret ${SECRET}: jsonField is set, but the SecretString is not valid JSON. Store a JSON object, or remove jsonField.`],
    ['jsonField on a binary secret', { SecretBinary: new Uint8Array(4) }, { jsonField: 'k' }, `field 'k' of secret ${SECRET}: jsonField is set, but the secret holds a SecretBinary, not a JSON SecretString. Remove jsonField or store the material as JSON text.`],
    ['a JSON field holding an array', { SecretString: '{"k":["a"]}' }, { jsonField: 'k' }, `field 'k' of secret ${SECRET}: the field holds an array, expected a string with the encoded material.`],
    ['a JSON field holding an object', { SecretString: '{"k":{}}' }, { jsonField: 'k' }, `field 'k' of secret ${SECRET}: the field holds an object, expected a string with the encoded material.`],
    ['a JSON field holding null', { SecretString: '{"k":null}' }, { jsonField: 'k' }, `field 'k' of secret ${SECRET}: the field holds null, expected a string with the encoded material.`],
    ['jsonField on a JSON null', { SecretString: 'null' }, { jsonField: 'k' }, `field 'k' of secret ${SECRET}: the JSON SecretString has no field 'k'. Add it, or fix jsonField.`],
    ['jsonField naming a property of a JSON string', { SecretString: '"abcd"' }, { jsonField: 'length' }, `field 'length' of secret ${SECRET}: the JSON SecretString has no field 'length'. Add it, or fix jsonField.`],
    ['a version with neither string nor binary', {}, {}, `secret ${SECRET}: the secret version has neither SecretString nor SecretBinary. Store the key material in it.`],
  ])('%s is refused clearly', (_name, value, where, message) => {
    expect(errorOf(() => decodeSecretValue(value, at(where)))).toBe(message);
  });

  test('messages never echo the secret text', () => {
    const secretText = `${material.toString('base64')}!!`;
    expectNoLeak(errorOf(() => decodeSecretValue({ SecretString: secretText }, at())), material);
    expect(errorOf(() => decodeSecretValue({ SecretString: secretText }, at()))).not.toContain(secretText);
  });
});

describe('fitting material to the key spec', () => {
  test.each([
    ['SYMMETRIC_DEFAULT', 31, 'SYMMETRIC_DEFAULT key material must be exactly 32 bytes; found 31 bytes.'],
    ['SYMMETRIC_DEFAULT', 64, 'SYMMETRIC_DEFAULT key material must be exactly 32 bytes; found 64 bytes.'],
    ['HMAC_224', 27, 'HMAC_224 key material must be 28 to 128 bytes; found 27 bytes.'],
    ['HMAC_256', 129, 'HMAC_256 key material must be 32 to 128 bytes; found 129 bytes.'],
    ['HMAC_384', 47, 'HMAC_384 key material must be 48 to 128 bytes; found 47 bytes.'],
    ['HMAC_512', 129, 'HMAC_512 key material must be 64 to 128 bytes; found 129 bytes.'],
  ])('%s refuses %i bytes', (spec, length, message) => {
    expect(errorOf(() => normaliseMaterial(randomBytes(length), spec))).toBe(message);
  });

  test('a key spec that takes no imported material (a template edited by hand) is refused by name', () => {
    expect(errorOf(() => normaliseMaterial(randomBytes(32), 'SM2'))).toBe('Key spec SM2 does not take imported material.');
  });

  test.each(['HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512'])('%s accepts its bounds', (spec) => {
    const { minBytes, maxBytes } = IMPORTABLE_KEY_SPECS[spec];
    expect(normaliseMaterial(randomBytes(minBytes!), spec)).toHaveLength(minBytes!);
    expect(normaliseMaterial(randomBytes(maxBytes!), spec)).toHaveLength(maxBytes!);
  });

  const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pkcs8 = rsa2048.privateKey.export({ format: 'der', type: 'pkcs8' });

  test.each([
    ['PKCS#1 PEM', rsa2048.privateKey.export({ format: 'pem', type: 'pkcs1' })],
    ['PKCS#8 PEM', rsa2048.privateKey.export({ format: 'pem', type: 'pkcs8' })],
    ['PKCS#1 DER', rsa2048.privateKey.export({ format: 'der', type: 'pkcs1' })],
    ['PKCS#8 DER', pkcs8],
  ])('an RSA private key as %s becomes PKCS#8 DER', (_name, stored) => {
    expect(normaliseMaterial(Buffer.from(stored), 'RSA_2048')).toEqual(pkcs8);
  });

  test.each([
    ['SEC1 PEM', p256.privateKey.export({ format: 'pem', type: 'sec1' })],
    ['SEC1 DER', p256.privateKey.export({ format: 'der', type: 'sec1' })],
    ['PKCS#8 PEM', p256.privateKey.export({ format: 'pem', type: 'pkcs8' })],
  ])('an EC private key as %s becomes PKCS#8 DER', (_name, stored) => {
    expect(normaliseMaterial(Buffer.from(stored), 'ECC_NIST_P256')).toEqual(p256.privateKey.export({ format: 'der', type: 'pkcs8' }));
  });

  test('PEM text decoded from a SecretString reaches the key check', () => {
    const pem = rsa2048.privateKey.export({ format: 'pem', type: 'pkcs1' }) as string;
    expect(normaliseMaterial(decodeSecretValue({ SecretString: pem }, at()), 'RSA_2048')).toEqual(pkcs8);
  });

  test.each([
    ['RSA_3072', rsa2048.privateKey.export({ format: 'pem', type: 'pkcs8' }), 'RSA_3072 key material must have a 3072-bit modulus; found 2048 bits.'],
    ['RSA_2048', p256.privateKey.export({ format: 'pem', type: 'pkcs8' }), 'RSA_2048 key material must be an RSA private key; found an EC key on curve P-256.'],
    ['ECC_NIST_P384', p256.privateKey.export({ format: 'pem', type: 'sec1' }), 'ECC_NIST_P384 key material must be an EC private key on curve P-384; found an EC key on curve P-256.'],
    ['ECC_NIST_P256', rsa2048.privateKey.export({ format: 'der', type: 'pkcs8' }), 'ECC_NIST_P256 key material must be an EC private key on curve P-256; found a 2048-bit RSA key.'],
    ['RSA_2048', rsa2048.publicKey.export({ format: 'pem', type: 'spki' }), 'RSA_2048 key material must be a private key; found a public key.'],
    ['RSA_2048', rsa2048.publicKey.export({ format: 'der', type: 'spki' }), 'RSA_2048 key material must be a private key; found a public key or certificate.'],
    ['RSA_2048', rsa2048.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' }), 'RSA_2048 key material is an encrypted PKCS#8 key; store it unencrypted (the secret is what protects it).'],
    ['RSA_2048', randomBytes(1200), 'RSA_2048 key material must be a private key in PEM or DER (PKCS#8, PKCS#1 or SEC1); found 1200 bytes that are neither.'],
    ['ECC_NIST_P256', generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }), 'ECC_NIST_P256 key material must be an EC private key on curve P-256; found a key of type ed25519.'],
    ['ECC_NIST_P256', generateKeyPairSync('ec', { namedCurve: 'secp224r1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
      'ECC_NIST_P256 key material must be an EC private key on curve P-256; found an EC key on curve secp224r1.'],
    ['RSA_2048', `-----BEGIN PRIVATE KEY-----\n${randomBytes(48).toString('base64')}\n-----END PRIVATE KEY-----\n`,
      'RSA_2048 key material holds a PEM block that is not a readable private key (PKCS#1, SEC1 or PKCS#8 expected).'],
    ['SYMMETRIC_DEFAULT', rsa2048.privateKey.export({ format: 'pem', type: 'pkcs8' }), /^SYMMETRIC_DEFAULT key material must be exactly 32 bytes; found \d+ bytes \(it looks like a PEM key, which fits RSA or ECC key specs only\)\.$/],
  ])('%s refuses the wrong key with a message naming both', (spec, stored, message) => {
    const text = errorOf(() => normaliseMaterial(Buffer.from(stored as Buffer), spec));
    if (typeof message === 'string') expect(text).toBe(message); else expect(text).toMatch(message);
    expectNoLeak(text, pkcs8);
  });

  test('a certificate is refused as not a private key', () => {
    const certPem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(errorOf(() => normaliseMaterial(Buffer.from(certPem), 'ECC_NIST_P256'))).toBe('ECC_NIST_P256 key material must be a private key; found a certificate.');
  });

  test.each(Object.entries(IMPORTABLE_KEY_SPECS).filter(([, r]) => r.kind === 'ECC' || r.kind === 'RSA'))(
    'the largest %s material is within the bound used for synth-time wrapping checks', (spec, rule) => {
      const sizes = Array.from({ length: 3 }, () => {
        const key = rule.kind === 'RSA'
          ? generateKeyPairSync('rsa', { modulusLength: rule.modulusBits! }).privateKey
          : generateKeyPairSync('ec', { namedCurve: rule.curve! }).privateKey;
        return normaliseMaterial(key.export({ format: 'der', type: 'pkcs8' }), spec).length;
      });
      expect(Math.max(...sizes)).toBeLessThanOrEqual(rule.largestMaterialBytes);
    });
});
