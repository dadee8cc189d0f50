import { Annotations, CustomResource, Duration, RemovalPolicy, Resource, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ATTRIBUTE, IMPORT_RESOURCE_TYPE, MaterialSource, withoutDefaults } from './contract';
import { ImportProvider } from './import-provider';
import { KeyMaterial, KeyMaterialEncoding } from './key-material';
import { KeyMaterialExpiration, MAX_VALIDITY_DAYS } from './key-material-expiration';
import { defaultWrappingAlgorithm, importConfigurationProblem, IMPORTABLE_KEY_SPECS } from './key-spec-rules';
import { lockDownMaterial } from './material-lockdown';
import { WrappingAlgorithm, WrappingKeySpec } from './wrapping';

/** KMS's quota of on-demand rotations per key (older documentation says 10; the API reference says 25). */
const MAX_ON_DEMAND_ROTATIONS = 25;

/** Where one material is read from, as the handler's properties name it. */
function sourceOf(material: KeyMaterial): MaterialSource {
  return {
    SecretId: material.secret.secretFullArn ?? material.secret.secretArn,
    JsonField: material.jsonField,
    VersionStage: material.versionStage,
    Encoding: material.encoding === KeyMaterialEncoding.AUTO ? undefined : material.encoding,
  };
}

function describeEntry(index: number, count: number): string {
  return index === count - 1 ? 'keyMaterial' : `previousKeyMaterials[${index}]`;
}

/** Options of the alarm on a key's material expiration. */
export interface MaterialExpirationAlarmOptions {
  /**
   * Alarm when the material expires within this time.
   *
   * @default - 30 days for a fixed expiration; three renewal intervals for a rolling one
   */
  readonly threshold?: Duration;

  /**
   * The alarm's name.
   *
   * @default - a name CloudFormation generates
   */
  readonly alarmName?: string;

  /**
   * The alarm's description.
   *
   * @default - says which key, and what to do
   */
  readonly alarmDescription?: string;
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
export class ImportedKmsKey extends Resource implements kms.IKey {
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
  private readonly expiration: KeyMaterialExpiration;
  private readonly shredMaterialOnRemoval: boolean;
  private aliasCount = 0;

  /**
   * @param scope the construct this key belongs to
   * @param id the construct id of this key
   * @param props where the material comes from, and how the key is configured
   */
  constructor(scope: Construct, id: string, props: ImportedKmsKeyProps) {
    super(scope, id);
    const keySpec = props.keySpec ?? kms.KeySpec.SYMMETRIC_DEFAULT;
    const keyUsage = props.keyUsage ?? (IMPORTABLE_KEY_SPECS[keySpec]?.usages[0] as kms.KeyUsage | undefined) ?? kms.KeyUsage.ENCRYPT_DECRYPT;
    const wrappingKeySpec = props.wrappingKeySpec ?? WrappingKeySpec.RSA_4096;
    const wrappingAlgorithm = props.wrappingAlgorithm ?? defaultWrappingAlgorithm(keySpec);
    const problem = importConfigurationProblem(keySpec, keyUsage, wrappingKeySpec, wrappingAlgorithm);
    if (problem) throw new Error(`ImportedKmsKey ${this.node.path}: ${problem}`);
    this.expiration = props.expiration ?? KeyMaterialExpiration.never();
    this.shredMaterialOnRemoval = props.shredMaterialOnRemoval ?? false;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (this.shredMaterialOnRemoval) this.requireDestroy(removalPolicy);
    const { validTo, validity, renewalInterval } = this.expiration;
    if (validTo) this.validateExpiration(validTo, new Date());
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
    });
    (this.key.node.defaultChild as kms.CfnKey).origin = 'EXTERNAL';
    Validations.of(this.key).acknowledge({
      id: 'AwsSolutions::AwsSolutions-KMS5',
      reason: 'KMS cannot rotate imported key material automatically (EnableKeyRotation is refused for Origin EXTERNAL); rotate by importing new material on demand.',
    });

    const provider = ImportProvider.of(this, props.handlerRuntime);
    const secretAccess = provider.serve(this.key, materials, {
      wrappingKeySpec, wrappingAlgorithm,
      expirationModel: validTo || validity ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE',
      latestValidTo: validTo,
      shred: this.shredMaterialOnRemoval,
      rotate: previous.length > 0,
    });
    const locked = new Set<secretsmanager.ISecret>();
    for (const material of materials) {
      if (!material.lockdown || locked.has(material.secret)) continue;
      locked.add(material.secret);
      lockDownMaterial(this, material.secret, material.lockdown, provider.role);
    }
    const properties = withoutDefaults({
      KeyArn: this.key.keyArn,
      KeySpec: keySpec,
      ...sourceOf(props.keyMaterial),
      PreviousMaterials: previous.length > 0 ? previous.map(sourceOf) : undefined,
      ValidTo: validTo?.toISOString().replace('.000Z', 'Z'),
      RollingValidity: validity ? String(validity.toSeconds()) : undefined,
      RenewalInterval: renewalInterval ? String(renewalInterval.toSeconds()) : undefined,
      WrappingKeySpec: wrappingKeySpec,
      WrappingAlgorithm: wrappingAlgorithm,
      ShredOnDelete: this.shredMaterialOnRemoval ? 'true' : undefined,
    });
    const importResource = new CustomResource(this, 'Import', {
      serviceToken: provider.serviceToken,
      resourceType: IMPORT_RESOURCE_TYPE,
      properties: { ...properties },
    });
    importResource.node.addDependency(secretAccess);

    this.keyArn = importResource.getAttString(ATTRIBUTE.KEY_ARN);
    this.keyId = importResource.getAttString(ATTRIBUTE.KEY_ID);
    this.currentKeyMaterialId = importResource.getAttString(ATTRIBUTE.KEY_MATERIAL_ID);
    // The schedule names the key by the import's KeyArn, so it starts only once the import succeeded.
    if (validity && renewalInterval) provider.renewals.add({ ...properties, KeyArn: this.keyArn }, renewalInterval);
    this.grants = kms.KeyGrants.fromKey(this);
    if (props.alias) this.addAlias(props.alias);
  }

  /** A reference to this key, resolving once the material was imported. */
  public get keyRef(): kms.KeyReference {
    return { keyArn: this.keyArn, keyId: this.keyId };
  }

  /** Defines an alias for the key; it is created after the material was imported. */
  public addAlias(aliasName: string): kms.Alias {
    const id = this.aliasCount === 0 ? 'Alias' : `Alias${aliasName}`;
    this.aliasCount++;
    return new kms.Alias(this, id, { aliasName, targetKey: this });
  }

  /** Adds a statement to the key policy. */
  public addToResourcePolicy(statement: iam.PolicyStatement, allowNoOp?: boolean): iam.AddToResourcePolicyResult {
    return this.key.addToResourcePolicy(statement, allowNoOp);
  }

  /** Applies a removal policy to the key. A key that shreds its material on removal must be destroyed. */
  public applyRemovalPolicy(policy: RemovalPolicy): void {
    if (this.shredMaterialOnRemoval) this.requireDestroy(policy);
    this.key.applyRemovalPolicy(policy);
  }

  private requireDestroy(policy: RemovalPolicy): void {
    if (policy === RemovalPolicy.DESTROY) return;
    throw new Error(`ImportedKmsKey ${this.node.path}: shredMaterialOnRemoval needs removalPolicy RemovalPolicy.DESTROY, got ${policy}; `
      + 'a kept key must keep its material. Destroy the key, or do not shred.');
  }

  /** Grants the given actions on this key. [disable-awslint:no-grants] */
  public grant(grantee: iam.IGrantable, ...actions: string[]): iam.Grant {
    return this.grants.actions(grantee, ...actions);
  }

  /** Grants decryption with this key. [disable-awslint:no-grants] */
  public grantDecrypt(grantee: iam.IGrantable): iam.Grant {
    return this.grants.decrypt(grantee);
  }

  /** Grants encryption with this key. [disable-awslint:no-grants] */
  public grantEncrypt(grantee: iam.IGrantable): iam.Grant {
    return this.grants.encrypt(grantee);
  }

  /** Grants encryption and decryption with this key. [disable-awslint:no-grants] */
  public grantEncryptDecrypt(grantee: iam.IGrantable): iam.Grant {
    return this.grants.encryptDecrypt(grantee);
  }

  /** Grants signing with this key. [disable-awslint:no-grants] */
  public grantSign(grantee: iam.IGrantable): iam.Grant {
    return this.grants.sign(grantee);
  }

  /** Grants verifying with this key. [disable-awslint:no-grants] */
  public grantVerify(grantee: iam.IGrantable): iam.Grant {
    return this.grants.verify(grantee);
  }

  /** Grants signing and verifying with this key. [disable-awslint:no-grants] */
  public grantSignVerify(grantee: iam.IGrantable): iam.Grant {
    return this.grants.signVerify(grantee);
  }

  /** Grants generating MACs with this key. [disable-awslint:no-grants] */
  public grantGenerateMac(grantee: iam.IGrantable): iam.Grant {
    return this.grants.generateMac(grantee);
  }

  /** Grants verifying MACs with this key. [disable-awslint:no-grants] */
  public grantVerifyMac(grantee: iam.IGrantable): iam.Grant {
    return this.grants.verifyMac(grantee);
  }

  /**
   * The seconds until the key's material expires, as KMS reports them (`AWS/KMS`
   * `SecondsUntilKeyMaterialExpiration`, statistic Minimum, hourly by default). KMS publishes it
   * only for material that expires.
   *
   * @param props options that override the metric's defaults (statistic, period, label, ...)
   */
  public metricSecondsUntilMaterialExpiration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.requireExpiringMaterial('metricSecondsUntilMaterialExpiration');
    return new cloudwatch.Metric({
      namespace: 'AWS/KMS',
      metricName: 'SecondsUntilKeyMaterialExpiration',
      dimensionsMap: { KeyId: this.keyId },
      statistic: cloudwatch.Stats.MINIMUM,
      period: Duration.hours(1),
      ...props,
    });
  }

  /**
   * An alarm that goes off when the key's material expires within `threshold`, or when KMS
   * reports nothing for an hour (missing data is breaching: material that already expired is no
   * longer reported). Add actions to it, e.g. `alarm.addAlarmAction(new SnsAction(topic))`.
   *
   * @param id the construct id of the alarm, under this key
   * @param options threshold, name and description of the alarm
   */
  public addMaterialExpirationAlarm(id: string, options: MaterialExpirationAlarmOptions = {}): cloudwatch.Alarm {
    this.requireExpiringMaterial('addMaterialExpirationAlarm');
    const { validity, renewalInterval } = this.expiration;
    const threshold = options.threshold ?? (renewalInterval ? Duration.seconds(renewalInterval.toSeconds() * 3) : Duration.days(30));
    if (validity && threshold.toSeconds() >= validity.toSeconds()) {
      throw new Error(`ImportedKmsKey ${this.node.path}: alarm threshold ${threshold.toHumanString()} is not shorter than the rolling validity `
        + `${validity.toHumanString()}, so the alarm would always be on; choose a shorter threshold.`);
    }
    return new cloudwatch.Alarm(this, id, {
      metric: this.metricSecondsUntilMaterialExpiration(),
      threshold: threshold.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmName: options.alarmName,
      alarmDescription: options.alarmDescription ?? `The imported key material of ${this.node.path} expires within ${threshold.toHumanString()} `
        + '(or KMS reports no expiration: it may have expired). Move the expiration forward and deploy, or check the renewal schedule.',
    });
  }

  /**
   * A rule that matches KMS's "KMS Imported Key Material Expiration" event for this key.
   *
   * @param id the construct id of the rule, under this key
   * @param options the rule's target, name, description and event pattern additions
   */
  public onMaterialExpiration(id: string, options: events.OnEventOptions = {}): events.Rule {
    this.requireExpiringMaterial('onMaterialExpiration');
    const rule = new events.Rule(this, id, options);
    rule.addEventPattern({ source: ['aws.kms'], detailType: ['KMS Imported Key Material Expiration'], resources: [this.keyArn] });
    rule.addTarget(options.target);
    return rule;
  }

  private requireExpiringMaterial(method: string): void {
    if (this.expiration.validTo || this.expiration.validity) return;
    throw new Error(`ImportedKmsKey ${this.node.path}: ${method}() has nothing to monitor: the key's material never expires `
      + '(KeyMaterialExpiration.never()), so KMS publishes no expiration metric or event for it.');
  }

  /** A key that lists earlier materials rotates: only symmetric keys can, each material once, within KMS's quota. */
  private validateRotation(keySpec: kms.KeySpec, materials: KeyMaterial[]): void {
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

  private validateExpiration(validTo: Date, now: Date): void {
    if (validTo.getTime() <= now.getTime()) {
      // Not an error: the rest of the app must still synthesize, and a deploy of this key fails with a sentence.
      Annotations.of(this).addWarningV2('imported-kms-key:expiration-passed', `expiration ${validTo.toISOString()} has passed, and KMS refuses to `
        + 'import a ValidTo in the past: a Create of this key fails, and an Update leaves the key with the material and expiration it holds. '
        + 'Move the expiration forward (at most 365 days ahead) and deploy, or use KeyMaterialExpiration.rolling().');
      return;
    }
    const latest = new Date(now.getTime() + MAX_VALIDITY_DAYS * 24 * 3600 * 1000);
    if (validTo.getTime() > latest.getTime()) {
      throw new Error(`ImportedKmsKey ${this.node.path}: expiration ${validTo.toISOString()} is more than `
        + `${MAX_VALIDITY_DAYS} days after now (latest ${latest.toISOString()}); KMS rejects a later ValidTo. `
        + 'Choose an earlier date and move it forward with later deployments.');
    }
  }
}
