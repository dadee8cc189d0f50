import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { KeyObject } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Unwraps a KMS-style wrapped blob with the openssl CLI, an implementation independent of
 * node:crypto: RSA-OAEP with `openssl pkeyutl`, then (for RSA_AES_KEY_WRAP_*) AES key wrap with
 * padding with `openssl enc -id-aes256-wrap-pad`.
 */
export function opensslUnwrap(wrapped: Buffer, privateKey: KeyObject, algorithm: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'openssl-unwrap-'));
  try {
    const keyFile = join(dir, 'wrapping-key.pem');
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const md = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256';
    const rsaBytes = (privateKey.asymmetricKeyDetails!.modulusLength!) / 8;
    const rsaPart = algorithm.startsWith('RSA_AES_KEY_WRAP') ? wrapped.subarray(0, rsaBytes) : wrapped;
    const rsaFile = join(dir, 'rsa.bin');
    writeFileSync(rsaFile, rsaPart);
    const rsaPlain = execFileSync('openssl', ['pkeyutl', '-decrypt', '-inkey', keyFile, '-in', rsaFile,
      '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`, '-pkeyopt', `rsa_mgf1_md:${md}`]);
    if (!algorithm.startsWith('RSA_AES_KEY_WRAP')) return rsaPlain;
    const kwpFile = join(dir, 'kwp.bin');
    writeFileSync(kwpFile, wrapped.subarray(rsaBytes));
    return execFileSync('openssl', ['enc', '-d', '-id-aes256-wrap-pad', '-K', rsaPlain.toString('hex'), '-iv', 'A65959A6', '-in', kwpFile]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
