import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ImportedKeyBase } from './imported-key-base';
import { ImportedKmsKey } from './imported-kms-key';
import { KeyMaterial } from './key-material';
import { KeyMaterialLock } from './key-material-lock';
import { KeyMaterialExpiration } from './key-material-expiration';
import { constructError } from './private/construct-error';
import { keySettings, requireDestroy, requireMaterial } from './private/key-construction';
import { importMaterial } from './private/material-import';
import { validateRotation } from './private/rotation-rules';
import { validateOffline } from './private/offline-wrapping';
import { WrappingAlgorithm, WrappingKeySpec } from './wrapping';

/**
 * Properties of an ImportedKmsReplicaKey.
 */
export interface ImportedKmsReplicaKeyProps {
  /**
   * The multi-Region primary key (an `ImportedKmsKey` with `multiRegion: true`) in a stack of
   * another Region of this app. CDK hands its ARN to this stack with a cross-Region reference (a
   * parameter the primary's stack writes and this stack reads), so the primary's stack deploys
   * first; the replica is created once the primary holds its material.
   *
   * @default - give `primaryKeyArn` instead
   */
  readonly primaryKey?: ImportedKmsKey;

  /**
   * ARN of the multi-Region primary key, when it is not an `ImportedKmsKey` of this app.
   *
   * @default - the ARN of `primaryKey`
   */
  readonly primaryKeyArn?: string;

  /**
   * The key spec of the primary key given by `primaryKeyArn` (a replica always has its primary's).
   *
   * @default - `primaryKey`'s spec, or kms.KeySpec.SYMMETRIC_DEFAULT with `primaryKeyArn`
   */
  readonly keySpec?: kms.KeySpec;

  /**
   * Where this Region's copy of the primary's material comes from: a secret readable in this
   * Region (the handler never reads across Regions). It must hold the same material as the
   * primary's; KMS refuses other material.
   *
   * @default - the replica in this Region of the primary's secret (Secrets Manager replica
   * secrets keep the secret's name), read with the primary's field, stage and encoding
   */
  readonly keyMaterial?: KeyMaterial;

  /**
   * Rotation: the materials the primary held before its current one, oldest first, each from a
   * secret readable in this Region (the same materials as the primary's `previousKeyMaterials`,
   * in the same order). When the primary rotates, this replica's stack imports the new material
   * and, if it is the last replica to do so, rotates the primary (docs/how-it-works.md,
   * "Rotating a multi-Region key"). A replica created later imports every one, oldest first.
   *
   * @default - with `primaryKey` and no `keyMaterial`: the primary's `previousKeyMaterials`, each
   * read from the secret of the same name in this Region; otherwise none
   */
  readonly previousKeyMaterials?: KeyMaterial[];

  /**
   * When the material imported into this replica expires (each replica has its own).
   *
   * @default - the primary's expiration, or KeyMaterialExpiration.never() with `primaryKeyArn`
   */
  readonly expiration?: KeyMaterialExpiration;

  /**
   * An alias for the replica, e.g. 'alias/payments'. It is created only after the material was imported.
   *
   * @default - no alias
   */
  readonly alias?: string;

  /**
   * A description of the replica.
   *
   * @default - no description
   */
  readonly description?: string;

  /**
   * The replica's key policy. The account's root may administer it (as `kms.Key` allows by
   * default) and the import handler gets its statements; both are added to this document.
   *
   * @default - a policy that lets the account manage the key through IAM
   */
  readonly policy?: iam.PolicyDocument;

  /**
   * What happens to the replica when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Crypto-shred this replica's material when it leaves the stack for good (only with
   * `RemovalPolicy.DESTROY`). The primary and other replicas keep theirs.
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
   * How long the replica waits in PendingDeletion before KMS deletes it (7 to 30 days).
   *
   * @default Duration.days(30)
   */
  readonly pendingWindow?: Duration;

  /**
   * Spec of the RSA wrapping key KMS generates for each import into the replica.
   *
   * @default - the primary's, or WrappingKeySpec.RSA_4096 with `primaryKeyArn`
   */
  readonly wrappingKeySpec?: WrappingKeySpec;

  /**
   * How the material is wrapped on its way into the replica.
   *
   * @default - the primary's, or the key spec's default with `primaryKeyArn`
   */
  readonly wrappingAlgorithm?: WrappingAlgorithm;

  /**
   * Node.js runtime of this stack's import handler.
   *
   * @default lambda.Runtime.NODEJS_24_X (the newest Node.js runtime)
   */
  readonly handlerRuntime?: lambda.Runtime;
}

/**
 * A multi-Region replica (AWS::KMS::ReplicaKey) of an imported primary key, in this stack's Region,
 * with the primary's material imported into it from a secret of this Region. KMS creates the
 * replica of an EXTERNAL primary without material (PendingImport); `keyArn` and `keyId` resolve
 * once this replica's import succeeded, so grants, aliases and consumers wait for it.
 */
export class ImportedKmsReplicaKey extends ImportedKeyBase {
  /** ARN of the replica, available once the material was imported. */
  public readonly keyArn: string;
  /** Id of the replica (the primary's key id), available once the material was imported. */
  public readonly keyId: string;
  /** The KeyMaterialId of the replica's current material. */
  public readonly currentKeyMaterialId: string;
  /** Grant methods for this replica. */
  public readonly grants: kms.KeyGrants;
  /** The role of the import handler (the stack's provider): its calls on the key are the expected ones. */
  public readonly importHandlerRole: iam.IRole;
  /** When the replica's imported material expires. */
  public readonly expiration: KeyMaterialExpiration;
  /** The underlying AWS::KMS::ReplicaKey. Its ARN resolves before the import: use `keyArn`. */
  public readonly replica: kms.CfnReplicaKey;
  private readonly policy: iam.PolicyDocument;
  private readonly shredMaterialOnRemoval: boolean;

  /**
   * @param scope the construct this replica belongs to
   * @param id the construct id of this replica
   * @param props the primary key, and where this Region's material comes from
   */
  constructor(scope: Construct, id: string, props: ImportedKmsReplicaKeyProps) {
    super(scope, id);
    const primary = props?.primaryKey;
    if ((primary === undefined) === (props?.primaryKeyArn === undefined)) {
      throw constructError(this, `give exactly one of primaryKey (an ImportedKmsKey of this app) and primaryKeyArn.`);
    }
    if (primary && !primary.multiRegion) {
      throw constructError(this, `the primary key ${primary.node.path} is not multi-Region; `
        + 'create it with multiRegion: true (a key cannot become multi-Region after its creation).');
    }
    const region = Stack.of(this).region;
    if (primary && !Token.isUnresolved(region) && region === Stack.of(primary).region) {
      throw constructError(this, `the replica is in ${region}, the primary's own Region; a replica must be in another Region.`);
    }
    const settings = keySettings(this, {
      keySpec: primary?.keySpec ?? props.keySpec,
      wrappingKeySpec: props.wrappingKeySpec ?? primary?.wrappingKeySpec,
      wrappingAlgorithm: props.wrappingAlgorithm ?? primary?.wrappingAlgorithm,
      expiration: props.expiration ?? primary?.expiration,
      removalPolicy: props.removalPolicy,
      shredMaterialOnRemoval: props.shredMaterialOnRemoval,
      shredIfUnusedFor: props.shredIfUnusedFor,
    });
    this.expiration = settings.expiration;
    this.shredMaterialOnRemoval = settings.shred;
    const material = props.keyMaterial ? requireMaterial(this, 'keyMaterial', props.keyMaterial) : this.replicaOfPrimarySecret(primary, primary?.keyMaterial);
    const materials = [...this.previousMaterials(props, primary), material];
    if (materials.length > 1) validateRotation(this, settings.keySpec, materials);
    validateOffline(this, settings, materials, { replica: true });

    this.policy = props.policy ?? new iam.PolicyDocument();
    this.policy.addStatements(new iam.PolicyStatement({
      actions: ['kms:*'], principals: [new iam.AccountRootPrincipal()], resources: ['*'],
    }));
    this.replica = new kms.CfnReplicaKey(this, 'Resource', {
      primaryKeyArn: primary?.keyArn ?? props.primaryKeyArn!,
      keyPolicy: this.policy,
      description: props.description,
      pendingWindowInDays: props.pendingWindow?.toDays(),
    });
    this.replica.applyRemovalPolicy(settings.removalPolicy);

    const imported = importMaterial(this, settings, {
      keyArn: this.replica.attrArn, keyId: this.replica.attrKeyId, keyPolicy: this, keyResource: this.replica, materialLock: props.materialLock,
      materials, replica: true, handlerRuntime: props.handlerRuntime,
      primaryKeyArn: primary?.keyArn ?? props.primaryKeyArn!,
    });
    this.keyArn = imported.keyArn;
    this.keyId = imported.keyId;
    this.currentKeyMaterialId = imported.currentKeyMaterialId;
    this.importHandlerRole = imported.handlerRole;
    this._offlineStore = imported.offline;
    this.grants = kms.KeyGrants.fromKey(this);
    if (props.alias) this.addAlias(props.alias);
  }

  /** Adds a statement to the replica's key policy. */
  public addToResourcePolicy(statement: iam.PolicyStatement, _allowNoOp?: boolean): iam.AddToResourcePolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.replica };
  }

  /** Applies a removal policy to the replica. A replica that shreds its material on removal must be destroyed. */
  public applyRemovalPolicy(policy: RemovalPolicy): void {
    if (this.shredMaterialOnRemoval) requireDestroy(this, policy);
    this.replica.applyRemovalPolicy(policy);
  }

  /** The replica's earlier materials: as given, or the primary's, each in this Region; as many as the primary's. */
  private previousMaterials(props: ImportedKmsReplicaKeyProps, primary: ImportedKmsKey | undefined): KeyMaterial[] {
    const given = props.previousKeyMaterials?.map((material, i) => requireMaterial(this, `previousKeyMaterials[${i}]`, material));
    const ofPrimary = primary?.previousKeyMaterials ?? [];
    if (given && primary && given.length !== ofPrimary.length) {
      throw constructError(this, `previousKeyMaterials lists ${given.length} materials and the primary ${primary.node.path} lists ${ofPrimary.length}; `
        + 'a replica holds the same materials as its primary, in the same order: list each of the primary\'s previousKeyMaterials, from a secret of this Region.');
    }
    if (given) return given;
    if (ofPrimary.length > 0 && props.keyMaterial) {
      throw constructError(this, `the primary ${primary!.node.path} lists ${ofPrimary.length} previousKeyMaterials and this replica names its own keyMaterial, `
        + 'so the replica\'s earlier materials cannot be derived from the primary\'s secrets: pass previousKeyMaterials too, each from a secret of this Region.');
    }
    return ofPrimary.map((source) => this.replicaOfPrimarySecret(primary, source));
  }

  /** A material source of the primary, pointed at the secret of the same name in this Region. */
  private replicaOfPrimarySecret(primary: ImportedKmsKey | undefined, source: KeyMaterial | undefined): KeyMaterial {
    if (!primary || !source) {
      throw constructError(this, 'keyMaterial is required with primaryKeyArn: the material of a primary key outside this app cannot be found here. '
        + 'Pass keyMaterial: KeyMaterial.fromSecret(...) with a secret of this Region that holds the primary\'s material.');
    }
    if (!source.secret) {
      throw constructError(this, 'the primary key uses offline wrapping, whose operators and bucket are the primary Region\'s; '
        + 'pass keyMaterial: KeyMaterial.fromOfflineWrapping({ operators }) for this Region\'s ceremony.');
    }
    const name = source.secret.secretName;
    if (Token.isUnresolved(name)) {
      throw constructError(this, 'the primary\'s secret has a name known only at deploy time, so its replica in this Region '
        + 'cannot be named here; pass keyMaterial: KeyMaterial.fromSecret(...) with a secret readable in this Region.');
    }
    // One reference per secret name (several materials may live in one secret, at different stages).
    const existing = this.node.children.find((child) => (child as { secretName?: string }).secretName === name
      && child.node.id.startsWith('MaterialSecret')) as secretsmanager.ISecret | undefined;
    const count = this.node.children.filter((child) => child.node.id.startsWith('MaterialSecret')).length;
    const secret = existing ?? secretsmanager.Secret.fromSecretNameV2(this, count === 0 ? 'MaterialSecret' : `MaterialSecret${count}`, name);
    return KeyMaterial.fromSecret(secret, { jsonField: source.jsonField, versionStage: source.versionStage, encoding: source.encoding });
  }
}
