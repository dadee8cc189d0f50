/**
 * Spec of the RSA public key ("wrapping key") that KMS generates for each import.
 */
export enum WrappingKeySpec {
  /** 2048-bit RSA wrapping key. */
  RSA_2048 = 'RSA_2048',
  /** 3072-bit RSA wrapping key. */
  RSA_3072 = 'RSA_3072',
  /** 4096-bit RSA wrapping key (the default). */
  RSA_4096 = 'RSA_4096',
}

/**
 * How the key material is encrypted ("wrapped") with the wrapping key on its way into KMS.
 */
export enum WrappingAlgorithm {
  /** RSA-OAEP with SHA-1. Only for compatibility with systems that cannot use SHA-256. */
  RSAES_OAEP_SHA_1 = 'RSAES_OAEP_SHA_1',
  /** RSA-OAEP with SHA-256: the default for symmetric, HMAC and ECC material. */
  RSAES_OAEP_SHA_256 = 'RSAES_OAEP_SHA_256',
  /** A fresh AES-256 key wrapped with RSA-OAEP SHA-1, then the material wrapped with AES key wrap with padding (RFC 5649). */
  RSA_AES_KEY_WRAP_SHA_1 = 'RSA_AES_KEY_WRAP_SHA_1',
  /**
   * A fresh AES-256 key wrapped with RSA-OAEP SHA-256, then the material wrapped with AES key wrap with
   * padding (RFC 5649). The default for RSA material, which KMS accepts only with AES key wrap.
   */
  RSA_AES_KEY_WRAP_SHA_256 = 'RSA_AES_KEY_WRAP_SHA_256',
}
