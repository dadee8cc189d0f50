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

/** NEW_KEY_MATERIAL for a key's first import, EXISTING_KEY_MATERIAL for every re-import. */
export type ImportType = 'NEW_KEY_MATERIAL' | 'EXISTING_KEY_MATERIAL';

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

/** Imports the material of `props.SecretId` into `props.KeyArn`. Throws only ImportError. */
export async function importKeyMaterial(clients: Clients, props: ImportProperties, importType: ImportType, now = new Date()): Promise<ImportResult> {
  const validTo = parseValidTo(props.ValidTo, now);
  const fail = (step: Step) => (error: unknown): never => { throw toImportError(error, step, props.KeyArn, props.SecretId); };
  // Round trip 1: read the secret while KMS prepares a wrapping key. A bad secret is reported first.
  const [secret, firstParameters] = await Promise.allSettled([readMaterial(clients, props), getParameters(clients, props)]);
  if (secret.status === 'rejected') fail('read-secret')(secret.reason);
  const material = (secret as PromiseFulfilledResult<Buffer>).value;
  try {
    if (firstParameters.status === 'rejected') fail('get-parameters')(firstParameters.reason);
    let parameters = (firstParameters as PromiseFulfilledResult<Parameters>).value;
    // Round trip 2: the import. A token that expired in between is replaced once with a fresh one.
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await clients.kms.send(new ImportKeyMaterialCommand({
          KeyId: props.KeyArn,
          ImportToken: parameters.ImportToken,
          EncryptedKeyMaterial: wrapKeyMaterial(material, parameters.PublicKey!, props.WrappingAlgorithm),
          ExpirationModel: validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE',
          ValidTo: validTo,
          // Only symmetric encryption keys take ImportType; KMS rejects it for HMAC and asymmetric keys.
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

interface Parameters {
  readonly ImportToken?: Uint8Array;
  readonly PublicKey?: Uint8Array;
}

async function readMaterial(clients: Clients, props: ImportProperties): Promise<Buffer> {
  const value = await clients.secrets.send(new GetSecretValueCommand({ SecretId: props.SecretId, VersionStage: props.VersionStage }));
  const decoded = decodeSecretValue(value, { secretId: props.SecretId, jsonField: props.JsonField, encoding: props.Encoding });
  try {
    return normaliseMaterial(decoded, props.KeySpec);
  } finally {
    decoded.fill(0);
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
