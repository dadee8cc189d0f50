/**
 * The wrap recipe for one parameter set: what the HSM must support, and the exact commands for
 * openssl (a proof of concept: the material is in a file), the AWS CloudHSM CLI and a YubiHSM 2.
 * Sources: the KMS Developer Guide "Step 3: Encrypt the key material" (the openssl commands), the
 * CloudHSM CLI reference (`key import pem`, `key wrap rsa-oaep`, `key wrap rsa-aes`), yubihsm-shell
 * (`put-public-wrapkey`, `get-rsa-wrapped-key`). Only names and paths go in: never a key or token.
 */
import { join } from 'node:path';
import { IMPORTABLE_KEY_SPECS, WRAPPING_ALGORITHMS, WRAPPING_KEY_BITS } from '../lib/shared/key-spec-rules';
import { PARAMETER_FILE, type ParameterManifest } from '../lib/shared/contract';

/** The file the recipes write, and `upload --file` takes. */
export const WRAPPED_FILE = 'wrapped-material.bin';
/** The file the openssl recipe reads: the plaintext material, as the manifest's materialFormat says. */
export const MATERIAL_FILE = 'material.bin';

export interface Recipe {
  readonly hsmMustSupport: string;
  readonly openssl: string[];
  readonly cloudHsm: string[];
  /** Commands, or a sentence why a YubiHSM cannot do this set. */
  readonly yubiHsm: string[];
  readonly yubiHsmPossible: boolean;
}

/** Single quotes for the shell (paths from --out). */
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function recipeFor(manifest: ParameterManifest, dir: string): Recipe {
  const algorithm = WRAPPING_ALGORITHMS[manifest.wrappingAlgorithm];
  const hash = algorithm.oaepHash;
  const bits = WRAPPING_KEY_BITS[manifest.wrappingKeySpec];
  const pem = q(join(dir, PARAMETER_FILE.PUBLIC_KEY_PEM));
  const oaep = `-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:${hash} -pkeyopt rsa_mgf1_md:${hash}`;
  const kind = IMPORTABLE_KEY_SPECS[manifest.keySpec]?.kind ?? 'SYMMETRIC';
  const label = `kms-wrap-${manifest.keyArn.slice(-8)}`;
  const hsmKey = kind === 'SYMMETRIC' ? 'an AES-256 key' : kind === 'HMAC' ? `a generic secret (HMAC) key of ${manifest.keySpec}'s length` : `a ${manifest.keySpec} private key`;
  const mechanism = algorithm.aesKeyWrap
    ? `CKM_RSA_AES_KEY_WRAP (RSA-OAEP with ${hash.toUpperCase()} and MGF1-${hash.toUpperCase()} over a fresh AES-256 key, then AES key wrap with padding, RFC 5649)`
    : `CKM_RSA_PKCS_OAEP with ${hash.toUpperCase()} and MGF1-${hash.toUpperCase()}, empty label`;
  const hsmMustSupport = `${mechanism}, under an imported ${bits}-bit RSA public key (${manifest.wrappingKeySpec}); the payload is ${hsmKey} `
    + `(${manifest.materialFormat}), created extractable (exportable under wrap).`;

  const openssl = algorithm.aesKeyWrap ? [
    'openssl rand -out aes-key.bin 32',
    `openssl enc -id-aes256-wrap-pad -K "$(od -An -v -tx1 aes-key.bin | tr -d ' \\n')" -iv A65959A6 -in ${MATERIAL_FILE} -out material-wrapped.bin`,
    `openssl pkeyutl -encrypt -pubin -inkey ${pem} -in aes-key.bin -out aes-key-wrapped.bin ${oaep}`,
    `cat aes-key-wrapped.bin material-wrapped.bin > ${WRAPPED_FILE}`,
    'rm -f aes-key.bin aes-key-wrapped.bin material-wrapped.bin',
  ] : [
    `openssl pkeyutl -encrypt -pubin -inkey ${pem} -in ${MATERIAL_FILE} -out ${WRAPPED_FILE} ${oaep}`,
  ];
  const cloudHsm = [
    `key import pem --path ${pem} --label ${label} --key-type-class rsa-public --attributes wrap=true`,
    `key wrap ${algorithm.aesKeyWrap ? 'rsa-aes' : 'rsa-oaep'} --payload-filter attr.label=<your key's label> --wrapping-filter attr.label=${label} `
      + `--hash-function ${hash} --mgf mgf1-${hash} --path ${WRAPPED_FILE}`,
  ];
  const yubiHsm = algorithm.aesKeyWrap ? [
    `yubihsm-shell -a put-public-wrapkey -i <wrap key id> -c export-wrapped --delegated exportable-under-wrap --in ${pem}`,
    `yubihsm-shell -a get-rsa-wrapped-key --wrap-id <wrap key id> -i <your key's object id> -t asymmetric-key --oaep rsa-oaep-${hash} --mgf1 mgf1-${hash} --out ${WRAPPED_FILE}`,
  ] : [
    `A YubiHSM 2 cannot wrap for ${manifest.wrappingAlgorithm}: it exports a key under an RSA public key only as the RSA_AES hybrid (yubihsm-shell issue #505), `
      + `and KMS accepts RSA_AES_KEY_WRAP_* only for RSA and ECC key specs${kind === 'RSA' || kind === 'ECC' ? ': deploy this key with wrappingAlgorithm RSA_AES_KEY_WRAP_SHA_256' : `, not ${manifest.keySpec}`}.`,
  ];
  return { hsmMustSupport, openssl, cloudHsm, yubiHsm, yubiHsmPossible: algorithm.aesKeyWrap };
}

/** The recipe as the human output prints it: one block per HSM family, commands indented. */
export function recipeLines(recipe: Recipe): string[] {
  return [
    `The HSM must support: ${recipe.hsmMustSupport}`,
    '',
    `openssl (proof of concept: the material is in ${MATERIAL_FILE} in plaintext; run in its folder):`,
    ...recipe.openssl.map((line) => `    ${line}`),
    '',
    'AWS CloudHSM CLI (logged in as the crypto user that owns the key):',
    ...recipe.cloudHsm.map((line) => `    ${line}`),
    '',
    'YubiHSM 2 (yubihsm-shell 2.5 or later, firmware 2.4 or later):',
    ...recipe.yubiHsm.map((line) => `    ${line}`),
    '',
    `Then: imported-kms-key upload --file ${WRAPPED_FILE} (same --bucket and --key).`,
  ];
}

/** Why a blob of `length` bytes cannot be a wrap of this set's material, or undefined if it can. */
export function blobLengthProblem(manifest: ParameterManifest, length: number): string | undefined {
  const modulus = WRAPPING_KEY_BITS[manifest.wrappingKeySpec] / 8;
  const algorithm = WRAPPING_ALGORITHMS[manifest.wrappingAlgorithm];
  const rule = IMPORTABLE_KEY_SPECS[manifest.keySpec];
  if (!algorithm || !modulus || !rule) return `the manifest names ${manifest.keySpec} / ${manifest.wrappingKeySpec} / ${manifest.wrappingAlgorithm}, which this CLI does not know`;
  if (!algorithm.aesKeyWrap) {
    return length === modulus ? undefined
      : `${manifest.wrappingAlgorithm} under ${manifest.wrappingKeySpec} gives exactly ${modulus} bytes, and the file has ${length}`;
  }
  // RSA_AES: the OAEP-wrapped AES key (the modulus' length), then RFC 5649 output: 8 bytes more than the material padded to 8.
  const padded = (n: number): number => 8 + Math.ceil(n / 8) * 8;
  const largest = modulus + padded(rule.largestMaterialBytes);
  const smallest = modulus + padded(rule.minBytes ?? 16);
  if (length < smallest || length > largest || (length - modulus) % 8 !== 0) {
    return `${manifest.wrappingAlgorithm} under ${manifest.wrappingKeySpec} for ${manifest.keySpec} gives ${modulus} bytes plus a multiple of 8 (${smallest} to ${largest} bytes in all), and the file has ${length}`;
  }
  return undefined;
}
