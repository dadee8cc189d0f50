import { Annotations, CustomResource, Stack, type TagManager, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { constructError } from './construct-error';
import { secondsOf, secondsProperty } from './expiration-rules';
import { ImportProvider } from './import-provider';
import { ImportGuardrails, KeyPolicyHolder } from './handler-permissions';
import type { KeySettings } from './key-construction';
import { lockKeyMaterial } from './key-lock';
import { lockDownMaterial } from './material-lockdown';
import { tagMaterialSource } from './key-tags';
import { lockImportToHandler } from './offline-import-lock';
import { OfflineStore, offlineStore, sweepTimings } from './offline-wrapping';
import type { KeyMaterialLock } from '../key-material-lock';
import { KeyMaterial, KeyMaterialEncoding } from '../key-material';
import { DEFAULT_KEY_SPEC, DEFAULT_SHRED_IF_UNUSED_FOR_SECONDS } from '../shared/limits';
import { ATTRIBUTE, IMPORT_RESOURCE_TYPE, MaterialSource, withoutDefaults } from '../shared/contract';

/** Which key gets which materials: the rest of the import is in the key's settings. */
export interface ImportTarget {
  /** The key's ARN as CloudFormation knows it before the import. */
  readonly keyArn: string;
  /** Where the key policy takes statements; absent for a key this stack did not create (adoption). */
  readonly keyPolicy?: KeyPolicyHolder;
  /** Adoption (a key this stack did not create): the key usage it must have. */
  readonly adoptedKeyUsage?: string;
  /** The key's id as CloudFormation knows it before the import (offline wrapping names the key's prefix by it); absent for adoption. */
  readonly keyId?: string;
  /** The key's L1 (its whole key policy, for the lock's size check), and the lock on the key's material, if any. */
  readonly keyResource?: { readonly keyPolicy: unknown; readonly tags?: TagManager };
  readonly materialLock?: KeyMaterialLock;
  /** Every material, oldest first, the current one last. */
  readonly materials: KeyMaterial[];
  /** A multi-Region replica: it takes the primary's material as EXISTING_KEY_MATERIAL. */
  readonly replica?: boolean;
  /** A replica's primary: a replica that rotates lists and rotates it (the last replica to import completes the rotation). */
  readonly primaryKeyArn?: string;
  readonly handlerRuntime?: lambda.Runtime;
}

/** The import custom resource's attributes. */
export interface MaterialImport {
  readonly keyArn: string;
  readonly keyId: string;
  readonly currentKeyMaterialId: string;
  /** Offline wrapping: the key's bucket and prefix. */
  readonly offline?: OfflineStore;
  /** The import handler's role. */
  readonly handlerRole: iam.IRole;
}

/**
 * Adds the custom resource that imports the material into the key, with the handler's permissions
 * (key policy statements, or role statements for an adopted key; secret reads), the material locks and the renewal schedule entry.
 */
export function importMaterial(scope: Construct, settings: KeySettings, target: ImportTarget): MaterialImport {
  const { materials } = target;
  const { validTo, validity, renewalInterval } = settings.expiration;
  const previous = materials.slice(0, -1);
  // Offline rotation: the handler lists the key's materials and rotates it (offline-rotation-rules.ts).
  const generation = materials[materials.length - 1].offlineWrapping?.materialGeneration;
  const provider = ImportProvider.of(scope, target.handlerRuntime);
  const guardrails: ImportGuardrails = {
    wrappingKeySpec: settings.wrappingKeySpec,
    wrappingAlgorithm: settings.wrappingAlgorithm,
    expirationModel: validTo || validity ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    latestValidTo: validTo,
    shred: settings.shred,
    shredChecksUsage: settings.shred && settings.shredIfUnusedFor !== '0',
    rotate: (previous.length > 0 || generation !== undefined) && (target.replica ? 'replica' : true),
    // The adoption proof of a symmetric key (or one whose spec is known only at deploy time) lists its materials.
    list: !target.keyPolicy && (String(settings.keySpec) === DEFAULT_KEY_SPEC || Token.isUnresolved(settings.keySpec)),
  };
  const secretAccess = target.keyPolicy ? provider.permissions.serve(target.keyPolicy, materials, guardrails)
    : grantOnIdentity(scope, provider, target.keyArn, materials, guardrails);
  // Only a key this stack creates has a key policy to lock (an adopted key offers no materialLock).
  if (target.materialLock && target.keyPolicy) lockKeyMaterial(scope, target.keyPolicy, target.keyResource, target.materialLock, provider.role);
  const locked = new Set<secretsmanager.ISecret>();
  const current = materials[materials.length - 1];
  if (current.offlineWrapping && (!target.keyPolicy || !target.keyId)) {
    throw constructError(scope, 'KeyMaterial.fromOfflineWrapping() needs a key this stack creates (its key policy holds the import lock); '
      + 'an existing key cannot take it yet. Use KeyMaterial.fromSecret(...), or create the key with ImportedKmsKey.');
  }
  const offline = current.offlineWrapping ? offlineStore(scope, provider.role, current.offlineWrapping, target.keyId!) : undefined;
  if (offline) {
    // materialLock already denies these actions (and more) to all but the handler and break-glass.
    if (!target.materialLock) lockImportToHandler(target.keyPolicy!, provider.role);
    provider.deliverUploads(offline.bucket);
  }
  tagMaterialSource(target.keyResource, offline?.bucket.bucketName);
  for (const material of materials) {
    if (!material.secret || !material.lockdown || locked.has(material.secret)) continue;
    locked.add(material.secret);
    lockDownMaterial(scope, material.secret, material.lockdown, provider.role);
  }
  const resolved = {
    KeyArn: target.keyArn,
    KeySpec: settings.keySpec,
    ...sourceOf(current),
    ParameterBucket: offline?.bucket.bucketName,
    MaterialGeneration: generation === undefined ? undefined : (Token.isUnresolved(generation) ? Token.asString(generation) : String(generation)),
    PreviousMaterials: previous.length > 0 ? previous.map(sourceOf) : undefined,
    ValidTo: validTo?.toISOString().replace('.000Z', 'Z'),
    RollingValidity: validity ? secondsProperty(scope, 'validity', validity) : undefined,
    // An interval known only at deploy time cannot be turned into seconds here: without it, each deploy re-imports.
    RenewalInterval: renewalInterval && secondsOf(renewalInterval) !== undefined ? String(secondsOf(renewalInterval)) : undefined,
    WrappingKeySpec: settings.wrappingKeySpec,
    WrappingAlgorithm: settings.wrappingAlgorithm,
    ShredOnDelete: settings.shred ? 'true' : undefined,
    // The default window stays out of the template; the handler applies it to a shred without one.
    ShredIfUnusedFor: settings.shredIfUnusedFor === String(DEFAULT_SHRED_IF_UNUSED_FOR_SECONDS) ? undefined : settings.shredIfUnusedFor,
    Replica: target.replica ? 'true' : undefined,
    PrimaryKeyArn: target.replica && previous.length > 0 ? target.primaryKeyArn : undefined,
    Adopt: target.keyPolicy ? undefined : 'true',
    KeyUsage: target.keyPolicy ? undefined : target.adoptedKeyUsage,
  };
  const properties = {
    ...withoutDefaults(resolved),
    // The handler would fill in the default of the key spec it receives, which synth cannot know: name it.
    ...(Token.isUnresolved(settings.keySpec) ? { WrappingAlgorithm: settings.wrappingAlgorithm } : {}),
  };
  const importResource = new CustomResource(scope, 'Import', {
    serviceToken: provider.serviceToken,
    resourceType: IMPORT_RESOURCE_TYPE,
    properties: { ...properties },
  });
  importResource.node.addDependency(secretAccess);
  if (resolved.PrimaryKeyArn) {
    // The primary's key policy lets the account delegate through IAM, so nothing reaches back into its stack (deployed first).
    const rotatePrimary = provider.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:ListKeyRotations', 'kms:RotateKeyOnDemand', 'kms:DescribeKey'], resources: [resolved.PrimaryKeyArn],
    }));
    if (rotatePrimary.policyDependable) importResource.node.addDependency(rotatePrimary.policyDependable);
  }
  const keyArn = importResource.getAttString(ATTRIBUTE.KEY_ARN);
  // The schedule names the key by the import's KeyArn, so it starts only once the import succeeded.
  if (validity && renewalInterval) provider.renewals.add({ ...properties, KeyArn: keyArn }, renewalInterval);
  // Offline wrapping: the hourly sweep and the bucket's refresh requests name the key the same way.
  if (offline) provider.offlineSweep.add({ ...properties, KeyArn: keyArn, ...sweepTimings(current.offlineWrapping!) }, offline.bucket);
  return {
    keyArn,
    keyId: importResource.getAttString(ATTRIBUTE.KEY_ID),
    currentKeyMaterialId: importResource.getAttString(ATTRIBUTE.KEY_MATERIAL_ID),
    offline,
    handlerRole: provider.role,
  };
}

/**
 * The handler's permissions on a key whose policy this stack cannot edit: on its role, scoped to
 * the key, with the same guardrails; and an info annotation with the key policy statements for a
 * key whose policy does not delegate to IAM (the default key policy does).
 */
function grantOnIdentity(scope: Construct, provider: ImportProvider, keyArn: string, materials: KeyMaterial[], guardrails: ImportGuardrails): IDependable {
  const { dependable, keyPolicyStatements } = provider.permissions.serveOnIdentity(keyArn, materials, guardrails);
  const document = new iam.PolicyDocument({ statements: keyPolicyStatements });
  Annotations.of(scope).addInfo(`The key policy of ${Stack.of(scope).resolve(keyArn)} is not this stack's, so the import handler's permissions are granted on its role, `
    + 'which is enough when the key policy delegates to IAM (the default key policy does: "Enable IAM User Permissions" for the account root). '
    + `If it does not, add these statements to the key policy (aws kms put-key-policy) before deploying: ${JSON.stringify((Stack.of(scope).resolve(document.toJSON()) as { Statement: unknown }).Statement)}`);
  return dependable;
}

/** Where one material is read from, as the handler's properties name it. */
export function sourceOf(material: KeyMaterial): MaterialSource {
  if (!material.secret) return {};
  return {
    SecretId: material.secret.secretFullArn ?? material.secret.secretArn,
    JsonField: material.jsonField,
    VersionStage: material.versionStage,
    Encoding: material.encoding === KeyMaterialEncoding.AUTO ? undefined : material.encoding,
  };
}
