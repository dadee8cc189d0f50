/**
 * Wraps key material with the RSA public key from GetParametersForImport, as KMS unwraps it.
 */
import { constants, createCipheriv, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { oaepCapacityBytes, WRAPPING_ALGORITHMS } from '../../lib/shared/key-spec-rules';
import { ImportError } from '../errors/import-error';

/** RFC 5649 alternative initial value for AES key wrap with padding. */
const KWP_IV = Buffer.from('A65959A6', 'hex');

/**
 * RSAES_OAEP_*: the material encrypted with RSA-OAEP.
 * RSA_AES_KEY_WRAP_*: a fresh AES-256 key encrypted with RSA-OAEP, followed by the material
 * wrapped under that AES key with AES key wrap with padding (RFC 5649).
 */
export function wrapKeyMaterial(material: Buffer, wrappingPublicKey: Uint8Array, algorithm: string): Buffer {
  const spec = WRAPPING_ALGORITHMS[algorithm];
  if (!spec) throw new ImportError(`Wrapping algorithm ${algorithm} is not supported.`);
  const publicKey = createPublicKey({ key: Buffer.from(wrappingPublicKey), format: 'der', type: 'spki' });
  const rsaOaep = (data: Buffer) => publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: spec.oaepHash }, data);
  if (!spec.aesKeyWrap) {
    const capacity = oaepCapacityBytes(publicKey.asymmetricKeyDetails?.modulusLength ?? 0, algorithm);
    if (material.length > capacity) {
      throw new ImportError(`${algorithm} can wrap at most ${capacity} bytes under this wrapping key, but the material is ${material.length} bytes. `
        + 'Use a larger wrappingKeySpec or RSA_AES_KEY_WRAP_SHA_256.');
    }
    return rsaOaep(material);
  }
  const aesKey = randomBytes(32);
  try {
    const cipher = createCipheriv('id-aes256-wrap-pad', aesKey, KWP_IV);
    return Buffer.concat([rsaOaep(aesKey), cipher.update(material), cipher.final()]);
  } finally {
    aesKey.fill(0);
  }
}
