import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { constructError } from './construct-error';
import { acknowledgeNagFinding } from './nag-acknowledgement';
import type { KeySettings } from './key-construction';
import type { KeyMaterial, OfflineWrappingOptions } from '../key-material';
import { OFFLINE_FOLDER } from '../shared/contract';
import {
  DEFAULT_REFRESH_BEFORE_SECONDS, DEFAULT_REMIND_BEFORE_SECONDS, MAX_REFRESH_BEFORE_SECONDS, MAX_VALIDITY_DAYS, MIN_REFRESH_BEFORE_SECONDS, MIN_REMIND_BEFORE_SECONDS,
} from '../shared/limits';
import { secondsOf } from './expiration-rules';
import { validateGeneration } from './offline-rotation-rules';

/** Construct id of the stack's parameter bucket, beside the one provider. */
const BUCKET_ID = 'ImportedKmsKeyParameters';

/** Where one key's ceremony happens: its bucket and its prefix there. */
export interface OfflineStore {
  readonly bucket: s3.IBucket;
  /** `<region>/<keyId>/`, with every part a token until deploy time. */
  readonly prefix: string;
}

/**
 * The stack's parameter bucket, created on first use: private, versioned, TLS only, SSE-S3, kept
 * when the stack goes (it records every ceremony).
 */
export function parameterBucket(scope: Construct): s3.IBucket {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(BUCKET_ID) as s3.Bucket | undefined;
  if (existing) return existing;
  const bucket = new s3.Bucket(stack, BUCKET_ID, {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledgeNagFinding(bucket, 'AwsSolutions-S1',
    'The bucket holds only wrapping public keys, import tokens bound to one key for 24 hours, HSM-wrapped blobs and results; '
      + 'every import is recorded by CloudTrail (ImportKeyMaterial) and in a result object. Server access logs would need a second bucket per stack: '
      + 'pass your own bucket (with logging) through KeyMaterial.fromOfflineWrapping({ bucket }) to have them.');
  return bucket;
}

/**
 * Sets up one key's offline ceremony: the handler may read and write the key's prefix (granted once
 * per bucket, so the role's policy does not grow with keys), and each operator gets the prefix's
 * operator access.
 */
export function offlineStore(scope: Construct, handlerRole: iam.IRole, options: OfflineWrappingOptions, keyId: string): OfflineStore {
  const bucket = options.bucket ?? parameterBucket(scope);
  // The same prefix offlinePrefix() (lib/shared/contract.ts) computes from the key's ARN at deploy time.
  const prefix = `${Stack.of(scope).region}/${keyId}/`;
  const granted = handlerGrants.get(handlerRole) ?? new Set<s3.IBucket>();
  handlerGrants.set(handlerRole, granted);
  if (!granted.has(bucket)) {
    granted.add(bucket);
    // One statement per bucket, not per key: the role's policy does not grow with keys.
    handlerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'], resources: [bucket.arnForObjects('*')] }));
    acknowledgeResources(scope, handlerRole, [bucket.arnForObjects('*')],
      'The one import handler of the stack reads and writes the import-parameter sets, uploads and results of every offline key in this bucket; '
      + 'one statement per bucket keeps its policy from growing with keys.');
  }
  const store = { bucket, prefix };
  for (const operator of options.operators ?? []) grantOperator(store, operator);
  return store;
}

const handlerGrants = new WeakMap<iam.IRole, Set<s3.IBucket>>();

/**
 * An operator's access, and nothing more: list the key's prefix, read its parameter sets and
 * results, put wrapped blobs and refresh requests. No KMS permission at all.
 */
export function grantOperator(store: OfflineStore, grantee: iam.IGrantable): iam.Grant {
  const { bucket, prefix } = store;
  const read = iam.Grant.addToPrincipalOrResource({
    grantee, actions: ['s3:GetObject'], resource: bucket,
    resourceArns: [bucket.arnForObjects(`${prefix}${OFFLINE_FOLDER.PARAMETERS}*`), bucket.arnForObjects(`${prefix}${OFFLINE_FOLDER.RESULTS}*`)],
  });
  const write = iam.Grant.addToPrincipalOrResource({
    grantee, actions: ['s3:PutObject'], resource: bucket,
    resourceArns: [bucket.arnForObjects(`${prefix}${OFFLINE_FOLDER.UPLOADS}*`), bucket.arnForObjects(`${prefix}${OFFLINE_FOLDER.REQUESTS}*`)],
  });
  const list = iam.Grant.addToPrincipalOrResource({
    grantee, actions: ['s3:ListBucket'], resource: bucket, resourceArns: [bucket.bucketArn],
  });
  for (const statement of [list.principalStatement, list.resourceStatement]) statement?.addCondition('StringLike', { 's3:prefix': [`${prefix}*`] });
  const folders = [OFFLINE_FOLDER.PARAMETERS, OFFLINE_FOLDER.RESULTS, OFFLINE_FOLDER.UPLOADS, OFFLINE_FOLDER.REQUESTS];
  acknowledgeResources(bucket, grantee, folders.map((folder) => bucket.arnForObjects(`${prefix}${folder}*`)),
    'An offline-wrapping operator reads every parameter set and result, and uploads wrapped material, under one key\'s prefix of its parameter bucket, and nowhere else.');
  return read.combine(write).combine(list);
}

/** What kind of key the offline material is for: a multi-Region primary, or a replica. */
export interface OfflineKeyKind {
  readonly multiRegion?: boolean;
  readonly replica?: boolean;
}

/**
 * What offline wrapping cannot do (yet), refused at synth with the reason: a rolling expiration
 * (a parameter set lives 24 hours, so nothing can be wrapped ahead of a renewal), crypto-shred (not
 * built for this mode), mixing it with secrets in one key's history, and a materialGeneration that
 * cannot work (offline-rotation-rules.ts).
 */
export function validateOffline(scope: Construct, settings: KeySettings, materials: KeyMaterial[], kind: OfflineKeyKind = {}): void {
  const current = materials[materials.length - 1];
  if (!current.offlineWrapping) {
    if (materials.some((m) => m.offlineWrapping)) throw constructError(scope, 'previousKeyMaterials cannot hold KeyMaterial.fromOfflineWrapping(): rotate an offline key with materialGeneration instead.');
    return;
  }
  if (settings.expiration.validity) {
    throw constructError(scope, 'KeyMaterial.fromOfflineWrapping() cannot use a rolling expiration: each renewal needs a fresh wrap in the HSM '
      + 'and an import-parameter set lives 24 hours, so nothing can be wrapped ahead. Use KeyMaterialExpiration.at(date) or never().');
  }
  if (materials.length > 1) {
    throw constructError(scope, 'previousKeyMaterials is not supported with KeyMaterial.fromOfflineWrapping(): an offline material has no source to list. '
      + 'Rotate with KeyMaterial.fromOfflineWrapping({ materialGeneration }) instead, raised by one per rotation.');
  }
  if (settings.shred) {
    throw constructError(scope, 'shredMaterialOnRemoval is not supported with KeyMaterial.fromOfflineWrapping() yet; delete the material by hand (DeleteImportedKeyMaterial).');
  }
  validateSweepTimings(scope, current.offlineWrapping, Boolean(settings.expiration.validTo));
  validateGeneration(scope, settings, current.offlineWrapping.materialGeneration, kind);
}

/**
 * The sweep's timings (offline-sweep.ts), checked at synth (tokens skipped): refreshBefore between one
 * sweep interval and a set's lifetime minus one (else every hourly run would publish), remindBefore
 * between a day and KMS's longest validity, and only for an expiration that can come.
 */
function validateSweepTimings(scope: Construct, options: OfflineWrappingOptions, expires: boolean): void {
  const refresh = options.refreshBefore && secondsOf(options.refreshBefore);
  if (refresh !== undefined && (refresh < MIN_REFRESH_BEFORE_SECONDS || refresh > MAX_REFRESH_BEFORE_SECONDS)) {
    throw constructError(scope, `KeyMaterial.fromOfflineWrapping(): refreshBefore must be between ${MIN_REFRESH_BEFORE_SECONDS / 3600} and ${MAX_REFRESH_BEFORE_SECONDS / 3600} hours `
      + `(a parameter set lives 24 hours and the sweep runs hourly); got ${options.refreshBefore!.toHumanString()}.`);
  }
  if (!options.remindBefore) return;
  if (!expires) {
    throw constructError(scope, 'KeyMaterial.fromOfflineWrapping(): remindBefore has nothing to remind of: the material never expires (KeyMaterialExpiration.never()). '
      + 'Remove remindBefore, or give an expiration with KeyMaterialExpiration.at(date).');
  }
  const remind = secondsOf(options.remindBefore);
  if (remind !== undefined && (remind < MIN_REMIND_BEFORE_SECONDS || remind > MAX_VALIDITY_DAYS * 86_400)) {
    throw constructError(scope, `KeyMaterial.fromOfflineWrapping(): remindBefore must be between 1 and ${MAX_VALIDITY_DAYS} days (KMS's longest validity); `
      + `got ${options.remindBefore.toHumanString()}.`);
  }
}

/** The key's sweep timings as its entry carries them: only those that differ from the defaults. */
export function sweepTimings(options: OfflineWrappingOptions): { RefreshBefore?: string; RemindBefore?: string } {
  const seconds = (d: Duration | undefined, fallback: number) => {
    if (!d) return undefined;
    const s = secondsOf(d);
    if (s === fallback) return undefined;
    return s === undefined ? Token.asString(d.toSeconds()) : String(s);
  };
  return { RefreshBefore: seconds(options.refreshBefore, DEFAULT_REFRESH_BEFORE_SECONDS), RemindBefore: seconds(options.remindBefore, DEFAULT_REMIND_BEFORE_SECONDS) };
}

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 for exactly these object ARNs on `grantee` (when it is a
 * construct), in the form cdk-nag names them: `<LogicalId>` for a Ref, `<LogicalId.Attr>` for a GetAtt.
 */
function acknowledgeResources(scope: Construct, grantee: iam.IGrantable, arns: string[], reason: string): void {
  if (!Construct.isConstruct(grantee)) return;
  const stack = Stack.of(scope);
  const nagForm = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const v = value as { Ref?: string; 'Fn::GetAtt'?: string[]; 'Fn::Join'?: [string, unknown[]] };
    if (v.Ref) return `<${v.Ref}>`;
    if (v['Fn::GetAtt']) return `<${v['Fn::GetAtt'].join('.')}>`;
    if (v['Fn::Join']) return v['Fn::Join'][1].map(nagForm).join(v['Fn::Join'][0]);
    return JSON.stringify(value);
  };
  for (const arn of arns) acknowledgeNagFinding(grantee, 'AwsSolutions-IAM5', reason, `Resource::${nagForm(stack.resolve(arn))}`);
}
