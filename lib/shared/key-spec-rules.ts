/**
 * What KMS accepts as imported key material, per key spec, and which wrapping choices fit it.
 *
 * Shared by the construct (synth-time validation) and the handler (material checks before any
 * KMS call). Pure data and functions: this file must not import aws-cdk-lib.
 */

/** The kind of material a key spec takes. */
export type MaterialKind = 'SYMMETRIC' | 'HMAC' | 'RSA' | 'ECC';

/** What KMS requires of the material for one key spec. */
export interface KeySpecRule {
  readonly kind: MaterialKind;
  /** Key usages KMS allows for this spec; the first is the default. */
  readonly usages: readonly string[];
  /** Raw material length bounds in bytes (SYMMETRIC and HMAC). */
  readonly minBytes?: number;
  readonly maxBytes?: number;
  /** RSA modulus size in bits. */
  readonly modulusBits?: number;
  /** node:crypto's name for the ECC curve. */
  readonly curve?: string;
  /** Largest normalised material (raw bytes, or PKCS#8 DER with its public key) KMS would receive. */
  readonly largestMaterialBytes: number;
}

const rsa = (bits: number, largest: number): KeySpecRule => ({
  kind: 'RSA', usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], modulusBits: bits, largestMaterialBytes: largest,
});
const ecc = (curve: string, usages: string[], largest: number): KeySpecRule => ({
  kind: 'ECC', usages, curve, largestMaterialBytes: largest,
});
const hmac = (minBytes: number, maxBytes: number): KeySpecRule => ({
  kind: 'HMAC', usages: ['GENERATE_VERIFY_MAC'], minBytes, maxBytes, largestMaterialBytes: maxBytes,
});

/** Key specs that accept imported material (outside China Regions). */
export const IMPORTABLE_KEY_SPECS: Readonly<Record<string, KeySpecRule>> = {
  SYMMETRIC_DEFAULT: { kind: 'SYMMETRIC', usages: ['ENCRYPT_DECRYPT'], minBytes: 32, maxBytes: 32, largestMaterialBytes: 32 },
  // KMS: HMAC material is at least as long as the spec says and at most 1024 bits.
  HMAC_224: hmac(28, 128),
  HMAC_256: hmac(32, 128),
  HMAC_384: hmac(48, 128),
  HMAC_512: hmac(64, 128),
  // PKCS#8 DER sizes: RSA private keys grow a few bytes with their CRT values; the bounds are generous.
  RSA_2048: rsa(2048, 1300),
  RSA_3072: rsa(3072, 1900),
  RSA_4096: rsa(4096, 2500),
  ECC_NIST_P256: ecc('prime256v1', ['SIGN_VERIFY', 'KEY_AGREEMENT'], 138),
  ECC_NIST_P384: ecc('secp384r1', ['SIGN_VERIFY', 'KEY_AGREEMENT'], 185),
  ECC_NIST_P521: ecc('secp521r1', ['SIGN_VERIFY', 'KEY_AGREEMENT'], 241),
  ECC_SECG_P256K1: ecc('secp256k1', ['SIGN_VERIFY'], 135),
};

/** Key specs KMS knows but that cannot take imported material here, with the reason. */
export const NOT_IMPORTABLE_KEY_SPECS: Readonly<Record<string, string>> = {
  ML_DSA_44: 'KMS does not accept imported key material for ML-DSA keys; use a KMS-generated key (Origin AWS_KMS)',
  ML_DSA_65: 'KMS does not accept imported key material for ML-DSA keys; use a KMS-generated key (Origin AWS_KMS)',
  ML_DSA_87: 'KMS does not accept imported key material for ML-DSA keys; use a KMS-generated key (Origin AWS_KMS)',
  SM2: 'KMS accepts imported SM2 material only in China Regions, with the SM2 wrapping key spec, which this library does not support',
  ECC_NIST_EDWARDS25519: 'KMS does not list ECC_NIST_EDWARDS25519 among the key specs that accept imported material; use a KMS-generated key (Origin AWS_KMS)',
};

/** RSA wrapping key sizes KMS offers for imports. */
export const WRAPPING_KEY_BITS: Readonly<Record<string, number>> = {
  RSA_2048: 2048,
  RSA_3072: 3072,
  RSA_4096: 4096,
};

/** How each wrapping algorithm wraps: the OAEP hash and whether AES key wrap (RFC 5649) is used. */
export const WRAPPING_ALGORITHMS: Readonly<Record<string, { oaepHash: 'sha1' | 'sha256'; aesKeyWrap: boolean }>> = {
  RSAES_OAEP_SHA_1: { oaepHash: 'sha1', aesKeyWrap: false },
  RSAES_OAEP_SHA_256: { oaepHash: 'sha256', aesKeyWrap: false },
  RSA_AES_KEY_WRAP_SHA_1: { oaepHash: 'sha1', aesKeyWrap: true },
  RSA_AES_KEY_WRAP_SHA_256: { oaepHash: 'sha256', aesKeyWrap: true },
};

/** The wrapping algorithm used when none is given: AES key wrap where KMS requires it (RSA material). */
export function defaultWrappingAlgorithm(keySpec: string): string {
  return IMPORTABLE_KEY_SPECS[keySpec]?.kind === 'RSA' ? 'RSA_AES_KEY_WRAP_SHA_256' : 'RSAES_OAEP_SHA_256';
}

/** The most bytes RSA-OAEP can encrypt directly under a wrapping key of this size (RFC 8017: k - 2hLen - 2). */
export function oaepCapacityBytes(wrappingKeyBits: number, wrappingAlgorithm: string): number {
  const hashBytes = WRAPPING_ALGORITHMS[wrappingAlgorithm].oaepHash === 'sha1' ? 20 : 32;
  return wrappingKeyBits / 8 - 2 * hashBytes - 2;
}

/**
 * Why KMS would refuse this combination of key spec, usage, wrapping key spec and wrapping
 * algorithm, or undefined when it accepts it. Every message names the values it got. A value given
 * as undefined is known only at deploy time (a token): every rule that needs it is skipped.
 */
export function importConfigurationProblem(
  keySpec: string | undefined, keyUsage: string | undefined, wrappingKeySpec: string | undefined, wrappingAlgorithm: string | undefined,
): string | undefined {
  if (keySpec !== undefined && NOT_IMPORTABLE_KEY_SPECS[keySpec]) return `keySpec ${keySpec} cannot be imported: ${NOT_IMPORTABLE_KEY_SPECS[keySpec]}.`;
  const rule = keySpec === undefined ? undefined : IMPORTABLE_KEY_SPECS[keySpec];
  if (keySpec !== undefined && !rule) return `keySpec ${keySpec} is not a KMS key spec this library knows; use one of ${Object.keys(IMPORTABLE_KEY_SPECS).join(', ')}.`;
  if (rule && keyUsage !== undefined && !rule.usages.includes(keyUsage)) {
    return `keyUsage ${keyUsage} is not valid for keySpec ${keySpec}; KMS allows ${rule.usages.join(' or ')}.`;
  }
  if (wrappingKeySpec !== undefined && !WRAPPING_KEY_BITS[wrappingKeySpec]) {
    return `wrappingKeySpec ${wrappingKeySpec} is not supported; use one of ${Object.keys(WRAPPING_KEY_BITS).join(', ')}.`;
  }
  const algorithm = wrappingAlgorithm === undefined ? undefined : WRAPPING_ALGORITHMS[wrappingAlgorithm];
  if (wrappingAlgorithm !== undefined && !algorithm) {
    return `wrappingAlgorithm ${wrappingAlgorithm} is not supported; use one of ${Object.keys(WRAPPING_ALGORITHMS).join(', ')}.`;
  }
  if (!rule || !algorithm) return undefined;
  if (!algorithm.aesKeyWrap && rule.kind === 'RSA') {
    return `wrappingAlgorithm ${wrappingAlgorithm} cannot wrap ${keySpec} material: KMS requires RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256 for RSA private keys.`;
  }
  if (algorithm.aesKeyWrap && (rule.kind === 'SYMMETRIC' || rule.kind === 'HMAC')) {
    return `wrappingAlgorithm ${wrappingAlgorithm} cannot wrap ${keySpec} material: KMS supports RSA_AES_KEY_WRAP_* for RSA and ECC material only; use RSAES_OAEP_SHA_256.`;
  }
  if (wrappingKeySpec === undefined) return undefined;
  const capacity = oaepCapacityBytes(WRAPPING_KEY_BITS[wrappingKeySpec], wrappingAlgorithm!);
  if (!algorithm.aesKeyWrap && rule.largestMaterialBytes > capacity) {
    return `wrappingAlgorithm ${wrappingAlgorithm} under a ${wrappingKeySpec} wrapping key can wrap at most ${capacity} bytes, `
      + `but ${keySpec} material can be ${rule.largestMaterialBytes} bytes; use a larger wrappingKeySpec or RSA_AES_KEY_WRAP_SHA_256.`;
  }
  return undefined;
}
