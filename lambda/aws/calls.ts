/**
 * The small steps every operation composes: read the material, get import parameters, describe
 * the key, wrap and import. Each throws the SDK's error as it came; callers map it.
 */
import {
  DescribeKeyCommand, GetKeyLastUsageCommand, GetKeyLastUsageResponse, GetParametersForImportCommand, ImportKeyMaterialCommand, KeyMetadata, KMSClient, ListKeyRotationsCommand, RotateKeyOnDemandCommand,
  RotationsListEntry,
} from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { materialDescription, type ResolvedImportProperties as ImportProperties } from '../../lib/shared/contract';
import { Expiration, ImportType } from '../decisions/expiration';
import { decodeSecretValue, normaliseMaterial } from '../material/decode';
import { wrapKeyMaterial } from '../material/wrap';

export interface Clients {
  readonly kms: KMSClient;
  readonly secrets: SecretsManagerClient;
  /** KMS in another Region (a replica's primary); the handler's own client when absent. */
  readonly kmsIn?: (region: string) => KMSClient;
}

/** The clients that reach the Region of `keyArn` (a multi-Region primary's, from its replica). */
export function clientsFor(clients: Clients, keyArn: string): Clients {
  const region = keyArn.split(':')[3];
  return region && clients.kmsIn ? { ...clients, kms: clients.kmsIn(region) } : clients;
}

/** What GetParametersForImport returned: a wrapping public key and its import token. */
export interface ImportParameters {
  readonly ImportToken?: Uint8Array;
  readonly PublicKey?: Uint8Array;
  /** When KMS stops accepting the token (24 hours after the call). */
  readonly ParametersValidTo?: Date;
}

/** Reads the secret and returns the material as KMS must receive it. The caller zeroes it. */
export async function readMaterial(clients: Clients, props: ImportProperties): Promise<Buffer> {
  const value = await clients.secrets.send(new GetSecretValueCommand({ SecretId: props.SecretId, VersionStage: props.VersionStage }));
  try {
    const decoded = decodeSecretValue(value, { secretId: props.SecretId!, jsonField: props.JsonField, encoding: props.Encoding });
    try {
      return normaliseMaterial(decoded, props.KeySpec);
    } finally {
      decoded.fill(0);
    }
  } finally {
    value.SecretBinary?.fill(0); // a SecretString cannot be wiped: JavaScript strings are immutable
  }
}

export async function getParameters(clients: Clients, props: ImportProperties): Promise<ImportParameters> {
  return clients.kms.send(new GetParametersForImportCommand({
    KeyId: props.KeyArn,
    WrappingKeySpec: props.WrappingKeySpec as 'RSA_2048',
    WrappingAlgorithm: props.WrappingAlgorithm as 'RSAES_OAEP_SHA_256',
  }));
}

export async function describeKey(clients: Clients, keyArn: string): Promise<KeyMetadata> {
  return (await clients.kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata ?? { KeyId: keyArn };
}

/** Wraps `material` under the parameters' public key and imports it; returns the KeyMaterialId KMS reports. */
export async function sendImport(clients: Clients, props: ImportProperties, material: Buffer, parameters: ImportParameters,
  expiration: Expiration, importType: ImportType): Promise<string | undefined> {
  const response = await clients.kms.send(new ImportKeyMaterialCommand({
    KeyId: props.KeyArn,
    ImportToken: parameters.ImportToken,
    EncryptedKeyMaterial: wrapKeyMaterial(material, parameters.PublicKey!, props.WrappingAlgorithm),
    ExpirationModel: expiration.validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    ValidTo: expiration.validTo,
    // Only symmetric encryption keys take ImportType and KeyMaterialDescription; KMS documents them for them alone.
    ImportType: props.KeySpec === 'SYMMETRIC_DEFAULT' ? importType : undefined,
    KeyMaterialDescription: props.KeySpec === 'SYMMETRIC_DEFAULT' ? materialDescription(props) : undefined,
  }));
  return response.KeyMaterialId;
}

/** Makes the material pending rotation the key's current material. */
export async function rotateOnDemand(clients: Clients, keyArn: string): Promise<void> {
  await clients.kms.send(new RotateKeyOnDemandCommand({ KeyId: keyArn }));
}

/** Every key material of a symmetric key, as ListKeyRotations reports them: the first, each rotation's, and any pending rotation. */
export async function listMaterials(clients: Clients, keyArn: string): Promise<RotationsListEntry[]> {
  const entries: RotationsListEntry[] = [];
  let Marker: string | undefined;
  do {
    const page = await clients.kms.send(new ListKeyRotationsCommand({ KeyId: keyArn, IncludeKeyMaterial: 'ALL_KEY_MATERIAL', Marker }));
    entries.push(...(page.Rotations ?? []));
    Marker = page.Truncated ? page.NextMarker : undefined;
  } while (Marker);
  return entries;
}

/** When KMS last saw the key used for a cryptographic operation, and since when it tracks that. */
export async function keyLastUsage(clients: Clients, keyArn: string): Promise<GetKeyLastUsageResponse> {
  return clients.kms.send(new GetKeyLastUsageCommand({ KeyId: keyArn }));
}
