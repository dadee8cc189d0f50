/**
 * The import itself: read the secret while KMS prepares the wrapping key, check and wrap the
 * material, import it. Three API calls in two round trips; no polling.
 */
import { GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ResolvedImportProperties as ImportProperties } from '../lib/contract';
import { ImportError, Step, toImportError } from './errors';
import { decodeSecretValue, normaliseMaterial } from './material';
import { wrapKeyMaterial } from './wrap';

/**
 * NEW_KEY_MATERIAL for the first import into a key created with the resource, EXISTING_KEY_MATERIAL
 * for a re-import into the same key, undefined to let KMS decide (NEW when the key never held
 * material, EXISTING otherwise).
 */
export type ImportType = 'NEW_KEY_MATERIAL' | 'EXISTING_KEY_MATERIAL' | undefined;

export interface Clients {
  readonly kms: KMSClient;
  readonly secrets: SecretsManagerClient;
}

export interface ImportResult {
  readonly keyArn: string;
  readonly keyId: string;
  readonly keyMaterialId?: string;
}

const MAX_VALIDITY_MS = 365 * 24 * 3600 * 1000;

/**
 * Waits between retries of the first round trip when it fails the way eventual consistency makes
 * it fail right after the key or the handler's permissions were created: KMS documents that
 * GetParametersForImport may return NotFoundException just after CreateKey, and new IAM policies
 * take seconds to apply (AccessDeniedException). About 55 s in all, inside the 2-minute timeout.
 */
export const CONSISTENCY_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000, 8000, 16000, 24000];

export interface ImportOptions {
  /** The current time, for the expiration checks. */
  readonly now?: Date;
  /** How to wait between retries. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Imports the material of `props.SecretId` into `props.KeyArn`. Throws only ImportError. */
export async function importKeyMaterial(clients: Clients, props: ImportProperties, importType: ImportType, options: ImportOptions = {}): Promise<ImportResult> {
  const validTo = parseValidTo(props.ValidTo, options.now ?? new Date());
  const fail = (step: Step) => (error: unknown): never => { throw toImportError(error, step, props.KeyArn, props.SecretId); };
  const { material, parameters: firstParameters } = await firstRoundTrip(clients, props, importType, options.sleep ?? sleep);
  try {
    let parameters = firstParameters;
    // Round trip 2: the import. A token that expired in between is replaced once with a fresh one.
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await clients.kms.send(new ImportKeyMaterialCommand({
          KeyId: props.KeyArn,
          ImportToken: parameters.ImportToken,
          EncryptedKeyMaterial: wrapKeyMaterial(material, parameters.PublicKey!, props.WrappingAlgorithm),
          ExpirationModel: validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE',
          ValidTo: validTo,
          // Only symmetric encryption keys take ImportType; KMS documents it for them alone.
          ImportType: props.KeySpec === 'SYMMETRIC_DEFAULT' ? importType : undefined,
        }));
        return { keyArn: props.KeyArn, keyId: keyIdOf(props.KeyArn), keyMaterialId: response.KeyMaterialId };
      } catch (error) {
        if ((error as Error).name !== 'ExpiredImportTokenException' || attempt > 1) fail('import')(error);
        parameters = await getParameters(clients, props).catch(fail('get-parameters'));
      }
    }
  } finally {
    material.fill(0);
  }
}

/**
 * Round trip 1: reads the secret while KMS prepares a wrapping key. A bad secret is reported
 * first. Failures caused by eventual consistency are retried (see CONSISTENCY_RETRY_DELAYS_MS).
 */
async function firstRoundTrip(clients: Clients, props: ImportProperties, importType: ImportType, wait: (ms: number) => Promise<void>) {
  for (let retry = 0; ; retry++) {
    const [secret, parameters] = await Promise.allSettled([readMaterial(clients, props), getParameters(clients, props)]);
    if (secret.status === 'fulfilled' && parameters.status === 'fulfilled') return { material: secret.value, parameters: parameters.value };
    if (secret.status === 'fulfilled') secret.value.fill(0);
    const [step, error]: [Step, unknown] = secret.status === 'rejected' ? ['read-secret', secret.reason] : ['get-parameters', (parameters as PromiseRejectedResult).reason];
    const name = (error as Error | undefined)?.name;
    const settling = name === 'AccessDeniedException' || (name === 'NotFoundException' && step === 'get-parameters' && importType !== 'EXISTING_KEY_MATERIAL');
    if (!settling || retry >= CONSISTENCY_RETRY_DELAYS_MS.length) throw toImportError(error, step, props.KeyArn, props.SecretId);
    await wait(CONSISTENCY_RETRY_DELAYS_MS[retry]);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Parameters {
  readonly ImportToken?: Uint8Array;
  readonly PublicKey?: Uint8Array;
}

async function readMaterial(clients: Clients, props: ImportProperties): Promise<Buffer> {
  const value = await clients.secrets.send(new GetSecretValueCommand({ SecretId: props.SecretId, VersionStage: props.VersionStage }));
  try {
    const decoded = decodeSecretValue(value, { secretId: props.SecretId, jsonField: props.JsonField, encoding: props.Encoding });
    try {
      return normaliseMaterial(decoded, props.KeySpec);
    } finally {
      decoded.fill(0);
    }
  } finally {
    value.SecretBinary?.fill(0); // a SecretString cannot be wiped: JavaScript strings are immutable
  }
}

async function getParameters(clients: Clients, props: ImportProperties): Promise<Parameters> {
  return clients.kms.send(new GetParametersForImportCommand({
    KeyId: props.KeyArn,
    WrappingKeySpec: props.WrappingKeySpec as 'RSA_2048',
    WrappingAlgorithm: props.WrappingAlgorithm as 'RSAES_OAEP_SHA_256',
  }));
}

function parseValidTo(validTo: string | undefined, now: Date): Date | undefined {
  if (!validTo) return undefined;
  const date = new Date(validTo);
  if (Number.isNaN(date.getTime())) throw new ImportError(`ValidTo '${validTo}' is not an ISO-8601 date. Use KeyMaterialExpiration.at(date).`);
  if (date.getTime() <= now.getTime()) {
    throw new ImportError(`The expiration ${validTo} is in the past, so KMS would refuse the import. Move the expiration forward, or use KeyMaterialExpiration.never(), and deploy again.`);
  }
  if (date.getTime() - now.getTime() > MAX_VALIDITY_MS) {
    throw new ImportError(`The expiration ${validTo} is more than 365 days away, so KMS would refuse the import. Choose an earlier date and deploy again.`);
  }
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function keyIdOf(keyArn: string): string {
  return keyArn.slice(keyArn.lastIndexOf('/') + 1);
}
