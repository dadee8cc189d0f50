import { Annotations, CustomResource, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ATTRIBUTE, IMPORT_RESOURCE_TYPE, MaterialSource, withoutDefaults } from '../shared/contract';
import { ImportProvider, KeyPolicyHolder } from './import-provider';
import { KeyMaterial, KeyMaterialEncoding } from '../key-material';
import { KeyMaterialExpiration, MAX_VALIDITY_DAYS } from '../key-material-expiration';
import { lockDownMaterial } from './material-lockdown';

/** What one key's import needs: the key, its materials and settings. */
export interface MaterialImportOptions {
  /** The key's ARN as CloudFormation knows it before the import, and where its key policy takes statements. */
  readonly keyArn: string;
  readonly keyPolicy: KeyPolicyHolder;
  readonly keySpec: kms.KeySpec;
  /** Every material, oldest first, the current one last. */
  readonly materials: KeyMaterial[];
  readonly expiration: KeyMaterialExpiration;
  readonly wrappingKeySpec: string;
  readonly wrappingAlgorithm: string;
  readonly shred: boolean;
  /** A multi-Region replica: it takes the primary's material as EXISTING_KEY_MATERIAL. */
  readonly replica?: boolean;
  readonly handlerRuntime?: lambda.Runtime;
}

/** The import custom resource's attributes. */
export interface MaterialImport {
  readonly keyArn: string;
  readonly keyId: string;
  readonly currentKeyMaterialId: string;
}

/**
 * Adds the custom resource that imports the material into the key, with the handler's permissions
 * (key policy statements, secret reads), the material locks and the renewal schedule entry.
 */
export function importMaterial(scope: Construct, options: MaterialImportOptions): MaterialImport {
  const { materials, expiration } = options;
  const { validTo, validity, renewalInterval } = expiration;
  if (validTo) validateExpiration(scope, validTo, new Date());
  const previous = materials.slice(0, -1);
  const provider = ImportProvider.of(scope, options.handlerRuntime);
  const secretAccess = provider.serve(options.keyPolicy, materials, {
    wrappingKeySpec: options.wrappingKeySpec,
    wrappingAlgorithm: options.wrappingAlgorithm,
    expirationModel: validTo || validity ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    latestValidTo: validTo,
    shred: options.shred,
    rotate: previous.length > 0,
  });
  const locked = new Set<secretsmanager.ISecret>();
  for (const material of materials) {
    if (!material.lockdown || locked.has(material.secret)) continue;
    locked.add(material.secret);
    lockDownMaterial(scope, material.secret, material.lockdown, provider.role);
  }
  const properties = withoutDefaults({
    KeyArn: options.keyArn,
    KeySpec: options.keySpec,
    ...sourceOf(materials[materials.length - 1]),
    PreviousMaterials: previous.length > 0 ? previous.map(sourceOf) : undefined,
    ValidTo: validTo?.toISOString().replace('.000Z', 'Z'),
    RollingValidity: validity ? String(validity.toSeconds()) : undefined,
    RenewalInterval: renewalInterval ? String(renewalInterval.toSeconds()) : undefined,
    WrappingKeySpec: options.wrappingKeySpec,
    WrappingAlgorithm: options.wrappingAlgorithm,
    ShredOnDelete: options.shred ? 'true' : undefined,
    Replica: options.replica ? 'true' : undefined,
  });
  const importResource = new CustomResource(scope, 'Import', {
    serviceToken: provider.serviceToken,
    resourceType: IMPORT_RESOURCE_TYPE,
    properties: { ...properties },
  });
  importResource.node.addDependency(secretAccess);
  const keyArn = importResource.getAttString(ATTRIBUTE.KEY_ARN);
  // The schedule names the key by the import's KeyArn, so it starts only once the import succeeded.
  if (validity && renewalInterval) provider.renewals.add({ ...properties, KeyArn: keyArn }, renewalInterval);
  return {
    keyArn,
    keyId: importResource.getAttString(ATTRIBUTE.KEY_ID),
    currentKeyMaterialId: importResource.getAttString(ATTRIBUTE.KEY_MATERIAL_ID),
  };
}

/** Crypto-shred only for a key that leaves for good: a kept key must keep its material. */
export function requireDestroy(scope: Construct, policy: RemovalPolicy): void {
  if (policy === RemovalPolicy.DESTROY) return;
  throw new Error(`${scope.constructor.name} ${scope.node.path}: shredMaterialOnRemoval needs removalPolicy RemovalPolicy.DESTROY, got ${policy}; `
    + 'a kept key must keep its material. Destroy the key, or do not shred.');
}

/** Where one material is read from, as the handler's properties name it. */
export function sourceOf(material: KeyMaterial): MaterialSource {
  return {
    SecretId: material.secret.secretFullArn ?? material.secret.secretArn,
    JsonField: material.jsonField,
    VersionStage: material.versionStage,
    Encoding: material.encoding === KeyMaterialEncoding.AUTO ? undefined : material.encoding,
  };
}

function validateExpiration(scope: Construct, validTo: Date, now: Date): void {
  if (validTo.getTime() <= now.getTime()) {
    // Not an error: the rest of the app must still synthesize, and a deploy of this key fails with a sentence.
    Annotations.of(scope).addWarningV2('imported-kms-key:expiration-passed', `expiration ${validTo.toISOString()} has passed, and KMS refuses to `
      + 'import a ValidTo in the past: a Create of this key fails, and an Update leaves the key with the material and expiration it holds. '
      + 'Move the expiration forward (at most 365 days ahead) and deploy, or use KeyMaterialExpiration.rolling().');
    return;
  }
  const latest = new Date(now.getTime() + MAX_VALIDITY_DAYS * 24 * 3600 * 1000);
  if (validTo.getTime() > latest.getTime()) {
    throw new Error(`${scope.constructor.name} ${scope.node.path}: expiration ${validTo.toISOString()} is more than `
      + `${MAX_VALIDITY_DAYS} days after now (latest ${latest.toISOString()}); KMS rejects a later ValidTo. `
      + 'Choose an earlier date and move it forward with later deployments.');
  }
}
