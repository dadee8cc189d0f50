/**
 * Offline wrapping, Create and Update: instead of importing, publish a fresh import-parameter set
 * (wrapping public key as DER and PEM, import token, manifest) under the key's prefix of the
 * parameter bucket, for an operator to wrap the material in an HSM. The deploy does not wait for
 * the ceremony: the key stays PendingImport until the upload is imported.
 *
 * A set is published only when the key needs an import (no material yet, or not the requested
 * expiration); a key that already holds what is asked, or that an operator disabled or scheduled
 * for deletion, is left alone. Publishing changes nothing in KMS but opens a 24-hour window, so a
 * re-sent Create, an Update and its rollback may each publish a set, and all succeed.
 * The token and the public key go to S3 only: never into the response or a log line.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { KeyMetadata } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import { IMPORTABLE_KEY_SPECS } from '../../lib/shared/key-spec-rules';
import {
  OFFLINE_FOLDER, offlinePrefix, PARAMETER_FILE, ParameterManifest, type ResolvedImportProperties,
} from '../../lib/shared/contract';
import { Clients, describeKey, getParameters } from '../aws/calls';
import { putObject } from '../aws/parameter-store';
import { Expiration, hasExpiration, requestedExpiration } from '../decisions/expiration';
import { ImportError } from '../errors/import-error';
import { toImportError } from '../errors/sentences';
import type { ConvergeResult } from './converge';
import type { SetTarget } from '../decisions/offline-generation';
import { publishGenerations } from './offline-rotation';

export interface OfflineClients extends Clients {
  readonly s3: S3Client;
}

/** What the HSM must produce, before wrapping, for each kind of key spec (KMS's import rules). */
const MATERIAL_FORMAT: Record<string, string> = {
  SYMMETRIC: '32 random bytes (a 256-bit AES key), raw',
  HMAC: 'the raw HMAC key bytes, as long as the key spec requires',
  RSA: 'the RSA private key as PKCS#8 DER (PrivateKeyInfo)',
  ECC: 'the ECC private key as PKCS#8 DER (PrivateKeyInfo, RFC 5915 inside)',
};

/** A published set's folder name (`<ParametersValidTo>-<digest16>`), when one was published. */
export type PublishResult = ConvergeResult & { readonly parameterSet?: string; readonly parametersValidTo?: string };

/**
 * Why the key needs no parameter set (no ceremony), or undefined when it does: it waits for material
 * (PendingImport) or holds another expiration than the one asked for. Also used by the sweep.
 */
export function whyNoSet(key: KeyMetadata, props: ResolvedImportProperties, expiration: Expiration | 'passed'): string | undefined {
  if (expiration === 'passed') return `the requested expiration ${props.ValidTo} has passed; no parameter set was published and the key keeps what it holds`;
  if (key.KeyState === 'Disabled' || key.KeyState === 'PendingDeletion') return `the key is ${key.KeyState}; no parameter set was published, so a deploy does not undo an operator's action`;
  // A rotated offline key: its materials decide (publishGenerations), not its expiration alone.
  if (props.MaterialGeneration) return undefined;
  if (key.KeyState !== 'PendingImport' && hasExpiration(key, expiration)) return 'the key already holds material with the requested expiration; no parameter set was needed';
  return undefined;
}

/** Publishes a parameter set when the key needs an import. Throws only ImportError. */
export async function publishParameters(clients: OfflineClients, props: ResolvedImportProperties, now = new Date()): Promise<PublishResult> {
  const keyArn = props.KeyArn;
  const keyId = keyArn.slice(keyArn.lastIndexOf('/') + 1);
  const expiration = requestedExpiration(props, now, false);
  const key = await describeKey(clients, keyArn).catch((e: unknown) => { throw toImportError(e, 'describe-key', keyArn, undefined); });
  const noSet = whyNoSet(key, props, expiration);
  if (noSet || expiration === 'passed') return { keyArn, keyId, imported: false, reason: noSet!, keyMaterialId: key.CurrentKeyMaterialId };
  // Offline rotation: the key's materials decide which sets (offline-rotation.ts).
  if (props.MaterialGeneration) return publishGenerations(clients, props, expiration, key, publishSet);
  return publishSet(clients, props, expiration, key);
}

/** Publishes one set (for `target`, one material of a rotated key; the key's own import otherwise). Throws only ImportError. */
export async function publishSet(clients: OfflineClients, props: ResolvedImportProperties, expiration: Expiration, key: KeyMetadata,
  target?: SetTarget): Promise<PublishResult> {
  const keyArn = props.KeyArn;
  const keyId = keyArn.slice(keyArn.lastIndexOf('/') + 1);
  const parameters = await getParameters(clients, props).catch((e: unknown) => { throw toImportError(e, 'get-parameters', keyArn, undefined); });
  if (!parameters.PublicKey || !parameters.ImportToken || !parameters.ParametersValidTo) {
    throw new ImportError(`KMS returned import parameters for ${keyArn} without a public key, token or ParametersValidTo. Retry the deployment.`);
  }
  // Named by ParametersValidTo (so sets sort by age) and the token's digest: KMS reports whole
  // seconds, and two sets of one second must not overwrite each other.
  const tokenDigest = createHash('sha256').update(parameters.ImportToken).digest('hex').slice(0, 16);
  const setName = `${parameters.ParametersValidTo.toISOString()}-${tokenDigest}`;
  const setPrefix = `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}${setName}/`;
  const der = Buffer.from(parameters.PublicKey);
  const pem = createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }).toString();
  const files: Record<string, Uint8Array | string> = {
    [PARAMETER_FILE.PUBLIC_KEY_DER]: der,
    [PARAMETER_FILE.PUBLIC_KEY_PEM]: pem,
    [PARAMETER_FILE.IMPORT_TOKEN]: Buffer.from(parameters.ImportToken),
  };
  const manifest = { ...manifestOf(props, expiration, parameters.ParametersValidTo, files, key.KeyState !== 'PendingImport'), ...target };
  try {
    // The files first, the manifest last: a set whose manifest is there is complete.
    await Promise.all(Object.entries(files).map(([name, body]) => putObject(clients.s3, props.ParameterBucket!, `${setPrefix}${name}`, body, 'application/octet-stream')));
    await putObject(clients.s3, props.ParameterBucket!, `${setPrefix}${PARAMETER_FILE.MANIFEST}`, JSON.stringify(manifest, null, 2), 'application/json');
  } catch (error) {
    throw new ImportError(`Could not write the import-parameter set of ${keyArn} to s3://${props.ParameterBucket}/${setPrefix} (${(error as Error).name}). `
      + 'Check that the bucket exists and the handler may write to it (its bucket policy, and the bucket\'s KMS key if any), then deploy again.');
  }
  return { keyArn, keyId, imported: false, keyMaterialId: key.CurrentKeyMaterialId, parameterSet: setName,
    parametersValidTo: manifest.parametersValidTo,
    reason: `published the import-parameter set s3://${props.ParameterBucket}/${setPrefix}, valid until ${manifest.parametersValidTo}; the key waits for the wrapped material` };
}

function manifestOf(props: ResolvedImportProperties, expiration: Expiration, validTo: Date, files: Record<string, Uint8Array | string>,
  reimport: boolean): ParameterManifest {
  const sha256: Record<string, string> = {};
  for (const [name, body] of Object.entries(files)) sha256[name] = createHash('sha256').update(body).digest('hex');
  const kind = IMPORTABLE_KEY_SPECS[props.KeySpec]?.kind ?? 'SYMMETRIC';
  return {
    keyArn: props.KeyArn,
    region: props.KeyArn.split(':')[3],
    keySpec: props.KeySpec,
    wrappingAlgorithm: props.WrappingAlgorithm,
    wrappingKeySpec: props.WrappingKeySpec,
    materialFormat: MATERIAL_FORMAT[kind],
    parametersValidTo: validTo.toISOString(),
    expirationModel: expiration.validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    validTo: expiration.validTo?.toISOString().replace('.000Z', 'Z'),
    importType: reimport || props.Replica === 'true' ? 'EXISTING_KEY_MATERIAL' : undefined,
    sha256,
  };
}
