import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ImportedKeyBase } from './imported-key-base';
import { KeyMaterial } from './key-material';
import { KeyMaterialExpiration } from './key-material-expiration';
import { constructError } from './private/construct-error';
import { keySettings, requireMaterial } from './private/key-construction';
import { importMaterial } from './private/material-import';
import { validateRotation } from './private/rotation-rules';
import { WrappingAlgorithm, WrappingKeySpec } from './wrapping';

/** A KMS key ARN (not an alias, not a key id alone). */
const KEY_ARN = /^arn:[a-z-]+:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/**
 * Properties of an ImportedKeyMaterial.
 */
export interface ImportedKeyMaterialProps {
  /**
   * The existing key (Origin EXTERNAL) whose material this construct manages, e.g.
   * `kms.Key.fromKeyArn(this, 'Existing', 'arn:aws:kms:...:key/...')`. It must be in this
   * stack's account and Region. The construct never deletes, disables or schedules it for deletion.
   */
  readonly key: kms.IKey;

  /**
   * Where the key's material comes from, e.g. `KeyMaterial.fromSecret(secret)`: the material the key
   * holds now (the first deploy proves it), or any material when the key never held one.
   */
  readonly keyMaterial: KeyMaterial;

  /**
   * Symmetric keys that hold several materials (rotated): the earlier ones, oldest first, as
   * ImportedKmsKey's `previousKeyMaterials`. The first deploy proves each is the key's own, at its
   * place. Appending the current one and setting a new `keyMaterial` rotates, as with ImportedKmsKey.
   *
   * @default - the key holds one material, `keyMaterial`
   */
  readonly previousKeyMaterials?: KeyMaterial[];

  /**
   * When the imported material expires. The first deploy sets it on the key's material; changing it
   * later re-imports the same material.
   *
   * @default KeyMaterialExpiration.never()
   */
  readonly expiration?: KeyMaterialExpiration;

  /**
   * The key spec the existing key has; the first deploy fails, changing nothing, if KMS reports another.
   *
   * @default kms.KeySpec.SYMMETRIC_DEFAULT
   */
  readonly keySpec?: kms.KeySpec;

  /**
   * The key usage the existing key has; the first deploy fails, changing nothing, if KMS reports another.
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
   * @default - RSA_AES_KEY_WRAP_SHA_256 for RSA keys, RSAES_OAEP_SHA_256 otherwise
   */
  readonly wrappingAlgorithm?: WrappingAlgorithm;

  /**
   * Crypto-shred: when this construct leaves the stack, delete every material of the key
   * (DeleteImportedKeyMaterial), making it unusable until the material is imported again. The key
   * itself stays (this stack does not own it).
   *
   * @default false: removing the construct leaves the key and its material as they are
   */
  readonly shredMaterialOnRemoval?: boolean;

  /**
   * Node.js runtime of this stack's import handler.
   *
   * @default lambda.Runtime.NODEJS_24_X (the newest Node.js runtime)
   */
  readonly handlerRuntime?: lambda.Runtime;
}

/**
 * Brings the material of an existing KMS key with Origin EXTERNAL under management: made in the
 * console or with the CLI, by Terraform's `aws_kms_external_key`, or retained by an earlier stack.
 * The key keeps its ARN, policy and everything encrypted under it; this construct keeps its
 * material imported from Secrets Manager, with the expiration, renewal, rotation and monitoring
 * of ImportedKmsKey.
 *
 * The first deploy proves before it changes anything that the key may be adopted: DescribeKey
 * reports Origin EXTERNAL with the expected key spec and usage, and either the key never held
 * material or the secret holds the key's own (KMS accepts it as EXISTING_KEY_MATERIAL and refuses
 * any other). Anything else fails with a sentence, and the key stays as it was.
 *
 * The key's policy is not this stack's: the handler's permissions go on its role, scoped to the
 * key, which works when the key policy delegates to IAM (the default key policy does); an info
 * annotation gives the key policy statements for a key whose policy does not. `keyArn` and `keyId`
 * resolve once the material was proven and imported.
 */
export class ImportedKeyMaterial extends ImportedKeyBase {
  /** ARN of the key, available once its material was proven and imported. */
  public readonly keyArn: string;
  /** Id of the key, available once its material was proven and imported. */
  public readonly keyId: string;
  /** The KeyMaterialId of the key's current material; empty for keys KMS reports none for. */
  public readonly currentKeyMaterialId: string;
  /** Grant methods for this key (on the grantee's identity side: the key policy is not this stack's). */
  public readonly grants: kms.KeyGrants;
  /** The role of the import handler (the stack's provider): its calls on the key are the expected ones. */
  public readonly importHandlerRole: iam.IRole;
  /** When the key's imported material expires. */
  public readonly expiration: KeyMaterialExpiration;
  /** Where the current material comes from. */
  public readonly keyMaterial: KeyMaterial;
  /** The key spec the key has. */
  public readonly keySpec: kms.KeySpec;
  /** The existing key, as given. */
  public readonly adoptedKey: kms.IKey;

  /**
   * @param scope the construct this belongs to
   * @param id the construct id
   * @param props the existing key, and where its material comes from
   */
  constructor(scope: Construct, id: string, props: ImportedKeyMaterialProps) {
    super(scope, id);
    const key = this.adoptedKey = requireExistingKey(this, props?.key);
    const keyMaterial = this.keyMaterial = requireMaterial(this, 'keyMaterial', props.keyMaterial);
    const previous = (props.previousKeyMaterials ?? []).map((material, i) => requireMaterial(this, `previousKeyMaterials[${i}]`, material));
    // The key is not this stack's: no removal policy, and shredding needs none.
    const settings = { ...keySettings(this, { ...props, shredMaterialOnRemoval: undefined }), shred: props.shredMaterialOnRemoval ?? false };
    this.keySpec = settings.keySpec;
    this.expiration = settings.expiration;
    const materials = [...previous, keyMaterial];
    if (previous.length > 0) validateRotation(this, settings.keySpec, materials);

    const imported = importMaterial(this, settings, {
      keyArn: key.keyArn, materials, adoptedKeyUsage: settings.keyUsage, handlerRuntime: props.handlerRuntime,
    });
    this.keyArn = imported.keyArn;
    this.keyId = imported.keyId;
    this.currentKeyMaterialId = imported.currentKeyMaterialId;
    this.importHandlerRole = imported.handlerRole;
    this.grants = kms.KeyGrants.fromKey(this);
  }

  /** The key policy is not this stack's: passed to the given key, which (from `fromKeyArn`) adds nothing. */
  public addToResourcePolicy(statement: iam.PolicyStatement, allowNoOp?: boolean): iam.AddToResourcePolicyResult {
    return this.adoptedKey.addToResourcePolicy(statement, allowNoOp);
  }

  /** The key is not this stack's, so it has no removal policy here: this always throws. */
  public applyRemovalPolicy(policy: RemovalPolicy): void {
    throw constructError(this, `cannot apply removal policy ${policy}: the key is not this stack's, and removing this construct never deletes it `
      + '(shredMaterialOnRemoval deletes its material, if you ask for it).');
  }
}

/** The existing key: given, from fromKeyArn (a key ARN), not a key this app creates. */
function requireExistingKey(scope: Construct, key: kms.IKey | undefined): kms.IKey {
  if (!key?.keyArn) throw constructError(scope, 'key is required: the existing key, e.g. kms.Key.fromKeyArn(this, \'Existing\', keyArn).');
  if (key instanceof ImportedKeyBase || key instanceof kms.Key) {
    throw constructError(scope, `key ${key.node.path} is created by this app, so its material is already managed where it is created `
      + '(use ImportedKmsKey for a new key); ImportedKeyMaterial is for a key made elsewhere: pass kms.Key.fromKeyArn(this, \'Existing\', keyArn).');
  }
  if (!Token.isUnresolved(key.keyArn) && !KEY_ARN.test(key.keyArn)) {
    throw constructError(scope, `key must name a KMS key by its key ARN (arn:aws:kms:<region>:<account>:key/<id>); got ${key.keyArn}. `
      + 'Aliases and key ids alone are not accepted: KMS imports only into a key named exactly.');
  }
  const [, , , region, account] = key.keyArn.split(':');
  const stack = Stack.of(scope);
  const differs = (mine: string, theirs: string | undefined) => !Token.isUnresolved(key.keyArn) && !Token.isUnresolved(mine) && theirs !== mine;
  if (differs(stack.region, region) || differs(stack.account, account)) {
    throw constructError(scope, `key ${key.keyArn} is in ${account}/${region}, but this stack deploys to ${stack.account}/${stack.region}; `
      + 'KMS imports material only into a key of the caller\'s own account and Region. Adopt it from a stack in that account and Region.');
  }
  return key;
}
