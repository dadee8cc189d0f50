import { Duration, Resource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { KeyMaterialExpiration } from './key-material-expiration';
import { constructError } from './private/construct-error';
import { keyMaterialChangePattern } from './private/material-change-pattern';
import { secondsOf } from './private/expiration-rules';
import { grantOperator, OfflineStore } from './private/offline-wrapping';
import { EXPIRING_EVENT, EXPIRING_METRIC, METRIC_NAMESPACE, UPLOAD_RESULT_EVENT } from './shared/contract';
import { RENEWALS_PER_VALIDITY } from './shared/limits';

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

/** Options of `addKeyMaterialChangeAlarm`. */
export interface KeyMaterialChangeAlarmOptions {
  /**
   * Name of the alarm.
   *
   * @default - a name CloudFormation generates
   */
  readonly alarmName?: string;

  /**
   * Description of the alarm.
   *
   * @default - what happened and what to check
   */
  readonly alarmDescription?: string;
}

/** Options of `addOfflineExpiryReminderAlarm`. */
export interface OfflineExpiryReminderAlarmOptions {
  /**
   * Name of the alarm.
   *
   * @default - a name CloudFormation generates
   */
  readonly alarmName?: string;

  /**
   * Description of the alarm.
   *
   * @default - which key, and what to do
   */
  readonly alarmDescription?: string;
}

/**
 * What ImportedKmsKey, ImportedKmsReplicaKey and ImportedKeyMaterial share: a KMS key whose imported material a
 * custom resource keeps in place, usable as a `kms.IKey` once the import succeeded, with grants,
 * aliases and the monitoring of its material's expiration.
 */
export abstract class ImportedKeyBase extends Resource implements kms.IKey {
  /** ARN of the key, available once the material was imported. */
  public abstract readonly keyArn: string;
  /** Id of the key, available once the material was imported. */
  public abstract readonly keyId: string;
  /**
   * The KeyMaterialId of the key's current material (changes with each rotation). Empty for keys
   * KMS reports none for (HMAC and asymmetric keys).
   */
  public abstract readonly currentKeyMaterialId: string;
  /** Grant methods for this key. */
  public abstract readonly grants: kms.KeyGrants;
  /** The role of the import handler (the stack's provider): its calls on the key are the expected ones. */
  public abstract readonly importHandlerRole: iam.IRole;
  /** When the key's imported material expires. */
  public abstract readonly expiration: KeyMaterialExpiration;

  /**
   * Offline wrapping: the key's bucket and prefix, set by the subclass. @internal
   */
  protected _offlineStore?: OfflineStore;

  /**
   * Offline wrapping: lets `grantee` run this key's ceremony, with S3 access to the key's prefix
   * only (read parameter sets and results, upload wrapped material and refresh requests) and no
   * KMS permission. Only for a key whose material is `KeyMaterial.fromOfflineWrapping()`.
   *
   * @param grantee the operator (a role, user or group)
   */
  public grantOperator(grantee: iam.IGrantable): iam.Grant {
    if (!this._offlineStore) {
      throw constructError(this, 'grantOperator needs a key whose keyMaterial is KeyMaterial.fromOfflineWrapping(); this key reads its material from a secret.');
    }
    return grantOperator(this._offlineStore, grantee);
  }

  /**
   * Offline wrapping: the bucket that holds this key's import-parameter sets, uploads and results
   * (under the prefix `<region>/<keyId>/`); undefined for a key whose material is in a secret.
   */
  public get parameterBucket(): s3.IBucket | undefined {
    return this._offlineStore?.bucket;
  }

  /** A reference to this key, resolving once the material was imported. */
  public get keyRef(): kms.KeyReference {
    return { keyArn: this.keyArn, keyId: this.keyId };
  }

  /** Defines an alias for the key; it is created after the material was imported. */
  public addAlias(aliasName: string): kms.Alias {
    const id = this.node.tryFindChild('Alias') ? `Alias${aliasName}` : 'Alias';
    return new kms.Alias(this, id, { aliasName, targetKey: this });
  }

  /** Adds a statement to the key policy. */
  public abstract addToResourcePolicy(statement: iam.PolicyStatement, allowNoOp?: boolean): iam.AddToResourcePolicyResult;

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
    const threshold = options.threshold ?? this.defaultAlarmThreshold(renewalInterval);
    const [thresholdSeconds, validitySeconds] = [secondsOf(threshold), validity && secondsOf(validity)];
    if (thresholdSeconds !== undefined && validitySeconds !== undefined && thresholdSeconds >= validitySeconds) {
      throw constructError(this, `alarm threshold ${threshold.toHumanString()} is not shorter than the rolling validity `
        + `${validity!.toHumanString()}, so the alarm would always be on; choose a shorter threshold.`);
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

  /**
   * A rule that matches CloudTrail's record of a call that changes or could change this key's
   * material or availability (ImportKeyMaterial, DeleteImportedKeyMaterial, GetParametersForImport,
   * RotateKeyOnDemand, DisableKey, ScheduleKeyDeletion) by any principal other than the import
   * handler's role. Needs a CloudTrail trail with management events in this Region (read events too,
   * for GetParametersForImport). See README, "Out-of-band changes".
   *
   * @param id the construct id of the rule, under this key
   * @param options the rule's target, name, description and event pattern additions
   */
  public onKeyMaterialChange(id: string, options: events.OnEventOptions = {}): events.Rule {
    const rule = new events.Rule(this, id, options);
    rule.addEventPattern(keyMaterialChangePattern(this.keyArn, this.importHandlerRole.roleArn));
    rule.addTarget(options.target);
    return rule;
  }

  /**
   * An alarm that goes off when `onKeyMaterialChange`'s rule matched in the last 5 minutes (its
   * AWS/Events TriggeredRules metric), and the rule behind it. Add actions to the alarm, e.g.
   * `alarm.addAlarmAction(new SnsAction(topic))`.
   *
   * @param id the construct id of the alarm, under this key (the rule gets `${id}Rule`)
   * @param options name and description of the alarm
   */
  public addKeyMaterialChangeAlarm(id: string, options: KeyMaterialChangeAlarmOptions = {}): cloudwatch.Alarm {
    const rule = this.onKeyMaterialChange(`${id}Rule`);
    return new cloudwatch.Alarm(this, id, {
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Events', metricName: 'TriggeredRules', dimensionsMap: { RuleName: rule.ruleName },
        statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmName: options.alarmName,
      alarmDescription: options.alarmDescription ?? `Someone other than the import handler changed, fetched import parameters for, disabled or scheduled `
        + `the deletion of KMS key ${this.node.path}. Find the call in CloudTrail (the rule's matched event) and check it was intended.`,
    });
  }

  /**
   * Offline wrapping: the stack's hourly sweep writes 1 for this key on each run while the key's
   * material expires within `remindBefore` (`ImportedKmsKey` `OfflineMaterialExpiring`, dimension
   * KeyId; statistic Maximum over 3 hours by default, so a late run does not leave a gap). No data
   * otherwise. Only for a key whose material is `KeyMaterial.fromOfflineWrapping()`.
   *
   * @param props options that override the metric's defaults (statistic, period, label, ...)
   */
  public metricOfflineExpiryReminder(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.requireOffline('metricOfflineExpiryReminder');
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: EXPIRING_METRIC,
      dimensionsMap: { KeyId: this.keyId },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.hours(3),
      ...props,
    });
  }

  /**
   * Offline wrapping: an alarm that goes off while the sweep reminds that this key's material expires
   * within `remindBefore` (`metricOfflineExpiryReminder`), and clears once the ceremony imported
   * material with a later expiration. It complements `addMaterialExpirationAlarm` (KMS's own metric,
   * which also fires if the handler cannot run): this one rises with the reminder event that says
   * what to do. Add actions to it, e.g. `alarm.addAlarmAction(new SnsAction(topic))`.
   *
   * @param id the construct id of the alarm, under this key
   * @param options name and description of the alarm
   */
  public addOfflineExpiryReminderAlarm(id: string, options: OfflineExpiryReminderAlarmOptions = {}): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, id, {
      metric: this.metricOfflineExpiryReminder(),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmName: options.alarmName,
      alarmDescription: options.alarmDescription ?? `The imported key material of ${this.node.path} expires soon and needs an HSM ceremony. `
        + 'The "Imported Key Material Expiring" event says what to do: wrap and upload under the fresh parameter set, or deploy a later expiration first.',
    });
  }

  /**
   * Offline wrapping: a rule that matches the sweep's "Imported Key Material Expiring" event for this
   * key (source `imported-kms-key`), put once a day from `remindBefore` before the material's ValidTo.
   * Its detail: keyArn, validTo, daysLeft, requestedValidTo, bucket, parameterSet and `action`, the
   * sentence that says what to do.
   *
   * @param id the construct id of the rule, under this key
   * @param options the rule's target, name, description and event pattern additions
   */
  public onOfflineExpiryReminder(id: string, options: events.OnEventOptions = {}): events.Rule {
    this.requireOffline('onOfflineExpiryReminder');
    const rule = new events.Rule(this, id, options);
    rule.addEventPattern({ source: [EXPIRING_EVENT.SOURCE], detailType: [EXPIRING_EVENT.DETAIL_TYPE], resources: [this.keyArn] });
    rule.addTarget(options.target);
    return rule;
  }

  /**
   * Offline wrapping: a rule that matches the handler's "Imported Key Material Upload Result" event
   * for this key (source `imported-kms-key`), put after every upload it examined, imported or
   * refused. This is how consumers learn that a key left `PendingImport`: detail.outcome `imported`,
   * with keyMaterialId and keyState. Its detail: keyArn, set, upload (key, versionId), outcome,
   * sentence, keyMaterialId, keyState, at, bucket and resultKey; never a token or a blob.
   *
   * @param id the construct id of the rule, under this key
   * @param options the rule's target, name, description and event pattern additions
   */
  public onOfflineImportResult(id: string, options: events.OnEventOptions = {}): events.Rule {
    this.requireOffline('onOfflineImportResult', 'only an operator\'s upload is imported by the handler with a result event');
    const rule = new events.Rule(this, id, options);
    rule.addEventPattern({ source: [UPLOAD_RESULT_EVENT.SOURCE], detailType: [UPLOAD_RESULT_EVENT.DETAIL_TYPE], resources: [this.keyArn] });
    rule.addTarget(options.target);
    return rule;
  }

  private requireOffline(method: string, why = 'only the offline sweep reminds of an expiry; for other keys use addMaterialExpirationAlarm() or onMaterialExpiration()'): void {
    if (this._offlineStore) return;
    throw constructError(this, `${method}() needs a key whose keyMaterial is KeyMaterial.fromOfflineWrapping(): ${why}.`);
  }

  /** 30 days for a fixed expiration; three renewal intervals for a rolling one. */
  private defaultAlarmThreshold(renewalInterval: Duration | undefined): Duration {
    if (!renewalInterval) return Duration.days(30);
    const seconds = secondsOf(renewalInterval);
    if (seconds === undefined) {
      throw constructError(this, 'addMaterialExpirationAlarm() needs a threshold when the renewalInterval is known only at deploy time; '
        + 'pass options.threshold (e.g. three renewal intervals).');
    }
    return Duration.seconds(seconds * RENEWALS_PER_VALIDITY);
  }

  private requireExpiringMaterial(method: string): void {
    if (this.expiration.validTo || this.expiration.validity) return;
    throw constructError(this, `${method}() has nothing to monitor: the key's material never expires `
      + '(KeyMaterialExpiration.never()), so KMS publishes no expiration metric or event for it.');
  }
}
