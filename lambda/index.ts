/**
 * Custom-resource handler behind the Provider framework: imports key material from Secrets
 * Manager into an EXTERNAL KMS key. It logs key ARNs and outcomes only, never material.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ATTRIBUTE, ImportProperties, OfflineSweepEvent, RenewalEvent, withDefaults } from '../lib/shared/contract';
import { SDK_CONNECTION_TIMEOUT_MS, SDK_MAX_ATTEMPTS } from '../lib/shared/limits';
import { converge, ConvergeResult } from './operations/converge';
import { ImportError } from './errors/import-error';
import { writeMetric } from './metrics';
import { renew, RenewalSummary } from './operations/renew';
import type { RotationWaiting } from './operations/multi-region';
import { shred } from './operations/shred';
import { publishParameters } from './operations/publish-parameters';
import { importUpload, isS3ObjectCreated, S3ObjectCreatedEvent, UploadClients, UploadOutcome } from './operations/import-upload';
import { sweepOffline, SweepSummary } from './operations/offline-sweep';

/**
 * Transient KMS and Secrets Manager errors (throttling, 5xx, resets, timeouts) are retried by the
 * SDK. A connection that cannot be opened fails after 5 s instead of waiting for the Lambda timeout
 * (an endpoint that a VPC without endpoints or NAT silently drops).
 */
const sdkConfig = { maxAttempts: SDK_MAX_ATTEMPTS, requestHandler: { connectionTimeout: SDK_CONNECTION_TIMEOUT_MS } };
const kmsByRegion = new Map<string, KMSClient>();
const clients: UploadClients = {
  kms: new KMSClient(sdkConfig),
  secrets: new SecretsManagerClient(sdkConfig),
  s3: new S3Client(sdkConfig),
  events: new EventBridgeClient(sdkConfig),
  // A replica that rotates reaches its primary in the primary's Region.
  kmsIn: (region) => {
    if (!kmsByRegion.has(region)) kmsByRegion.set(region, new KMSClient({ ...sdkConfig, region }));
    return kmsByRegion.get(region)!;
  },
};

/** The event the Provider framework passes on (the CloudFormation request, without ResponseURL use). */
export interface ProviderEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: ImportProperties;
  readonly OldResourceProperties?: ImportProperties;
}

/** What the Provider framework sends back to CloudFormation. */
export interface ProviderResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

export async function handler(event: RenewalEvent): Promise<RenewalSummary>;
export async function handler(event: OfflineSweepEvent): Promise<SweepSummary>;
export async function handler(event: S3ObjectCreatedEvent): Promise<UploadOutcome>;
export async function handler(event: ProviderEvent): Promise<ProviderResponse>;
export async function handler(event: ProviderEvent | RenewalEvent | OfflineSweepEvent | S3ObjectCreatedEvent): Promise<ProviderResponse | RenewalSummary | SweepSummary | UploadOutcome> {
  // The stack's renewal schedule (rolling expirations) sends the keys to renew.
  if ('ImportedKmsKeyRenewal' in event) return renew(clients, event.ImportedKmsKeyRenewal, log);
  // Offline wrapping: the hourly sweep, or a refresh request (its rule sends the same keys).
  if ('ImportedKmsKeyOffline' in event) return sweepOffline(clients, event.ImportedKmsKeyOffline.Trigger, event.ImportedKmsKeyOffline.Keys, log);
  // Offline wrapping: an operator uploaded wrapped material (S3 through EventBridge).
  if (isS3ObjectCreated(event)) return onUpload(event);
  return onCloudFormationEvent(event);
}

/**
 * A refusal is a result, not an error (Lambda would retry it for nothing); only an S3 failure to read
 * the set or write the result throws, so EventBridge's retry delivers the upload again.
 */
async function onUpload(event: S3ObjectCreatedEvent): Promise<UploadOutcome> {
  try {
    const outcome = await importUpload(clients, event);
    log({ requestType: 'Upload', ...outcome });
    return outcome;
  } catch (error) {
    const safe = error instanceof ImportError ? error : new ImportError('The import of an uploaded wrapped material failed unexpectedly; EventBridge retries the delivery.');
    log({ requestType: 'Upload', outcome: 'failed', upload: event.detail.object.key, reason: safe.message });
    throw safe;
  }
}

async function onCloudFormationEvent(event: ProviderEvent): Promise<ProviderResponse> {
  const keyArn = event.ResourceProperties.KeyArn;
  try {
    if (event.RequestType === 'Delete') {
      // Delete leaves the material in place unless the key opted into crypto-shred: the key's
      // removal policy decides its fate. Without shred it makes no API call, so it succeeds after a
      // failed Create and for a key that is gone. Shred only a key this resource imported into.
      const shredding = event.ResourceProperties.ShredOnDelete === 'true' && event.PhysicalResourceId === keyArn;
      const shredded = shredding ? await shred(clients, withDefaults(event.ResourceProperties)) : undefined;
      log({ requestType: 'Delete', keyArn, outcome: 'succeeded', shreddedMaterials: shredded }); // JSON leaves out undefined
      return { PhysicalResourceId: event.PhysicalResourceId ?? keyArn };
    }
    // Offline wrapping: publish an import-parameter set for the HSM ceremony; the upload imports.
    if (event.ResourceProperties.ParameterBucket) {
      const published = await publishParameters(clients, withDefaults(event.ResourceProperties));
      log({ requestType: event.RequestType, keyArn, outcome: 'succeeded', imported: false, reason: published.reason });
      return respond(published);
    }
    // Create, and Update of the same key or (a replacement, or its rollback) of another key.
    const result = await converge(clients, {
      requestType: event.RequestType, props: withDefaults(event.ResourceProperties), oldProps: event.OldResourceProperties,
    });
    log({ requestType: event.RequestType, keyArn, outcome: 'succeeded', imported: result.imported, reason: result.reason });
    if (result.waiting) writeWaitingMetric(keyArn, result.waiting);
    return respond(result);
  } catch (error) {
    const safe = error instanceof ImportError ? error : new ImportError(`The ${event.RequestType} of the key material of ${keyArn} failed unexpectedly. Retry the deployment.`);
    log({ requestType: event.RequestType, keyArn, outcome: 'failed', reason: safe.message });
    throw safe;
  }
}

function respond(result: ConvergeResult): ProviderResponse {
  const data: Record<string, string> = { [ATTRIBUTE.KEY_ARN]: result.keyArn, [ATTRIBUTE.KEY_ID]: result.keyId };
  // Always present, so that the currentKeyMaterialId attribute resolves even for keys KMS reports no id for.
  data[ATTRIBUTE.KEY_MATERIAL_ID] = result.keyMaterialId ?? '';
  return { PhysicalResourceId: result.keyArn, Data: data };
}

/**
 * A rotation of a multi-Region key that waits for replicas: one Embedded Metric Format line, so
 * CloudWatch counts RotationsWaitingForReplicas per key, and the event a log query can find.
 */
function writeWaitingMetric(keyArn: string, waiting: RotationWaiting): void {
  writeMetric('RotationsWaitingForReplicas', 1, 'KeyId', {
    KeyId: waiting.primaryKeyArn.slice(waiting.primaryKeyArn.lastIndexOf('/') + 1),
    event: 'RotationWaitingForReplicas',
    keyArn,
    primaryKeyArn: waiting.primaryKeyArn,
    pendingKeyMaterialId: waiting.pendingKeyMaterialId,
  });
}

/** One JSON line per event (per key for a renewal): what was asked, the outcome, and why (a sentence, never material). */
function log(entry: object): void {
  console.log(JSON.stringify(entry));
}
