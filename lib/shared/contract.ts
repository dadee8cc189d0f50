/**
 * The contract between the construct (lib/) and the import handler (lambda/).
 *
 * Both sides import this file, so the property names cannot drift. It holds only
 * identifiers and settings: key material never travels through CloudFormation.
 * This file must not import aws-cdk-lib: it is bundled into the handler.
 */

import { defaultWrappingAlgorithm } from './key-spec-rules';
import { DEFAULT_KEY_SPEC, DEFAULT_WRAPPING_KEY_SPEC } from './limits';

/** CloudFormation type of the custom resource that imports the material. */
export const IMPORT_RESOURCE_TYPE = 'Custom::ImportedKmsKeyMaterial';

/** Resource properties of the custom resource (CloudFormation passes every value as a string). */
export interface ImportProperties {
  /** ARN of the KMS key (Origin EXTERNAL) that receives the material. */
  readonly KeyArn: string;
  /** KMS key spec of that key; SYMMETRIC_DEFAULT when absent. */
  readonly KeySpec?: string;
  /** ARN (full or partial) of the secret that holds the material; absent for offline wrapping. */
  readonly SecretId?: string;
  /**
   * Offline wrapping: the bucket the handler publishes import-parameter sets to, under the key's
   * prefix (offlinePrefix). Absent for material read from a secret.
   */
  readonly ParameterBucket?: string;
  /** JSON field of a JSON SecretString that holds the encoded material. */
  readonly JsonField?: string;
  /** Secret version stage to read; Secrets Manager's default (AWSCURRENT) when absent. */
  readonly VersionStage?: string;
  /** How a SecretString is encoded: AUTO, BASE64, HEX or PEM. */
  readonly Encoding?: string;
  /** Expiration of the imported material, ISO-8601 in whole seconds; absent when it never expires or rolls. */
  readonly ValidTo?: string;
  /** Rolling expiration: seconds from each import or renewal to ValidTo. */
  readonly RollingValidity?: string;
  /** Rolling expiration: seconds between renewals. */
  readonly RenewalInterval?: string;
  /** Spec of the RSA wrapping key KMS generates; DEFAULT_WRAPPING_KEY_SPEC when absent. */
  readonly WrappingKeySpec?: string;
  /** Wrapping algorithm; the key spec's default (see defaultWrappingAlgorithm) when absent. */
  readonly WrappingAlgorithm?: string;
  /** 'true' to delete every key material when the resource is deleted (crypto-shred); absent otherwise. */
  readonly ShredOnDelete?: string;
  /**
   * With ShredOnDelete: seconds for which the key must have gone unused (GetKeyLastUsage) before its
   * material is deleted; '0' deletes without asking; DEFAULT_SHRED_IF_UNUSED_FOR_SECONDS when absent.
   */
  readonly ShredIfUnusedFor?: string;
  /**
   * Symmetric keys only: the materials the key held before this one, oldest first (rotation). The
   * material named by SecretId & co. is the current one, always last.
   */
  readonly PreviousMaterials?: MaterialSource[];
  /** 'true' for a multi-Region replica key: it takes the primary's material, as EXISTING_KEY_MATERIAL. */
  readonly Replica?: string;
  /**
   * A replica that rotates: the ARN of its multi-Region primary (its Region is in it). After
   * importing a new material, the replica reads the primary's materials there and, once every
   * replica holds it, rotates the primary.
   */
  readonly PrimaryKeyArn?: string;
  /**
   * 'true' for a key this stack did not create (ImportedKeyMaterial): the first deploy that names
   * the key proves it may be adopted (Origin EXTERNAL, key spec and usage as given, the secret's
   * material the key's own or the key never held material) before it changes anything.
   */
  readonly Adopt?: string;
  /** The key usage an adopted key must have; the key spec's default usage when absent. */
  readonly KeyUsage?: string;
  /**
   * Offline wrapping of a symmetric key: how many materials the key should hold (1 for the first, one
   * more per rotation). When the key holds fewer, the handler publishes a NEW_KEY_MATERIAL set; when
   * it holds as many or more (a rollback), nothing is rotated. Absent: the key is not rotated.
   */
  readonly MaterialGeneration?: string;
}

/** Where one key material is read from: the same fields as for the current material. */
export interface MaterialSource {
  readonly SecretId?: string;
  readonly JsonField?: string;
  readonly VersionStage?: string;
  readonly Encoding?: string;
}

/** Every material of the key, oldest first: the previous ones, then the current one. */
export function materialSources(props: ImportProperties): MaterialSource[] {
  const current: MaterialSource = { SecretId: props.SecretId, JsonField: props.JsonField, VersionStage: props.VersionStage, Encoding: props.Encoding };
  return [...(props.PreviousMaterials ?? []), current];
}

/** The properties of one material of the key: the key's settings with that material's source. */
export function forMaterial<P extends ImportProperties>(props: P, source: MaterialSource): P {
  return { ...props, SecretId: source.SecretId, JsonField: source.JsonField, VersionStage: source.VersionStage, Encoding: source.Encoding };
}

/** A source's identity for comparisons: which secret, which field, which stage, which encoding. */
export function sourceKey(source: MaterialSource): string {
  return JSON.stringify([source.SecretId, source.JsonField ?? '', source.VersionStage ?? 'AWSCURRENT', source.Encoding ?? 'AUTO']);
}

/**
 * The KeyMaterialDescription the handler sets on each import of a symmetric key, so that
 * ListKeyRotations shows where each material came from: the secret, field and stage, never the
 * material. KMS allows 256 characters of letters, digits, spaces and `:/_.-`.
 */
export function materialDescription(source: MaterialSource): string {
  const parts = [`secret ${source.SecretId}`, source.JsonField ? `field ${source.JsonField}` : '', `stage ${source.VersionStage ?? 'AWSCURRENT'}`];
  return parts.filter(Boolean).join(' ').replace(/[^a-zA-Z0-9:/_\s.-]/g, '_').slice(0, 256);
}

/** Import properties with every default filled in, as the handler uses them. */
export type ResolvedImportProperties = ImportProperties & Required<Pick<ImportProperties, 'KeySpec' | 'WrappingKeySpec' | 'WrappingAlgorithm'>>;

/**
 * Settings left at their defaults are omitted from the template (each key's custom resource
 * stays small); both sides fill them in here, so they cannot disagree.
 */
export function withDefaults(props: ImportProperties): ResolvedImportProperties {
  const KeySpec = props.KeySpec ?? DEFAULT_KEY_SPEC;
  return {
    ...props,
    KeySpec,
    WrappingKeySpec: props.WrappingKeySpec ?? DEFAULT_WRAPPING_KEY_SPEC,
    WrappingAlgorithm: props.WrappingAlgorithm ?? defaultWrappingAlgorithm(KeySpec),
  };
}

/** The properties that differ from their defaults, for the template. */
export function withoutDefaults(props: ResolvedImportProperties): ImportProperties {
  const defaults = withDefaults({ KeyArn: props.KeyArn, SecretId: props.SecretId, KeySpec: props.KeySpec });
  const { KeySpec, WrappingKeySpec, WrappingAlgorithm, ...rest } = props;
  return {
    ...rest,
    KeySpec: KeySpec === DEFAULT_KEY_SPEC ? undefined : KeySpec,
    WrappingKeySpec: WrappingKeySpec === defaults.WrappingKeySpec ? undefined : WrappingKeySpec,
    WrappingAlgorithm: WrappingAlgorithm === defaults.WrappingAlgorithm ? undefined : WrappingAlgorithm,
  };
}

/** A scheduled renewal of rolling keys: the import properties of each key, as in the template. */
export interface RenewalEvent {
  readonly ImportedKmsKeyRenewal: ImportProperties[];
}

/** Attributes the handler returns in Data (never material, wrapped material or tokens). */
export const ATTRIBUTE = {
  KEY_ARN: 'KeyArn',
  KEY_ID: 'KeyId',
  KEY_MATERIAL_ID: 'KeyMaterialId',
} as const;

/**
 * Offline wrapping: the folders under a key's prefix. The handler writes parameter sets and
 * results; operators read those and write uploads (wrapped blobs) and requests (for a fresh set).
 */
export const OFFLINE_FOLDER = {
  PARAMETERS: 'parameters/',
  UPLOADS: 'uploads/',
  REQUESTS: 'requests/',
  RESULTS: 'results/',
} as const;

/** The files of one import-parameter set, under `<prefix>parameters/<ParametersValidTo>-<token digest>/`. */
export const PARAMETER_FILE = {
  PUBLIC_KEY_DER: 'wrapping-public-key.der',
  PUBLIC_KEY_PEM: 'wrapping-public-key.pem',
  IMPORT_TOKEN: 'import-token.bin',
  MANIFEST: 'manifest.json',
} as const;

/** A key's prefix in the parameter bucket, `<region>/<keyId>/`, from its ARN (arn:aws:kms:<region>:<account>:key/<id>). */
export function offlinePrefix(keyArn: string): string {
  const [, , , region, , resource] = keyArn.split(':');
  return `${region}/${resource.slice(resource.indexOf('/') + 1)}/`;
}

/**
 * What a parameter set promises, written by the handler beside the files (operators may read it,
 * never write it). The expiration is the one the CDK props asked for when the set was published:
 * an import uses it, never anything an upload says.
 */
export interface ParameterManifest {
  readonly keyArn: string;
  readonly region: string;
  readonly keySpec: string;
  readonly wrappingAlgorithm: string;
  readonly wrappingKeySpec: string;
  /** What the HSM must wrap: the material's format, as KMS expects it for this key spec. */
  readonly materialFormat: string;
  /** ISO-8601: the token and public key are refused by KMS after this. */
  readonly parametersValidTo: string;
  readonly expirationModel: 'KEY_MATERIAL_EXPIRES' | 'KEY_MATERIAL_DOES_NOT_EXPIRE';
  /** ISO-8601 in whole seconds, for KEY_MATERIAL_EXPIRES. */
  readonly validTo?: string;
  /** ImportType of the import this set is for (EXISTING_KEY_MATERIAL for a replica or a re-import). */
  readonly importType?: string;
  /**
   * With MaterialGeneration: which of the key's materials this set is for, counted from 1 (the first
   * material; each rotation adds one). A NEW_KEY_MATERIAL set is for the next one.
   */
  readonly materialGeneration?: number;
  /** An EXISTING_KEY_MATERIAL set for one material of a rotated key: the KeyMaterialId KMS must find the wrapped bytes to be. */
  readonly keyMaterialId?: string;
  /** That material's KeyMaterialDescription in ListKeyRotations, so the operator picks the right HSM key. */
  readonly keyMaterialDescription?: string;
  /** Hex SHA-256 of each file of the set, by file name. */
  readonly sha256: Record<string, string>;
}

/**
 * The KeyMaterialDescription the handler gives material imported from an offline set (symmetric
 * keys): its generation and the set it came from, so ListKeyRotations shows which ceremony made
 * each material, and a re-delivered upload finds the material it already imported.
 */
export function offlineMaterialDescription(generation: number, set: string): string {
  return `offline generation ${generation} set ${set}`.replace(/[^a-zA-Z0-9:/_\s.-]/g, '_').slice(0, 256);
}

/** The operator's upload of one set's wrapped material: `<prefix>uploads/<set name>/wrapped-material.bin` (set name = the parameters folder's name). */
export const UPLOAD_FILE = 'wrapped-material.bin';

/** EventBridge source and detail-type of the event the handler puts after each upload, imported or refused. */
export const UPLOAD_RESULT_EVENT = { SOURCE: 'imported-kms-key', DETAIL_TYPE: 'Imported Key Material Upload Result' } as const;

/** What the handler writes to `<prefix>results/<set name>.json` after an upload: never the token, the blob or the material. */
export interface UploadResult {
  readonly keyArn: string;
  /** The parameter set's folder name. */
  readonly set: string;
  readonly upload: { readonly key: string; readonly versionId?: string; readonly etag?: string };
  readonly outcome: 'imported' | 'refused';
  /** What happened and, when refused, what to do next. */
  readonly sentence: string;
  readonly keyMaterialId?: string;
  readonly keyState?: string;
  /** ISO-8601 time of the result. */
  readonly at: string;
}

/**
 * Offline wrapping, the sweep: one offline key as the stack's hourly schedule and its bucket's
 * request rule name it (rule inputs written at synth, so the expiration always comes from the
 * template): its import properties and two timings.
 */
export interface OfflineKeyEntry extends ImportProperties {
  /** Seconds: a fresh set is published when the freshest has less than this left; DEFAULT_REFRESH_BEFORE_SECONDS when absent. */
  readonly RefreshBefore?: string;
  /** Seconds before the material's ValidTo from which the reminder runs; DEFAULT_REMIND_BEFORE_SECONDS when absent. */
  readonly RemindBefore?: string;
}

/** What the schedule (Trigger 'schedule') and a refresh request (Trigger 'request', S3 through EventBridge) send the handler. */
export interface OfflineSweepEvent {
  readonly ImportedKmsKeyOffline: { readonly Trigger: 'schedule' | 'request'; readonly Keys: OfflineKeyEntry[] };
}

/**
 * Where the handler answers refresh requests and records reminders, under the key's prefix:
 * `results/answers/<request file name>` and `results/reminders/<ValidTo>.json`. Inside results/,
 * which operators may read but not write; beside the upload results, which are `results/<set>.json`.
 * No answer's key contains `/requests/`, so writing one does not match the request rule again.
 */
export const OFFLINE_ANSWER_FOLDER = { ANSWERS: `${OFFLINE_FOLDER.RESULTS}answers/`, REMINDERS: `${OFFLINE_FOLDER.RESULTS}reminders/` } as const;

/** The name a refresh request must have, `<ISO-8601 time>.json`, as the CLI writes it; other objects under requests/ are not requests. */
export const REFRESH_REQUEST_NAME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z\.json$/;

/** The handler's answer to one refresh request. It never reads the request's body: nothing in it reaches a call, a log line or this answer. */
export interface RefreshAnswer {
  readonly keyArn: string;
  /** The request's S3 key. */
  readonly request: string;
  /** published: a new set for it; fresh: the freshest set has enough time left; not-needed: the key needs no ceremony; refused: not a request the handler takes. */
  readonly outcome: 'published' | 'fresh' | 'not-needed' | 'refused';
  readonly sentence: string;
  /** The set to use (published or fresh). */
  readonly set?: string;
  readonly parametersValidTo?: string;
  /** ISO-8601 time of the answer. */
  readonly at: string;
}

/** EventBridge source and detail-type of the reminder the sweep puts when an offline key's material expires within its RemindBefore. */
export const EXPIRING_EVENT = { SOURCE: 'imported-kms-key', DETAIL_TYPE: 'Imported Key Material Expiring' } as const;

/** The CloudWatch namespace of the handler's metrics (Embedded Metric Format, lambda/metrics.ts). */
export const METRIC_NAMESPACE = 'ImportedKmsKey';

/** The CloudWatch metric (namespace ImportedKmsKey, dimension KeyId) the sweep writes, 1 per run, while a reminder is due. */
export const EXPIRING_METRIC = 'OfflineMaterialExpiring';

/**
 * Tags the construct puts on a key it creates, read by the operator CLI's `status` (ListResourceTags):
 * where the key's material comes from and, for offline wrapping, the parameter bucket's name.
 */
export const KEY_TAG = {
  MATERIAL_SOURCE: 'imported-kms-key:material-source',
  PARAMETER_BUCKET: 'imported-kms-key:parameter-bucket',
} as const;

/** Values of the KEY_TAG.MATERIAL_SOURCE tag. */
export const MATERIAL_SOURCE = {
  SECRETS_MANAGER: 'secrets-manager',
  OFFLINE_WRAPPING: 'offline-wrapping',
} as const;
