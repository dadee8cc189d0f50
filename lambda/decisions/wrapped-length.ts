/**
 * Offline wrapping: which lengths an HSM-wrapped blob can have for a key spec, wrapping algorithm
 * and wrapping key spec, so a truncated or misdirected upload is refused before KMS sees it.
 * RSAES_OAEP_*: exactly one RSA block (the modulus length). RSA_AES_KEY_WRAP_*: one RSA block (the
 * wrapped AES key) followed by AES-KWP (RFC 5649) of the material: 8 bytes plus the material
 * rounded up to 8-byte semiblocks.
 */
import { IMPORTABLE_KEY_SPECS, WRAPPING_ALGORITHMS, WRAPPING_KEY_BITS } from '../../lib/shared/key-spec-rules';
import { AES_KWP_IV_BYTES, AES_KWP_SEMIBLOCK_BYTES } from '../../lib/shared/limits';

/** Length of AES-KWP output for `bytes` of material. */
export function aesKwpLength(bytes: number): number {
  return AES_KWP_IV_BYTES + Math.ceil(bytes / AES_KWP_SEMIBLOCK_BYTES) * AES_KWP_SEMIBLOCK_BYTES;
}

/** Why a blob of `length` bytes cannot be this key's wrapped material, or undefined when it can. */
export function wrappedLengthProblem(length: number, keySpec: string, wrappingAlgorithm: string, wrappingKeySpec: string): string | undefined {
  const modulusBits = WRAPPING_KEY_BITS[wrappingKeySpec];
  const algorithm = WRAPPING_ALGORITHMS[wrappingAlgorithm];
  const rule = IMPORTABLE_KEY_SPECS[keySpec];
  if (!modulusBits || !algorithm || !rule) return undefined; // nothing known to check against: KMS decides
  const modulus = modulusBits / 8;
  const what = `${keySpec} material wrapped with ${wrappingAlgorithm} under a ${wrappingKeySpec} wrapping key`;
  if (!algorithm.aesKeyWrap) {
    return length === modulus ? undefined
      : `the upload is ${length} bytes, but ${what} is exactly ${modulus} bytes (one RSA block)`;
  }
  const fixed = rule.minBytes !== undefined && rule.minBytes === rule.maxBytes;
  if (fixed) {
    const expected = modulus + aesKwpLength(rule.minBytes);
    return length === expected ? undefined
      : `the upload is ${length} bytes, but ${what} is exactly ${expected} bytes (${modulus} of wrapped AES key, ${expected - modulus} of AES key wrap with padding)`;
  }
  const smallest = modulus + aesKwpLength(rule.minBytes ?? 1);
  const largest = modulus + aesKwpLength(rule.largestMaterialBytes);
  const rest = length - modulus;
  if (length < smallest || length > largest || rest % AES_KWP_SEMIBLOCK_BYTES !== 0) {
    return `the upload is ${length} bytes, but ${what} is ${modulus} bytes of wrapped AES key followed by a multiple of ${AES_KWP_SEMIBLOCK_BYTES} bytes, `
      + `${smallest} to ${largest} bytes in all`;
  }
  return undefined;
}
