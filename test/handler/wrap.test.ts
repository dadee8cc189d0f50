import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { normaliseMaterial } from '../../lambda/material/decode';
import { wrapKeyMaterial } from '../../lambda/material/wrap';
import { importConfigurationProblem, IMPORTABLE_KEY_SPECS, WRAPPING_ALGORITHMS, WRAPPING_KEY_BITS } from '../../lib/shared/key-spec-rules';
import { recordCipherInputs, wrappingKeyPair } from '../support/keys';
import { opensslUnwrap } from '../support/openssl';

/** Fresh material of every importable key spec, in the form a user would store it. */
function materialFor(keySpec: string): Buffer {
  const rule = IMPORTABLE_KEY_SPECS[keySpec];
  switch (rule.kind) {
    case 'SYMMETRIC':
    case 'HMAC':
      return randomBytes(rule.maxBytes!);
    case 'RSA':
      return generateKeyPairSync('rsa', { modulusLength: rule.modulusBits! }).privateKey.export({ format: 'pem', type: 'pkcs1' }) as unknown as Buffer;
    default:
      return Buffer.from(generateKeyPairSync('ec', { namedCurve: rule.curve! }).privateKey.export({ format: 'pem', type: 'sec1' }) as string);
  }
}

const wrappingKeys = Object.fromEntries(Object.keys(WRAPPING_KEY_BITS).map((spec) => [spec, wrappingKeyPair(WRAPPING_KEY_BITS[spec])]));

// Every key spec x every wrapping key spec x every wrapping algorithm that KMS accepts for it.
const cases = Object.keys(IMPORTABLE_KEY_SPECS).flatMap((keySpec) => Object.keys(WRAPPING_KEY_BITS).flatMap((wrappingKeySpec) =>
  Object.keys(WRAPPING_ALGORITHMS)
    .filter((algorithm) => !importConfigurationProblem(keySpec, IMPORTABLE_KEY_SPECS[keySpec].usages[0], wrappingKeySpec, algorithm))
    .map((algorithm) => [keySpec, wrappingKeySpec, algorithm] as const)));

describe('wrapped material unwraps, with the openssl CLI, to the normalised material', () => {
  const materials = Object.fromEntries(Object.keys(IMPORTABLE_KEY_SPECS).map((spec) => [spec, normaliseMaterial(Buffer.from(materialFor(spec)), spec)]));

  test.each(cases)('%s under %s with %s', (keySpec, wrappingKeySpec, algorithm) => {
    const { publicKeyDer, privateKey } = wrappingKeys[wrappingKeySpec];
    const material = materials[keySpec];
    const wrapped = wrapKeyMaterial(material, publicKeyDer, algorithm);
    expect(opensslUnwrap(wrapped, privateKey, algorithm)).toEqual(material);
  });

  test('the cases are exactly the combinations KMS documents (README\'s table, written out here, not derived)', () => {
    const OAEP = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];
    const AES_WRAP = ['RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'];
    const documented: Record<string, (wrappingKeySpec: string) => string[]> = {
      SYMMETRIC_DEFAULT: () => OAEP,
      HMAC_224: () => OAEP, HMAC_256: () => OAEP, HMAC_384: () => OAEP, HMAC_512: () => OAEP,
      RSA_2048: () => AES_WRAP, RSA_3072: () => AES_WRAP, RSA_4096: () => AES_WRAP,
      ECC_NIST_P256: () => [...OAEP, ...AES_WRAP], ECC_NIST_P384: () => [...OAEP, ...AES_WRAP], ECC_SECG_P256K1: () => [...OAEP, ...AES_WRAP],
      // A P-521 private key (PKCS#8 DER, about 241 bytes) is too large for RSA-OAEP under RSA_2048.
      ECC_NIST_P521: (wrappingKeySpec) => (wrappingKeySpec === 'RSA_2048' ? AES_WRAP : [...OAEP, ...AES_WRAP]),
    };
    const expected = Object.entries(documented).flatMap(([spec, algorithms]) => ['RSA_2048', 'RSA_3072', 'RSA_4096']
      .flatMap((wrappingKeySpec) => algorithms(wrappingKeySpec).map((algorithm) => `${spec} ${wrappingKeySpec} ${algorithm}`)));
    expect(cases.map((c) => c.join(' ')).sort()).toEqual(expected.sort());
    expect(expected).toHaveLength(94);
  });
});

describe('wrapping', () => {
  test('each RSA_AES_KEY_WRAP call uses a fresh AES key', () => {
    const { publicKeyDer } = wrappingKeys.RSA_2048;
    const material = randomBytes(32);
    const a = wrapKeyMaterial(material, publicKeyDer, 'RSA_AES_KEY_WRAP_SHA_256');
    const b = wrapKeyMaterial(material, publicKeyDer, 'RSA_AES_KEY_WRAP_SHA_256');
    expect(a.subarray(256).equals(b.subarray(256))).toBe(false);
    expect(a.length).toBe(256 + 40);
  });

  test('RSA_AES_KEY_WRAP wipes its AES key once the material is wrapped', () => {
    const handedToRsa = recordCipherInputs();
    wrapKeyMaterial(randomBytes(32), wrappingKeys.RSA_2048.publicKeyDer, 'RSA_AES_KEY_WRAP_SHA_256');
    jest.restoreAllMocks();
    expect(handedToRsa.map((key) => [key.length, key.every((byte) => byte === 0)])).toEqual([[32, true]]);
  });

  test('a wrapping algorithm the handler does not know (a template edited by hand) is refused by name', () => {
    expect(() => wrapKeyMaterial(randomBytes(32), wrappingKeys.RSA_2048.publicKeyDer, 'RSAES_PKCS1_V1_5')).toThrow('Wrapping algorithm RSAES_PKCS1_V1_5 is not supported.');
  });

  test('RSA-OAEP takes material up to its capacity: 190 bytes under RSA_2048 with SHA-256 unwrap with openssl', () => {
    const material = randomBytes(190);
    const wrapped = wrapKeyMaterial(material, wrappingKeys.RSA_2048.publicKeyDer, 'RSAES_OAEP_SHA_256');
    expect(opensslUnwrap(wrapped, wrappingKeys.RSA_2048.privateKey, 'RSAES_OAEP_SHA_256')).toEqual(material);
    expect(() => wrapKeyMaterial(randomBytes(191), wrappingKeys.RSA_2048.publicKeyDer, 'RSAES_OAEP_SHA_256')).toThrow(/at most 190 bytes .* is 191 bytes/);
  });

  test('material too large for RSA-OAEP under the wrapping key is refused with sizes, not content', () => {
    const { publicKeyDer } = wrappingKeys.RSA_2048;
    expect(() => wrapKeyMaterial(randomBytes(241), publicKeyDer, 'RSAES_OAEP_SHA_256'))
      .toThrow('RSAES_OAEP_SHA_256 can wrap at most 190 bytes under this wrapping key, but the material is 241 bytes. Use a larger wrappingKeySpec or RSA_AES_KEY_WRAP_SHA_256.');
  });
});
