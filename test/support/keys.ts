import { generateKeyPairSync, KeyObject, randomBytes } from 'node:crypto';

/** A test RSA wrapping key pair, as GetParametersForImport would hand out its public half. */
export function wrappingKeyPair(bits = 2048): { publicKeyDer: Buffer; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { publicKeyDer: publicKey.export({ format: 'der', type: 'spki' }), privateKey };
}

/** 32 random bytes of symmetric key material. */
export function symmetricMaterial(): Buffer {
  return randomBytes(32);
}

/** Every textual form of `material` a leak could take. */
export function leakForms(material: Buffer): string[] {
  return [material.toString('hex'), material.toString('hex').toUpperCase(), material.toString('base64'), material.toString('base64url'), material.toString('latin1')];
}

/** Fails when any form of any of `secrets` appears in `text`. */
export function expectNoLeak(text: string, ...secrets: Buffer[]): void {
  for (const secret of secrets) {
    for (const form of leakForms(secret)) {
      if (form.length >= 8 && text.includes(form)) throw new Error(`secret bytes leaked (a ${secret.length}-byte value appeared in output)`);
    }
  }
}

/**
 * Records every buffer the handler hands to the RSA cipher (the plaintext material, or the AES key
 * that wraps it), so a test can check they are wiped afterwards. Undone by jest.restoreAllMocks().
 */
export function recordCipherInputs(): Buffer[] {
  const nodeCrypto = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  const inputs: Buffer[] = [];
  const original = nodeCrypto.publicEncrypt;
  jest.spyOn(nodeCrypto, 'publicEncrypt').mockImplementation((key, data) => { inputs.push(data as Buffer); return original(key, data); });
  return inputs;
}
