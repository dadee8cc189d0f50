/**
 * The contract between the construct (lib/) and the import handler (lambda/).
 *
 * Both sides import this file, so the property names cannot drift. It holds only
 * identifiers and settings: key material never travels through CloudFormation.
 * This file must not import aws-cdk-lib: it is bundled into the handler.
 */

/** CloudFormation type of the custom resource that imports the material. */
export const IMPORT_RESOURCE_TYPE = 'Custom::ImportedKmsKeyMaterial';

/** Resource properties of the custom resource (CloudFormation passes every value as a string). */
export interface ImportProperties {
  /** ARN of the KMS key (Origin EXTERNAL) that receives the material. */
  readonly KeyArn: string;
  /** KMS key spec of that key, e.g. SYMMETRIC_DEFAULT. */
  readonly KeySpec: string;
  /** ARN (full or partial) of the secret that holds the material. */
  readonly SecretId: string;
  /** JSON field of a JSON SecretString that holds the encoded material. */
  readonly JsonField?: string;
  /** Secret version stage to read; Secrets Manager's default (AWSCURRENT) when absent. */
  readonly VersionStage?: string;
  /** How a SecretString is encoded: AUTO, BASE64, HEX or PEM. */
  readonly Encoding?: string;
  /** Expiration of the imported material, ISO-8601 in whole seconds; absent when it never expires. */
  readonly ValidTo?: string;
  /** Spec of the RSA wrapping key KMS generates, e.g. RSA_4096. */
  readonly WrappingKeySpec: string;
  /** Wrapping algorithm, e.g. RSAES_OAEP_SHA_256. */
  readonly WrappingAlgorithm: string;
}

/** Attributes the handler returns in Data (never material, wrapped material or tokens). */
export const ATTRIBUTE = {
  KEY_ARN: 'KeyArn',
  KEY_ID: 'KeyId',
  KEY_MATERIAL_ID: 'KeyMaterialId',
} as const;
