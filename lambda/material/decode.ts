/**
 * Turns a secret's value into the exact bytes KMS must receive, and checks they fit the key
 * before any import. Messages say what was expected and what was found, never the material.
 */
import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import { IMPORTABLE_KEY_SPECS, KeySpecRule } from '../../lib/shared/key-spec-rules';
import { ImportError } from '../errors/import-error';

/** What Secrets Manager returned. */
export interface SecretValue {
  readonly SecretString?: string;
  readonly SecretBinary?: Uint8Array;
}

/** Where the material sits in the secret and how it is encoded. */
export interface MaterialLocation {
  readonly secretId: string;
  readonly jsonField?: string;
  readonly encoding?: string;
}

const PEM_BEGIN = '-----BEGIN ';
/** Hex text of whole bytes: pairs of hex digits and nothing else. */
const HEX_PAIRS = /^(?:[0-9a-fA-F]{2})+$/;

/** The material as bytes (raw, or PEM text for asymmetric keys), before it is fitted to the key spec. */
export function decodeSecretValue(value: SecretValue, where: MaterialLocation): Buffer {
  const source = where.jsonField ? `field '${where.jsonField}' of secret ${where.secretId}` : `secret ${where.secretId}`;
  if (value.SecretBinary !== undefined) {
    if (where.jsonField) throw new ImportError(`${source}: jsonField is set, but the secret holds a SecretBinary, not a JSON SecretString. Remove jsonField or store the material as JSON text.`);
    return Buffer.from(value.SecretBinary);
  }
  if (value.SecretString === undefined) throw new ImportError(`${source}: the secret version has neither SecretString nor SecretBinary. Store the key material in it.`);
  const text = where.jsonField ? jsonField(value.SecretString, where.jsonField, source) : value.SecretString;
  return decodeText(text.trim(), where.encoding ?? 'AUTO', source);
}

function jsonField(secretString: string, field: string, source: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new ImportError(`${source}: jsonField is set, but the SecretString is not valid JSON. Store a JSON object, or remove jsonField.`);
  }
  const value = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>)[field] : undefined;
  if (value === undefined) throw new ImportError(`${source}: the JSON SecretString has no field '${field}'. Add it, or fix jsonField.`);
  if (typeof value !== 'string') throw new ImportError(`${source}: the field holds ${jsonKind(value)}, expected a string with the encoded material.`);
  return value;
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function decodeText(text: string, encoding: string, source: string): Buffer {
  const chosen = encoding !== 'AUTO' ? encoding
    : text.includes(PEM_BEGIN) ? 'PEM'
      : HEX_PAIRS.test(text) ? 'HEX' : 'BASE64';
  switch (chosen) {
    case 'PEM':
      if (!text.includes(PEM_BEGIN)) throw new ImportError(`${source}: encoding is PEM, but no '-----BEGIN' line was found.`);
      return Buffer.from(text, 'utf8');
    case 'HEX':
      if (!HEX_PAIRS.test(text)) throw new ImportError(`${source}: expected hex (pairs of 0-9a-f), found ${describeText(text)}.`);
      return Buffer.from(text, 'hex');
    case 'BASE64': {
      const compact = text.replace(/[\r\n]+/g, ''); // base64 is often wrapped at 64 or 76 columns
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
        throw new ImportError(`${source}: expected base64 (or hex, or PEM), found ${describeText(text)}. Store the material base64-encoded, or as a SecretBinary.`);
      }
      return Buffer.from(compact, 'base64');
    }
    default:
      throw new ImportError(`${source}: Encoding '${encoding}' is not supported; use AUTO, BASE64, HEX or PEM (KeyMaterialEncoding).`);
  }
}

/** A description of text that names its shape, not its content. */
function describeText(text: string): string {
  return text.length === 0 ? 'an empty string' : `${text.length} characters that are not valid in that encoding`;
}

/**
 * Fits the decoded material to the key spec: raw bytes of the right length for symmetric and
 * HMAC keys, a PKCS#8 DER private key of the right type and size for RSA and ECC keys.
 * Always returns a new buffer, so the caller can zero `decoded`.
 */
export function normaliseMaterial(decoded: Buffer, keySpec: string): Buffer {
  const rule = IMPORTABLE_KEY_SPECS[keySpec];
  if (!rule) throw new ImportError(`Key spec ${keySpec} does not take imported material.`);
  if (rule.kind === 'SYMMETRIC' || rule.kind === 'HMAC') {
    checkLength(decoded, rule, keySpec);
    return Buffer.from(decoded);
  }
  const key = parsePrivateKey(decoded, keySpec);
  checkAsymmetric(key, rule, keySpec);
  return key.export({ format: 'der', type: 'pkcs8' });
}

function checkLength(material: Buffer, rule: KeySpecRule, keySpec: string): void {
  const { minBytes = 0, maxBytes = 0 } = rule;
  if (material.length >= minBytes && material.length <= maxBytes) return;
  const expected = minBytes === maxBytes ? `exactly ${minBytes} bytes` : `${minBytes} to ${maxBytes} bytes`;
  const hint = material.includes(PEM_BEGIN) ? ' (it looks like a PEM key, which fits RSA or ECC key specs only)' : '';
  throw new ImportError(`${keySpec} key material must be ${expected}; found ${material.length} bytes${hint}.`);
}

function parsePrivateKey(material: Buffer, keySpec: string): KeyObject {
  const text = material.includes(PEM_BEGIN) ? material.toString('utf8') : undefined;
  if (text !== undefined) {
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text)) throw new ImportError(`${keySpec} key material is an encrypted PKCS#8 key; store it unencrypted (the secret is what protects it).`);
    if (/-----BEGIN CERTIFICATE-----/.test(text)) throw new ImportError(`${keySpec} key material must be a private key; found a certificate.`);
    if (/-----BEGIN (RSA |EC )?PUBLIC KEY-----/.test(text)) throw new ImportError(`${keySpec} key material must be a private key; found a public key.`);
    try {
      return createPrivateKey({ key: text, format: 'pem' });
    } catch {
      throw new ImportError(`${keySpec} key material holds a PEM block that is not a readable private key (PKCS#1, SEC1 or PKCS#8 expected).`);
    }
  }
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: material, format: 'der', type });
    } catch { /* try the next DER form */ }
  }
  if (isPublicKeyOrCertificate(material)) throw new ImportError(`${keySpec} key material must be a private key; found a public key or certificate.`);
  throw new ImportError(`${keySpec} key material must be a private key in PEM or DER (PKCS#8, PKCS#1 or SEC1); found ${material.length} bytes that are neither.`);
}

function isPublicKeyOrCertificate(material: Buffer): boolean {
  const attempts = [
    () => createPublicKey({ key: material, format: 'der', type: 'spki' }),
    () => createPublicKey({ key: material, format: 'der', type: 'pkcs1' }),
    () => new X509Certificate(material),
  ];
  return attempts.some((attempt) => {
    try {
      attempt();
      return true;
    } catch {
      return false;
    }
  });
}

const CURVE_NAMES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521', secp256k1: 'secp256k1',
};

function checkAsymmetric(key: KeyObject, rule: KeySpecRule, keySpec: string): void {
  const type = key.asymmetricKeyType;
  if (rule.kind === 'RSA') {
    if (type !== 'rsa') throw new ImportError(`${keySpec} key material must be an RSA private key; found ${describeKeyType(key)}.`);
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (bits !== rule.modulusBits) throw new ImportError(`${keySpec} key material must have a ${rule.modulusBits}-bit modulus; found ${bits} bits.`);
    return;
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (type !== 'ec' || curve !== rule.curve) {
    throw new ImportError(`${keySpec} key material must be an EC private key on curve ${CURVE_NAMES[rule.curve!]}; found ${describeKeyType(key)}.`);
  }
}

function describeKeyType(key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') return `a ${details?.modulusLength}-bit RSA key`;
  if (key.asymmetricKeyType === 'ec') return `an EC key on curve ${CURVE_NAMES[details?.namedCurve ?? ''] ?? details?.namedCurve}`;
  return `a key of type ${key.asymmetricKeyType}`;
}
