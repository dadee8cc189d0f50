/**
 * Custom-resource handler behind the Provider framework: imports key material from Secrets
 * Manager into an EXTERNAL KMS key. It logs key ARNs and outcomes only, never material.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ATTRIBUTE, ImportProperties, withDefaults } from '../lib/contract';
import { ImportError } from './errors';
import { Clients, importKeyMaterial, ImportResult } from './import-material';

/** Transient KMS and Secrets Manager errors (throttling, 5xx, timeouts) are retried by the SDK. */
const clients: Clients = {
  kms: new KMSClient({ maxAttempts: 5 }),
  secrets: new SecretsManagerClient({ maxAttempts: 5 }),
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

export const handler = async (event: ProviderEvent): Promise<ProviderResponse> => {
  const keyArn = event.ResourceProperties.KeyArn;
  try {
    const response = await dispatch(event);
    log(event.RequestType, keyArn, 'succeeded');
    return response;
  } catch (error) {
    const safe = error instanceof ImportError ? error : new ImportError(`Importing key material into ${keyArn} failed unexpectedly. Retry the deployment.`);
    log(event.RequestType, keyArn, 'failed', safe.message);
    throw safe;
  }
};

async function dispatch(event: ProviderEvent): Promise<ProviderResponse> {
  const props = withDefaults(event.ResourceProperties);
  switch (event.RequestType) {
    case 'Create':
      return respond(await importKeyMaterial(clients, props, 'NEW_KEY_MATERIAL'));
    case 'Update':
      // Same key: a re-import (new expiration, rollback, ...), which must be the same material.
      // Another key: a replaced key (no material yet) or, in a rollback, the old key (its material);
      // KMS's own default tells them apart (NEW when nothing was ever imported, EXISTING otherwise).
      return respond(await importKeyMaterial(clients, props,
        event.OldResourceProperties?.KeyArn === props.KeyArn ? 'EXISTING_KEY_MATERIAL' : undefined));
    default:
      // Delete leaves the material in place: the key's removal policy decides the key's fate.
      // It makes no API call, so it also succeeds after a failed Create and for a key that is gone.
      return { PhysicalResourceId: event.PhysicalResourceId ?? props.KeyArn };
  }
}

function respond(result: ImportResult): ProviderResponse {
  const data: Record<string, string> = { [ATTRIBUTE.KEY_ARN]: result.keyArn, [ATTRIBUTE.KEY_ID]: result.keyId };
  if (result.keyMaterialId) data[ATTRIBUTE.KEY_MATERIAL_ID] = result.keyMaterialId;
  return { PhysicalResourceId: result.keyArn, Data: data };
}

function log(requestType: string, keyArn: string, outcome: string, reason?: string): void {
  console.log(JSON.stringify({ requestType, keyArn, outcome, ...(reason ? { reason } : {}) }));
}
