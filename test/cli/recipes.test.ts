/**
 * The printed recipes, checked with openssl as the oracle (no KMS needed): each openssl recipe is
 * run literally under a locally generated RSA wrapping key, the blob is unwrapped with that key's
 * private half by openssl, and must equal the material; the upload length check accepts every such
 * blob and refuses a byte more or less. The CloudHSM and YubiHSM lines are checked for their flags.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobLengthProblem, recipeFor } from '../../cli/recipes';
import type { ParameterManifest } from '../../lib/shared/contract';

const manifestOf = (keySpec: string, wrappingAlgorithm: string, wrappingKeySpec: string): ParameterManifest => ({
  keyArn: 'arn:aws:kms:eu-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', region: 'eu-west-2', keySpec, wrappingAlgorithm,
  wrappingKeySpec, materialFormat: 'test', parametersValidTo: new Date(Date.now() + 3_600_000).toISOString(),
  expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', sha256: {},
});

function material(keySpec: string): Buffer {
  if (keySpec === 'SYMMETRIC_DEFAULT') return randomBytes(32);
  if (keySpec === 'HMAC_384') return randomBytes(48);
  if (keySpec === 'RSA_2048') return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'der', type: 'pkcs8' });
  return generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ format: 'der', type: 'pkcs8' });
}

const cases: [string, string, string][] = [
  ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_256', 'RSA_2048'],
  ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSA_3072'],
  ['HMAC_384', 'RSAES_OAEP_SHA_256', 'RSA_4096'],
  ['RSA_2048', 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_4096'],
  ['ECC_NIST_P384', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_2048'],
];

test.each(cases)('%s with %s under %s: the printed openssl recipe wraps what openssl unwraps, and upload would accept it', (keySpec, algorithm, wrappingKeySpec) => {
  const dir = mkdtempSync(join(tmpdir(), 'recipe-'));
  const bits = Number(wrappingKeySpec.slice(4));
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  writeFileSync(join(dir, 'wrapping-public-key.pem'), publicKey.export({ format: 'pem', type: 'spki' }));
  writeFileSync(join(dir, 'private.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const plain = material(keySpec);
  writeFileSync(join(dir, 'material.bin'), plain);
  const manifest = manifestOf(keySpec, algorithm, wrappingKeySpec);
  const recipe = recipeFor(manifest, dir);
  execFileSync('bash', ['-euc', recipe.openssl.join('\n')], { cwd: dir });
  const blob = readFileSync(join(dir, 'wrapped-material.bin'));
  expect(blobLengthProblem(manifest, blob.length)).toBeUndefined();
  expect(blobLengthProblem(manifest, blob.length - 1)).toBeDefined();
  expect(blobLengthProblem(manifest, blob.length + 8 * (algorithm.startsWith('RSA_AES') ? 100 : 0) + 1)).toBeDefined();

  // The oracle: openssl with the private key undoes it.
  const hash = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256';
  const oaep = ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${hash}`, '-pkeyopt', `rsa_mgf1_md:${hash}`];
  const decrypt = (input: Buffer): Buffer => {
    writeFileSync(join(dir, 'in.bin'), input);
    return execFileSync('openssl', ['pkeyutl', '-decrypt', '-inkey', join(dir, 'private.pem'), '-in', join(dir, 'in.bin'), ...oaep]);
  };
  if (!algorithm.startsWith('RSA_AES')) {
    expect(decrypt(blob)).toEqual(plain);
    expect(recipe.yubiHsmPossible).toBe(false);
    expect(recipe.yubiHsm[0]).toMatch(/^A YubiHSM 2 cannot wrap for RSAES_OAEP_/);
    expect(recipe.cloudHsm[1]).toMatch(new RegExp(`^key wrap rsa-oaep .+ --hash-function ${hash} --mgf mgf1-${hash} --path wrapped-material.bin$`));
    return;
  }
  const aesKey = decrypt(blob.subarray(0, bits / 8));
  expect(aesKey).toHaveLength(32);
  writeFileSync(join(dir, 'kwp.bin'), blob.subarray(bits / 8));
  const unwrapped = execFileSync('openssl', ['enc', '-d', '-id-aes256-wrap-pad', '-K', aesKey.toString('hex'), '-iv', 'A65959A6', '-in', join(dir, 'kwp.bin')]);
  expect(unwrapped).toEqual(plain);
  expect(recipe.yubiHsmPossible).toBe(true);
  expect(recipe.yubiHsm[1]).toContain(`--oaep rsa-oaep-${hash} --mgf1 mgf1-${hash} --out wrapped-material.bin`);
  expect(recipe.cloudHsm[1]).toMatch(new RegExp(`^key wrap rsa-aes .+ --hash-function ${hash} --mgf mgf1-${hash} --path wrapped-material.bin$`));
  // The recipe removes the plaintext AES key it made.
  expect(() => readFileSync(join(dir, 'aes-key.bin'))).toThrow();
});
