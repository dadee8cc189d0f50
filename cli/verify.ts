/**
 * `verify`: does the key hold the material the HSM holds? Asymmetric keys: KMS's public key
 * (GetPublicKey) equals the HSM's, byte for byte as DER SubjectPublicKeyInfo, and if not, which part
 * differs. HMAC keys: a known-answer test, kms:VerifyMac of the MAC the HSM computed over a message.
 * SYMMETRIC_DEFAULT keys: KMS's ciphertext format cannot be reproduced outside KMS, so no
 * known-answer test exists; verify shows the key works (an Encrypt/Decrypt round trip) and compares
 * its CurrentKeyMaterialId with the one the operator expects (the upload's result). Works whatever
 * the material source (Secrets Manager or offline wrapping). Prints no material, MAC or message.
 */
import { createHash, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { DecryptCommand, EncryptCommand, GetPublicKeyCommand, VerifyMacCommand, type KeyMetadata, type MacAlgorithmSpec } from '@aws-sdk/client-kms';
import { describeKey, KMS_HINT, kmsClient } from './kms';
import { awsError, CliError, EXIT, report } from './output';
import { regionOfArn } from './s3';

export interface VerifyOptions {
  readonly key: string;
  readonly region?: string;
  readonly publicKey?: string;
  readonly message?: string;
  readonly messageFile?: string;
  readonly mac?: string;
  readonly macFile?: string;
  readonly keyMaterialId?: string;
  readonly json: boolean;
}

/** KMS limits GenerateMac/VerifyMac messages to 4,096 bytes. */
const MAX_MAC_MESSAGE = 4096;

/** The operator's public key file (PEM or DER SubjectPublicKeyInfo; a PEM PKCS#1 RSA key too) as a KeyObject. */
export function readPublicKey(path: string): KeyObject {
  if (!existsSync(path)) throw new CliError(`--public-key ${path} does not exist; give the HSM's public key (PEM or DER SubjectPublicKeyInfo).`, EXIT.USAGE);
  const bytes = readFileSync(path);
  const text = bytes.toString('latin1');
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new CliError(`--public-key ${path} holds a private key: give the public key only (never copy a private key out of the HSM).`, EXIT.USAGE);
  }
  try {
    return text.includes('-----BEGIN') ? createPublicKey(text) : createPublicKey({ key: bytes, format: 'der', type: 'spki' });
  } catch {
    throw new CliError(`--public-key ${path} is neither a PEM public key nor a DER SubjectPublicKeyInfo.`, EXIT.USAGE);
  }
}

/** Which part of two public keys differs, in words; undefined when they are the same key. */
export function publicKeyDifference(kms: KeyObject, hsm: KeyObject): string | undefined {
  const a = kms.export({ format: 'der', type: 'spki' });
  const b = hsm.export({ format: 'der', type: 'spki' });
  if (a.equals(b)) return undefined;
  if (kms.asymmetricKeyType !== hsm.asymmetricKeyType) return `the key type differs: KMS has ${kms.asymmetricKeyType}, the file ${hsm.asymmetricKeyType}`;
  const ka = kms.asymmetricKeyDetails ?? {};
  const ha = hsm.asymmetricKeyDetails ?? {};
  if (ka.namedCurve !== ha.namedCurve) return `the curve differs: KMS has ${ka.namedCurve}, the file ${ha.namedCurve}`;
  if (ka.modulusLength !== ha.modulusLength) return `the modulus length differs: KMS has ${ka.modulusLength} bits, the file ${ha.modulusLength}`;
  if (ka.publicExponent !== ha.publicExponent) return `the public exponent differs: KMS has ${ka.publicExponent}, the file ${ha.publicExponent}`;
  const ja = kms.export({ format: 'jwk' });
  const jb = hsm.export({ format: 'jwk' });
  if (ja.n !== undefined && ja.n !== jb.n) return `the modulus differs (same length, ${ka.modulusLength} bits): another key`;
  if (ja.x !== jb.x || ja.y !== jb.y) return `the public point differs (same curve, ${ka.namedCurve}): another key`;
  return 'the DER encodings differ though the key parameters are equal (an unusual encoding of the file)';
}

const fingerprint = (key: KeyObject) => createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest('hex');

/** The MAC the operator gives: hex or base64 text (--mac), or a file of raw bytes or such text (--mac-file). */
function readMac(options: VerifyOptions, length: number): Buffer {
  if ((options.mac === undefined) === (options.macFile === undefined)) throw new CliError('give the HSM\'s MAC with exactly one of --mac <hex|base64> or --mac-file <path>.', EXIT.USAGE);
  let raw: Buffer | undefined;
  let text = options.mac;
  if (options.macFile !== undefined) {
    if (!existsSync(options.macFile)) throw new CliError(`--mac-file ${options.macFile} does not exist.`, EXIT.USAGE);
    raw = readFileSync(options.macFile);
    if (raw.length === length) return raw;
    text = raw.toString('latin1').trim();
  }
  const decoded = /^[0-9a-fA-F]+$/.test(text!) && text!.length === length * 2 ? Buffer.from(text!, 'hex') : Buffer.from(text!, 'base64');
  if (decoded.length !== length) {
    throw new CliError(`the MAC must be ${length} bytes for this key (raw, hex or base64), and ${options.macFile ? `--mac-file ${options.macFile}` : '--mac'} gives ${decoded.length}.`, EXIT.USAGE);
  }
  return decoded;
}

function readMessage(options: VerifyOptions): Buffer {
  if ((options.message === undefined) === (options.messageFile === undefined)) throw new CliError('give the message the HSM MACed with exactly one of --message <text> or --message-file <path>.', EXIT.USAGE);
  if (options.messageFile !== undefined && !existsSync(options.messageFile)) throw new CliError(`--message-file ${options.messageFile} does not exist.`, EXIT.USAGE);
  const message = options.messageFile !== undefined ? readFileSync(options.messageFile) : Buffer.from(options.message!, 'utf8');
  if (message.length === 0 || message.length > MAX_MAC_MESSAGE) throw new CliError(`the message must be 1 to ${MAX_MAC_MESSAGE} bytes (KMS's limit), and it has ${message.length}.`, EXIT.USAGE);
  return message;
}

type Outcome = { match: boolean; check: string; detail: Record<string, unknown>; lines: string[] };

async function verifyAsymmetric(kms: ReturnType<typeof kmsClient>, m: KeyMetadata, options: VerifyOptions): Promise<Outcome> {
  const hsm = readPublicKey(options.publicKey!);
  let der: Uint8Array;
  try {
    der = (await kms.send(new GetPublicKeyCommand({ KeyId: m.Arn }))).PublicKey!;
  } catch (error) {
    throw awsError(`Reading the public key of ${m.Arn} with kms:GetPublicKey`, error, KMS_HINT);
  }
  const kmsKey = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  const difference = publicKeyDifference(kmsKey, hsm);
  const detail = { kmsPublicKeySha256: fingerprint(kmsKey), filePublicKeySha256: fingerprint(hsm), difference };
  return {
    match: !difference, check: 'public-key', detail,
    lines: difference
      ? [`MISMATCH: the public key of ${m.Arn} (${m.KeySpec}) is not the one in ${options.publicKey}: ${difference}.`,
        `  SHA-256 of the DER SubjectPublicKeyInfo: KMS ${detail.kmsPublicKeySha256}, file ${detail.filePublicKeySha256}`]
      : [`MATCH: the public key of ${m.Arn} (${m.KeySpec}) equals the one in ${options.publicKey} (DER SubjectPublicKeyInfo, SHA-256 ${detail.kmsPublicKeySha256}).`],
  };
}

async function verifyHmac(kms: ReturnType<typeof kmsClient>, m: KeyMetadata, options: VerifyOptions): Promise<Outcome> {
  const bits = Number(m.KeySpec!.slice('HMAC_'.length));
  const algorithm = `HMAC_SHA_${bits}` as MacAlgorithmSpec;
  const message = readMessage(options);
  const mac = readMac(options, bits / 8);
  let valid: boolean;
  try {
    valid = (await kms.send(new VerifyMacCommand({ KeyId: m.Arn, Message: message, Mac: mac, MacAlgorithm: algorithm }))).MacValid === true;
  } catch (error) {
    if ((error as { name?: string }).name !== 'KMSInvalidMacException') throw awsError(`Verifying the MAC with kms:VerifyMac on ${m.Arn}`, error, KMS_HINT);
    valid = false;
  }
  const detail = { macAlgorithm: algorithm, messageBytes: message.length };
  return {
    match: valid, check: 'known-answer-mac', detail,
    lines: [valid ? `MATCH: ${m.Arn} (${m.KeySpec}) computes the HSM's ${algorithm} MAC over the ${message.length}-byte message (kms:VerifyMac): it holds the HSM's key.`
      : `MISMATCH: kms:VerifyMac says the HSM's ${algorithm} MAC over the ${message.length}-byte message is not what ${m.Arn} computes: the key holds other material, or the message or MAC is not the one the HSM used.`],
  };
}

async function verifySymmetric(kms: ReturnType<typeof kmsClient>, m: KeyMetadata, options: VerifyOptions): Promise<Outcome> {
  const plaintext = randomBytes(32);
  const context = { purpose: 'imported-kms-key verify' };
  let roundTrip: boolean;
  try {
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: m.Arn, Plaintext: plaintext, EncryptionContext: context }));
    const { Plaintext } = await kms.send(new DecryptCommand({ KeyId: m.Arn, CiphertextBlob, EncryptionContext: context }));
    roundTrip = Buffer.from(Plaintext!).equals(plaintext);
  } catch (error) {
    throw awsError(`An Encrypt/Decrypt round trip with ${m.Arn} (kms:Encrypt, kms:Decrypt)`, error, KMS_HINT);
  }
  const current = m.CurrentKeyMaterialId;
  const idMatch = options.keyMaterialId === undefined ? undefined : options.keyMaterialId === current;
  const detail = { roundTrip, currentKeyMaterialId: current, expectedKeyMaterialId: options.keyMaterialId };
  const why = 'KMS\'s ciphertext format cannot be reproduced outside KMS, so no HSM known-answer test exists for SYMMETRIC_DEFAULT';
  return {
    match: roundTrip && idMatch !== false, check: 'round-trip', detail,
    lines: [
      `${roundTrip && idMatch !== false ? 'WORKS' : 'MISMATCH'}: ${m.Arn} (SYMMETRIC_DEFAULT) ${roundTrip ? 'encrypts and decrypts (a round trip of 32 random bytes)' : 'failed its Encrypt/Decrypt round trip'}; `
        + `current KeyMaterialId ${current ?? 'not reported'}.`,
      ...(idMatch === undefined ? [`  ${why}: compare that KeyMaterialId with the one of your import (upload's result, status), or pass --key-material-id.`]
        : idMatch ? ['  The KeyMaterialId is the one you expected (--key-material-id).']
          : [`  The KeyMaterialId is not the one you expected (--key-material-id ${options.keyMaterialId}): the key holds other material, or was rotated since.`]),
    ],
  };
}

export async function verify(options: VerifyOptions): Promise<void> {
  const kms = kmsClient(options.region ?? regionOfArn(options.key));
  try {
    const m = await describeKey(kms, options.key);
    const spec = m.KeySpec ?? 'SYMMETRIC_DEFAULT';
    const kind = spec.startsWith('HMAC_') ? 'hmac' : spec === 'SYMMETRIC_DEFAULT' ? 'symmetric' : 'asymmetric';
    const given = { asymmetric: options.publicKey !== undefined, hmac: [options.mac, options.macFile, options.message, options.messageFile].some((o) => o !== undefined), symmetric: options.keyMaterialId !== undefined };
    const needs = { asymmetric: '--public-key <file>', hmac: '--message or --message-file, and --mac or --mac-file', symmetric: 'nothing (--key-material-id optional)' }[kind];
    for (const other of (['asymmetric', 'hmac', 'symmetric'] as const).filter((k) => k !== kind)) {
      if (given[other]) throw new CliError(`${m.Arn} is a ${spec} key: verify takes ${needs} for it, not the options of a${other === 'asymmetric' ? 'n' : ''} ${other} key.`, EXIT.USAGE);
    }
    if (kind === 'asymmetric' && !given.asymmetric) throw new CliError(`${m.Arn} is a ${spec} key: give the HSM's public key with --public-key <file>.`, EXIT.USAGE);
    if (m.KeyState !== 'Enabled') {
      throw new CliError(`${m.Arn} is ${m.KeyState}, so KMS cannot use it to verify anything${m.KeyState === 'PendingImport' ? ' (import its material first)' : ''}; nothing was checked.`, EXIT.REFUSED);
    }
    const outcome = await (kind === 'asymmetric' ? verifyAsymmetric : kind === 'hmac' ? verifyHmac : verifySymmetric)(kms, m, options);
    report(options.json, { keyArn: m.Arn, keySpec: spec, keyState: m.KeyState, check: outcome.check, match: outcome.match, ...outcome.detail }, outcome.lines);
    if (!outcome.match) process.exitCode = EXIT.REFUSED;
  } finally {
    kms.destroy();
  }
}
