/**
 * Every failure becomes one actionable sentence: what happened and what to do. Messages name keys,
 * secrets and settings, never material, wrapped material or import tokens, and never pass on the
 * text of an underlying error.
 */

import { ImportError, Step } from './import-error';
import { MAX_ON_DEMAND_ROTATIONS, MAX_VALIDITY_DAYS } from '../../lib/shared/limits';

const KMS_ACTION: Readonly<Record<Exclude<Step, 'read-secret'>, string>> = {
  'get-parameters': 'GetParametersForImport',
  'import': 'ImportKeyMaterial',
  'import-new': 'ImportKeyMaterial (NEW_KEY_MATERIAL)',
  'rotate': 'RotateKeyOnDemand',
  'describe-key': 'DescribeKey',
  'list-materials': 'ListKeyRotations',
  'last-usage': 'GetKeyLastUsage',
  'delete-material': 'DeleteImportedKeyMaterial',
  'import-upload': 'ImportKeyMaterial (uploaded wrapped material)',
  'import-upload-new': 'ImportKeyMaterial (uploaded new material, NEW_KEY_MATERIAL)',
};

const KMS_ERRORS: Readonly<Record<string, string>> = {
  DependencyTimeoutException: 'KMS timed out, even after retries. Retry the deployment.',
  KMSInternalException: 'KMS had an internal error, even after retries. Retry the deployment.',
  ExpiredImportTokenException: 'the import token expired before ImportKeyMaterial used it, even after fetching a fresh one. Retry the deployment.',
  InvalidImportTokenException: 'KMS rejected the import token: it does not belong to this key. Make sure nothing else imports into this key at the same time, then retry the deployment.',
  IncorrectKeyMaterialException: 'KMS rejected the key material: it differs from the material this key already holds, and a deploy only re-imports the key\'s own material (new material for a symmetric key is a rotation, not a re-import: see README, "Changing the material"). Put the original material back in the secret or point versionStage at it, or create a new ImportedKmsKey for the new material.',
  InvalidCiphertextException: 'KMS could not unwrap the key material with the chosen wrapping key spec and algorithm. Check that wrappingAlgorithm suits this key spec (RSA keys need RSA_AES_KEY_WRAP_SHA_256), then retry.',
  InvalidArnException: 'the key ARN is not a valid KMS key ARN. Reference a KMS key of this account and Region.',
  NotFoundException: 'the KMS key does not exist: it was deleted outside CloudFormation, or belongs to another account or Region. Restore the key, or remove this ImportedKmsKey from the stack.',
  KMSInvalidStateException: 'the KMS key is in a state that does not accept imports (for example PendingDeletion or Disabled). Cancel its deletion or enable it, then retry the deployment.',
  UnsupportedOperationException: 'the KMS key does not accept imported material: its Origin is not EXTERNAL, or it lives in a custom key store. Use a key created with Origin EXTERNAL.',
  AccessDeniedException: 'the import handler is not allowed to use this KMS key. Keep the "AllowImportedKmsKeyHandler..." statements in the key policy (they allow exactly what the handler does with this key).',
  ValidationException: `KMS rejected the request parameters (for example a ValidTo in the past or more than ${MAX_VALIDITY_DAYS} days ahead). Fix the expiration, then retry.`,
  LimitExceededException: 'KMS request rate limits were exceeded, even after retries. Retry the deployment later.',
  ThrottlingException: 'KMS throttled the requests, even after retries. Retry the deployment later.',
};

/** Where a step's refusal means something else than for an import of the key's own material. */
const STEP_ERRORS: Readonly<Partial<Record<Step, Readonly<Record<string, string>>>>> = {
  // Offline wrapping: the operator's next step is another wrap or a fresh set, never a deployment.
  'import-upload': {
    ExpiredImportTokenException: 'the parameter set lapsed before the import. Request a fresh set (npx imported-kms-key parameters), wrap again under its public key and upload.',
    InvalidImportTokenException: 'KMS rejected the set\'s import token for this key. Request a fresh set, wrap again under its public key and upload.',
    InvalidCiphertextException: 'KMS could not unwrap the upload with this set\'s private key and wrapping algorithm. Wrap the material again under this set\'s public key, with the algorithm its manifest names, and upload.',
    IncorrectKeyMaterialException: 'KMS refused the material: it differs from the material this key already holds (a re-import takes only the key\'s own material). Wrap the key\'s original material and upload.',
    KMSInvalidStateException: 'the key is in a state that takes no import (Disabled or PendingDeletion). Cancel its deletion or enable it, then upload again.',
  },
  // Offline rotation: the upload is new material for a symmetric key.
  'import-upload-new': {
    ExpiredImportTokenException: 'the parameter set lapsed before the import. Request a fresh set (npx imported-kms-key parameters), wrap again under its public key and upload.',
    InvalidImportTokenException: 'KMS rejected the set\'s import token for this key. Request a fresh set, wrap again under its public key and upload.',
    InvalidCiphertextException: 'KMS could not unwrap the upload with this set\'s private key and wrapping algorithm. Wrap the material again under this set\'s public key, with the algorithm its manifest names, and upload.',
    IncorrectKeyMaterialException: 'KMS refused it as new material: the key already holds these bytes (an earlier material of this key). Generate new material in the HSM, wrap it under this set\'s public key and upload.',
    KMSInvalidStateException: 'the key takes no new material now: it must be Enabled or PendingImport, and no other material may be pending rotation. Check it with aws kms list-key-rotations --include-key-material ALL_KEY_MATERIAL, then upload again.',
    UnsupportedOperationException: 'the key does not take new material: only symmetric encryption keys rotate. Create a new ImportedKmsKey for the new material.',
  },
  'import-new': {
    IncorrectKeyMaterialException: 'KMS refused it as new material for this key. Check that the secret holds 32 bytes of new material, then retry the deployment.',
    KMSInvalidStateException: 'the key does not take new material now: it must be Enabled, and no other material may be pending rotation. Check the key in the KMS console (ListKeyRotations), then retry.',
    UnsupportedOperationException: 'the key does not take new material: only symmetric encryption keys with Origin EXTERNAL rotate (a multi-Region replica takes new material only after its primary). Create a new ImportedKmsKey for the new material.',
  },
  'rotate': {
    LimitExceededException: `the key has used all its on-demand rotations (KMS allows ${MAX_ON_DEMAND_ROTATIONS} per key). The new material stays pending: delete it `
      + '(aws kms delete-imported-key-material --key-id <key> --key-material-id <id of the PENDING_ROTATION material from aws kms list-key-rotations --include-key-material ALL_KEY_MATERIAL>), '
      + 'and put the new material in a new ImportedKmsKey.',
    ConflictException: 'an automatic rotation of the key is in progress or about to start. Retry the deployment in 20 minutes.',
    DisabledException: 'the key is Disabled, and a deploy never enables it. Enable it (aws kms enable-key) if it should be in use, then deploy again.',
    KMSInvalidStateException: 'KMS reports no material pending rotation, or a key state that does not rotate (PendingImport: some material expired or was deleted). Check the key with aws kms list-key-rotations --include-key-material ALL_KEY_MATERIAL, then retry.',
    UnsupportedOperationException: 'KMS rotates on demand only symmetric encryption keys (a multi-Region key rotates through its primary). Create a new ImportedKmsKey for the new material.',
  },
};

const SECRET_ERRORS: Readonly<Record<string, string>> = {
  ResourceNotFoundException: 'the secret (or the requested version stage) does not exist. Create it, or fix the secret and versionStage given to KeyMaterial.fromSecret.',
  AccessDeniedException: 'the import handler may not read the secret. Keep the handler role\'s SecretReadPolicy, and let it decrypt with the secret\'s KMS key if it uses a customer managed key.',
  DecryptionFailure: 'Secrets Manager could not decrypt the secret with its KMS key. Make sure that key is enabled and its policy lets the import handler decrypt through Secrets Manager.',
  InvalidRequestException: 'Secrets Manager refused the request: the secret may be scheduled for deletion. Restore it (RestoreSecret), then retry the deployment.',
  InvalidParameterException: 'Secrets Manager rejected the secret id or version stage. Check the secret and versionStage given to KeyMaterial.fromSecret.',
  InternalServiceError: 'Secrets Manager had an internal error, even after retries. Retry the deployment.',
  ThrottlingException: 'Secrets Manager throttled the requests, even after retries. Retry the deployment later.',
};

/** Error codes of a failed connection (Node.js system errors), as the SDK passes them on. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

/** The cause of a failure to reach the service at all (no HTTP response), or undefined. */
export function networkCause(error: unknown): string | undefined {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!e || e.$metadata?.httpStatusCode !== undefined) return undefined;
  if (e.code && NETWORK_CODES.has(e.code)) return e.code;
  return e.name && NETWORK_NAMES.has(e.name) ? e.name : undefined;
}

function unreachable(service: string, endpoint: string, cause: string): string {
  return `Could not reach ${service} from the import handler (${cause}), even after retries. Check the handler's network path to ${endpoint}: `
    + 'a VPC endpoint or NAT gateway if it runs in a VPC, proxy and firewall settings, DNS; then retry the deployment.';
}

/** Turns any error thrown while importing into an ImportError with one actionable sentence. */
export function toImportError(error: unknown, step: Step, keyArn: string, secretId: string | undefined): ImportError {
  if (error instanceof ImportError) return error;
  const name = (error as { name?: string } | undefined)?.name ?? 'Error';
  const network = networkCause(error);
  if (network) {
    return new ImportError(step === 'read-secret'
      ? unreachable('AWS Secrets Manager', 'the Secrets Manager endpoint (secretsmanager.<region>.amazonaws.com)', network)
      : unreachable('AWS KMS', 'the KMS endpoint (kms.<region>.amazonaws.com)', network), network);
  }
  if (step === 'read-secret') {
    return new ImportError(`Could not read the key material from secret ${secretId} (${name}): `
      + (SECRET_ERRORS[name] ?? 'an unexpected error occurred. Check the secret exists and the handler may read it, then retry.'), name);
  }
  return new ImportError(`${KMS_ACTION[step]} failed for KMS key ${keyArn} (${name}): `
    + (STEP_ERRORS[step]?.[name]?.replace('<key>', keyArn) ?? KMS_ERRORS[name] ?? 'an unexpected error occurred. Retry the deployment; if it persists, check the key in the KMS console.'), name);
}

/** Why a deploy does not import into a key an operator disabled or scheduled for deletion, and what to do. */
export function stateSentence(keyArn: string, state: string): string {
  if (state === 'Disabled') {
    return `KMS key ${keyArn} is Disabled, and a deploy never imports into a disabled key or enables it (someone disabled it, perhaps on purpose). `
      + `If the key should be in use again, enable it (aws kms enable-key --key-id ${keyArn}), then deploy again.`;
  }
  return `KMS key ${keyArn} is PendingDeletion, so it takes no import. To keep the key, cancel its deletion `
    + `(aws kms cancel-key-deletion --key-id ${keyArn}), enable it if it held material (aws kms enable-key --key-id ${keyArn}), then deploy again.`;
}

// ---- Adoption (ImportedKeyMaterial): every refusal says what KMS holds, that nothing changed, and what to do.

/** A key ImportedKeyMaterial cannot adopt, as DescribeKey shows it. */
export const ADOPTION = {
  origin: (keyArn: string, origin: string) => `KMS key ${keyArn} has Origin ${origin}, not EXTERNAL: KMS (or its key store) made its material, so no material can be imported into it `
    + 'and ImportedKeyMaterial cannot adopt it. Nothing was changed. Keep managing that key as it is, or create an ImportedKmsKey for your material.',
  keySpec: (keyArn: string, held: string, wanted: string) => `KMS key ${keyArn} is a ${held} key, but keySpec says ${wanted}. Nothing was changed. `
    + `If this is the key you mean, set keySpec to ${held} (and keyUsage to its usage), then deploy again.`,
  keyUsage: (keyArn: string, held: string, wanted: string) => `KMS key ${keyArn} has key usage ${held}, but keyUsage says ${wanted}. Nothing was changed. `
    + `If this is the key you mean, set keyUsage to ${held}, then deploy again.`,
  disabled: (keyArn: string) => `KMS key ${keyArn} is Disabled, and adopting it never imports into a disabled key or enables it (someone disabled it, perhaps on purpose). `
    + `Nothing was changed. If the key should be in use, enable it (aws kms enable-key --key-id ${keyArn}), then deploy again.`,
  pendingDeletion: (keyArn: string) => `KMS key ${keyArn} is PendingDeletion, and adopting it never cancels a deletion. Nothing was changed. To keep the key, `
    + `cancel its deletion (aws kms cancel-key-deletion --key-id ${keyArn}) and enable it (aws kms enable-key --key-id ${keyArn}), then deploy again.`,
  otherState: (keyArn: string, state: string) => `KMS key ${keyArn} is ${state}, and a key is adopted only when it is Enabled or PendingImport. Nothing was changed. `
    + 'Wait until KMS reports it Enabled (or PendingImport), then deploy again.',
  lapsed: (keyArn: string, ids: string[]) => `KMS key ${keyArn} is PendingImport but held material before (${ids.join(', ')}: it expired, or someone deleted it), `
    + 'and adopting a key never brings material back. Nothing was changed. If the material should come back, re-import the key\'s own material by hand '
    + '(README: "Restoring deleted material"), check the key is Enabled, then deploy again.',
  pending: (keyArn: string, id: string) => `KMS key ${keyArn} has material pending rotation (KeyMaterialId ${id}), and adoption proves only materials the key uses. `
    + `Nothing was changed. Make it current (aws kms rotate-key-on-demand --key-id ${keyArn}) and list it in keyMaterial, or delete it `
    + `(aws kms delete-imported-key-material --key-id ${keyArn} --key-material-id ${id}), then deploy again.`,
  count: (keyArn: string, held: string[], listed: number) => `KMS key ${keyArn} holds ${held.length} materials (${held.join(', ')}, oldest first), and this deployment lists ${listed}. `
    + 'Nothing was changed. List every material the key holds, oldest first in previousKeyMaterials and the current one in keyMaterial, then deploy again.',
  wrongMaterial: (keyArn: string, source: string, position: string) => `KMS refused the material from ${source} as ${position} of KMS key ${keyArn} `
    + '(IncorrectKeyMaterialException): it is not the material the key holds, so the key cannot be adopted with it. Nothing was changed. '
    + 'Put the key\'s own material in the secret (re-wrapped from where it was made, or exported from where it is kept), then deploy again.',
  otherMaterial: (keyArn: string, source: string, position: string, got: string | undefined, wanted: string) => `The material from ${source} is one of KMS key ${keyArn}'s `
    + `materials (${got ?? 'no KeyMaterialId reported'}), but not ${position} (${wanted}). KMS re-imported that material with the requested expiration and the secret's description; the key's state, `
    + 'policy and current material did not change. List the key\'s materials in the order it holds them (aws kms list-key-rotations --include-key-material ALL_KEY_MATERIAL), then deploy again.',
} as const;
