import { Annotations, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ImportedKeyBase } from './imported-key-base';
import { KeyMaterial } from './key-material';
import { KeyMaterialExpiration } from './key-material-expiration';
import { defaultWrappingAlgorithm, importConfigurationProblem, IMPORTABLE_KEY_SPECS } from './shared/key-spec-rules';
import { importMaterial, requireDestroy, sourceOf } from './private/material-import';
import { WrappingAlgorithm, WrappingKeySpec } from './wrapping';

/** KMS's quota of on-demand rotations per key (older documentation says 10; the API reference says 25). */
const MAX_ON_DEMAND_ROTATIONS = 25;

function describeEntry(index: number, count: number): string {
  return index === count - 1 ? 'keyMaterial' : `previousKeyMaterials[${index}]`;
}

/**
 * Properties of an ImportedKmsKey.
 */
export interface ImportedKmsKeyProps {
  /**
   * Where the key material comes from, e.g. `KeyMaterial.fromSecret(secret)`.
   */
  readonly keyMaterial: KeyMaterial;

  /**
   * Rotation (symmetric keys only): the materials this key held before `keyMaterial`, oldest first.
   * To rotate, append the current `keyMaterial` here, set `keyMaterial` to the new material and
   * deploy: the handler imports it as new material and makes it current (RotateKeyOnDemand).
   * Earlier materials stay with the key and keep decrypting, so each must stay readable for the
   * key's lifetime (pin each to a version stage of its own: README, "Rotating the material").
   * Entries are never removed or reordered; KMS allows 25 on-demand rotations per key.
   *
   * @default - the key has one material, `keyMaterial`
   */
  readonly previousKeyMaterials?: KeyMaterial[];

  /**
   * Make the key a multi-Region primary key, for `ImportedKmsReplicaKey`s in other Regions (each
   * imports the same material from a secret readable in its Region). Cannot change after creation.
   *
   * @default false
   */
  readonly multiRegion?: boolean;

  /**
   * When the imported material expires. Changing it re-imports the same material into the same key.
   *
   * @default KeyMaterialExpiration.never()
   */
  readonly expiration?: KeyMaterialExpiration;

  /**
   * An alias for the key, e.g. 'alias/payments'. It is created only after the material was imported.
   *
   * @default - no alias
   */
  readonly alias?: string;

  /**
   * A description of the key.
   *
   * @default - no description
   */
  readonly description?: string;

  /**
   * The key policy. The statements KMS keys always get (account access as `kms.Key` gives it, and
   * the import handler's permissions) are added to it.
   *
   * @default - the default key policy of `kms.Key`
   */
  readonly policy?: iam.PolicyDocument;

  /**
   * Principals allowed to administer the key (not to use it).
   *
   * @default - no extra administrators
   */
  readonly admins?: iam.IPrincipal[];

  /**
   * What happens to the key when it leaves the stack. Losing a key loses every piece of data
   * encrypted under it, so keys are kept by default.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Crypto-shred: when the key leaves the stack for good, delete every key material it holds
   * (DeleteImportedKeyMaterial) before CloudFormation schedules its deletion, so the key is unusable
   * at once rather than after `pendingWindow`. Only with `removalPolicy: RemovalPolicy.DESTROY`.
   * Shredding does not touch the secret, escrow copies, or data keys services still cache.
   *
   * @default false
   */
  readonly shredMaterialOnRemoval?: boolean;

  /**
   * How long a key waits in PendingDeletion before KMS deletes it (7 to 30 days), when the
   * removal policy destroys it.
   *
   * @default Duration.days(30)
   */
  readonly pendingWindow?: Duration;

  /**
   * The key spec. Any spec that takes imported material: SYMMETRIC_DEFAULT, HMAC_224/256/384/512,
   * RSA_2048/3072/4096, ECC_NIST_P256/P384/P521 and ECC_SECG_P256K1.
   *
   * @default kms.KeySpec.SYMMETRIC_DEFAULT
   */
  readonly keySpec?: kms.KeySpec;

  /**
   * The key usage. It must fit the key spec.
   *
   * @default - ENCRYPT_DECRYPT for symmetric and RSA keys, GENERATE_VERIFY_MAC for HMAC keys,
   * SIGN_VERIFY for ECC keys
   */
  readonly keyUsage?: kms.KeyUsage;

  /**
   * Spec of the RSA wrapping key KMS generates for each import.
   *
   * @default WrappingKeySpec.RSA_4096
   */
  readonly wrappingKeySpec?: WrappingKeySpec;

  /**
   * How the material is wrapped on its way into KMS.
   *
   * @default - RSA_AES_KEY_WRAP_SHA_256 for RSA keys (KMS requires AES key wrap for them),
   * RSAES_OAEP_SHA_256 otherwise
   */
  readonly wrappingAlgorithm?: WrappingAlgorithm;

  /**
   * Node.js runtime of the import handler. All ImportedKmsKeys of a stack share one handler, so
   * they must agree on it.
   *
   * @default lambda.Runtime.NODEJS_24_X (the newest Node.js runtime)
   */
  readonly handlerRuntime?: lambda.Runtime;
}

/**
 * A KMS key whose key material you bring (Origin EXTERNAL), imported from AWS Secrets Manager at
 * deploy time by a custom resource. The material never appears in the template, in logs or in
 * CloudFormation responses.
 *
 * `keyArn` and `keyId` resolve only once the material was imported, so every resource that uses
 * the key (grants, aliases, buckets, ...) is deployed after the import: nothing is ever handed a
 * key that is still PendingImport.
 */
export class ImportedKmsKey extends ImportedKeyBase {
  /** ARN of the key, available once the material was imported. */
  public readonly keyArn: string;
  /** Id of the key, available once the material was imported. */
  public readonly keyId: string;
  /**
   * The underlying `kms.Key` (Origin EXTERNAL). Its own ARN resolves before the import: use
   * this construct's `keyArn` to reference the key.
   */
  public readonly key: kms.Key;
  /**
   * The KeyMaterialId of the key's current material (changes with each rotation). Empty for keys
   * KMS reports none for (HMAC and asymmetric keys).
   */
  public readonly currentKeyMaterialId: string;
  /** Grant methods for this key. */
  public readonly grants: kms.KeyGrants;
  /** When the key's imported material expires. */
  public readonly expiration: KeyMaterialExpiration;
  /** Where the current material comes from. */
  public readonly keyMaterial: KeyMaterial;
  /** The key spec. */
  public readonly keySpec: kms.KeySpec;
  /** Whether the key is a multi-Region primary key. */
  public readonly multiRegion: boolean;
  /** Spec of the RSA wrapping key of each import. */
  public readonly wrappingKeySpec: WrappingKeySpec;
  /** The wrapping algorithm of each import. */
  public readonly wrappingAlgorithm: WrappingAlgorithm;
  private readonly shredMaterialOnRemoval: boolean;

  /**
   * @param scope the construct this key belongs to
   * @param id the construct id of this key
   * @param props where the material comes from, and how the key is configured
   */
  constructor(scope: Construct, id: string, props: ImportedKmsKeyProps) {
    super(scope, id);
    const keySpec = this.keySpec = props.keySpec ?? kms.KeySpec.SYMMETRIC_DEFAULT;
    const keyUsage = props.keyUsage ?? (IMPORTABLE_KEY_SPECS[keySpec]?.usages[0] as kms.KeyUsage | undefined) ?? kms.KeyUsage.ENCRYPT_DECRYPT;
    this.wrappingKeySpec = props.wrappingKeySpec ?? WrappingKeySpec.RSA_4096;
    this.wrappingAlgorithm = props.wrappingAlgorithm ?? defaultWrappingAlgorithm(keySpec) as WrappingAlgorithm;
    const problem = importConfigurationProblem(keySpec, keyUsage, this.wrappingKeySpec, this.wrappingAlgorithm);
    if (problem) throw new Error(`ImportedKmsKey ${this.node.path}: ${problem}`);
    this.expiration = props.expiration ?? KeyMaterialExpiration.never();
    this.keyMaterial = props.keyMaterial;
    this.multiRegion = props.multiRegion ?? false;
    this.shredMaterialOnRemoval = props.shredMaterialOnRemoval ?? false;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (this.shredMaterialOnRemoval) requireDestroy(this, removalPolicy);
    const previous = props.previousKeyMaterials ?? [];
    const materials = [...previous, props.keyMaterial];
    if (previous.length > 0) this.validateRotation(keySpec, materials);

    this.key = new kms.Key(this, 'Resource', {
      description: props.description,
      policy: props.policy,
      admins: props.admins,
      removalPolicy,
      pendingWindow: props.pendingWindow,
      keySpec,
      keyUsage,
      enableKeyRotation: false,
      multiRegion: props.multiRegion,
    });
    (this.key.node.defaultChild as kms.CfnKey).origin = 'EXTERNAL';
    Validations.of(this.key).acknowledge({
      id: 'AwsSolutions::AwsSolutions-KMS5',
      reason: 'KMS cannot rotate imported key material automatically (EnableKeyRotation is refused for Origin EXTERNAL); rotate by importing new material on demand.',
    });

    const imported = importMaterial(this, {
      keyArn: this.key.keyArn, keyPolicy: this.key, keySpec, materials, expiration: this.expiration,
      wrappingKeySpec: this.wrappingKeySpec, wrappingAlgorithm: this.wrappingAlgorithm, shred: this.shredMaterialOnRemoval,
      handlerRuntime: props.handlerRuntime,
    });
    this.keyArn = imported.keyArn;
    this.keyId = imported.keyId;
    this.currentKeyMaterialId = imported.currentKeyMaterialId;
    this.grants = kms.KeyGrants.fromKey(this);
    if (props.alias) this.addAlias(props.alias);
  }

  /** Adds a statement to the key policy. */
  public addToResourcePolicy(statement: iam.PolicyStatement, allowNoOp?: boolean): iam.AddToResourcePolicyResult {
    return this.key.addToResourcePolicy(statement, allowNoOp);
  }

  /** Applies a removal policy to the key. A key that shreds its material on removal must be destroyed. */
  public applyRemovalPolicy(policy: RemovalPolicy): void {
    if (this.shredMaterialOnRemoval) requireDestroy(this, policy);
    this.key.applyRemovalPolicy(policy);
  }

  /** A key that lists earlier materials rotates: only symmetric keys can, each material once, within KMS's quota. */
  private validateRotation(keySpec: kms.KeySpec, materials: KeyMaterial[]): void {
    if (this.multiRegion) {
      throw new Error(`ImportedKmsKey ${this.node.path}: previousKeyMaterials (rotation) of a multi-Region key is not supported: KMS needs the new `
        + 'material imported into the primary and every replica before RotateKeyOnDemand on the primary, across stacks of several Regions. '
        + 'Rotate it by hand (README, "Multi-Region keys"), or use a single-Region key.');
    }
    if (keySpec !== kms.KeySpec.SYMMETRIC_DEFAULT) {
      throw new Error(`ImportedKmsKey ${this.node.path}: previousKeyMaterials needs a SYMMETRIC_DEFAULT key; got ${keySpec}. `
        + 'KMS rotates only symmetric encryption keys: an HMAC or asymmetric key keeps its first material for life, so new material needs a new ImportedKmsKey.');
    }
    if (materials.length - 1 > MAX_ON_DEMAND_ROTATIONS) {
      throw new Error(`ImportedKmsKey ${this.node.path}: ${materials.length - 1} previousKeyMaterials need as many rotations, and KMS allows `
        + `${MAX_ON_DEMAND_ROTATIONS} on-demand rotations per key. Put further material in a new ImportedKmsKey.`);
    }
    const stack = Stack.of(this);
    const seen = new Map<string, number>();
    materials.forEach((material, index) => {
      const source = JSON.stringify(stack.resolve({ ...sourceOf(material), VersionStage: material.versionStage ?? 'AWSCURRENT' }));
      const earlier = seen.get(source);
      if (earlier !== undefined) {
        throw new Error(`ImportedKmsKey ${this.node.path}: ${describeEntry(index, materials.length)} reads the same secret, field and version stage as `
          + `${describeEntry(earlier, materials.length)}; each material needs a source of its own (e.g. its own version stage).`);
      }
      seen.set(source, index);
      const stage = material.versionStage ?? 'AWSCURRENT';
      const shared = materials.some((other) => other !== material && other.secret === material.secret);
      if (stage === 'AWSPREVIOUS' || (stage === 'AWSCURRENT' && shared)) {
        Annotations.of(this).addWarningV2('imported-kms-key:unpinned-material', `${describeEntry(index, materials.length)} reads version stage ${stage}, `
          + 'which moves whenever the secret gets a new value; the key needs every material re-readable for its lifetime (each expiration change re-imports all). '
          + 'Pin it to a version stage of its own (README, "Rotating the material").');
      }
    });
  }

}
