import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ImportedKeyBase } from './imported-key-base';
import { KeyMaterial } from './key-material';
import { KeyMaterialLock } from './key-material-lock';
import { KeyMaterialExpiration } from './key-material-expiration';
import { keySettings, requireDestroy, requireMaterial } from './private/key-construction';
import { importMaterial } from './private/material-import';
import { acknowledgeNagFinding } from './private/nag-acknowledgement';
import { validateOffline } from './private/offline-wrapping';
import { validateRotation } from './private/rotation-rules';
import { WrappingAlgorithm, WrappingKeySpec } from './wrapping';

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
   * A multi-Region primary rotates too: its stack imports the new material as pending, each
   * `ImportedKmsReplicaKey`'s stack imports it into its replica, and the last one rotates the
   * primary (docs/how-it-works.md, "Rotating a multi-Region key").
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
   * With `shredMaterialOnRemoval`: how long the key must have gone unused before its material is
   * shredded. The Delete first asks KMS when the key was last used (GetKeyLastUsage) and, if that was
   * within this window, fails with a sentence and leaves the material in place (see README,
   * "Crypto-shred"). `Duration.seconds(0)` shreds without asking.
   *
   * @default Duration.days(7)
   */
  readonly shredIfUnusedFor?: Duration;

  /**
   * Lock the key's material: key-policy Deny statements so that only the import handler (and the
   * break-glass principals) may call GetParametersForImport, ImportKeyMaterial,
   * DeleteImportedKeyMaterial and RotateKeyOnDemand on the key, and only the root user, the stack's
   * CloudFormation execution role and the named administrators may change the key policy. See
   * README, "Key material lock".
   *
   * @default - no lock: whoever the account's policies allow may change the key's material
   */
  readonly materialLock?: KeyMaterialLock;

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
  /** The role of the import handler (the stack's provider): its calls on the key are the expected ones. */
  public readonly importHandlerRole: iam.IRole;
  /** When the key's imported material expires. */
  public readonly expiration: KeyMaterialExpiration;
  /** Where the current material comes from. */
  public readonly keyMaterial: KeyMaterial;
  /** Where the materials the key held before `keyMaterial` come from, oldest first (empty: the key never rotated). */
  public readonly previousKeyMaterials: KeyMaterial[];
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
    const keyMaterial = this.keyMaterial = requireMaterial(this, 'keyMaterial', props?.keyMaterial);
    const previous = this.previousKeyMaterials = (props.previousKeyMaterials ?? []).map((material, i) => requireMaterial(this, `previousKeyMaterials[${i}]`, material));
    const settings = keySettings(this, props);
    this.keySpec = settings.keySpec;
    this.wrappingKeySpec = settings.wrappingKeySpec;
    this.wrappingAlgorithm = settings.wrappingAlgorithm;
    this.expiration = settings.expiration;
    this.multiRegion = props.multiRegion ?? false;
    this.shredMaterialOnRemoval = settings.shred;
    const materials = [...previous, keyMaterial];
    validateOffline(this, settings, materials, { multiRegion: this.multiRegion });
    if (previous.length > 0) validateRotation(this, settings.keySpec, materials);

    this.key = new kms.Key(this, 'Resource', {
      description: props.description,
      policy: props.policy,
      admins: props.admins,
      removalPolicy: settings.removalPolicy,
      pendingWindow: props.pendingWindow,
      keySpec: settings.keySpec,
      keyUsage: settings.keyUsage,
      enableKeyRotation: false,
      multiRegion: props.multiRegion,
    });
    (this.key.node.defaultChild as kms.CfnKey).origin = 'EXTERNAL';
    acknowledgeNagFinding(this.key, 'AwsSolutions-KMS5',
      'KMS cannot rotate imported key material automatically (EnableKeyRotation is refused for Origin EXTERNAL); rotate by importing new material on demand.');

    const imported = importMaterial(this, settings, {
      keyArn: this.key.keyArn, keyId: this.key.keyId, keyPolicy: this.key, keyResource: this.key.node.defaultChild as kms.CfnKey,
      materialLock: props.materialLock, materials, handlerRuntime: props.handlerRuntime,
    });
    this.keyArn = imported.keyArn;
    this.keyId = imported.keyId;
    this.currentKeyMaterialId = imported.currentKeyMaterialId;
    this.importHandlerRole = imported.handlerRole;
    this._offlineStore = imported.offline;
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
}
