import { Duration, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ImportedKmsKey, KeyMaterial, KeyMaterialExpiration } from '../lib';

export interface ExampleStackProps extends StackProps {
  /** Expiration of the imported material; a fixed date keeps the template stable. */
  readonly expiration?: KeyMaterialExpiration;
}

/**
 * The README's example: a BYOK key whose material lives in Secrets Manager, used by a role and
 * as the default encryption key of an S3 bucket; and a key with a rolling expiration (a dead man's
 * switch: it lapses within 30 days unless the stack's schedule keeps renewing it), with an alarm.
 */
export class ExampleStack extends Stack {
  public readonly key: ImportedKmsKey;
  public readonly sessionKey: ImportedKmsKey;

  constructor(scope: Construct, id: string, props: ExampleStackProps = {}) {
    super(scope, id, props);

    const secret = secretsmanager.Secret.fromSecretNameV2(this, 'Material', 'prod/payments/kms-material');
    this.key = new ImportedKmsKey(this, 'PaymentsKey', {
      keyMaterial: KeyMaterial.fromSecret(secret),
      expiration: props.expiration ?? KeyMaterialExpiration.never(),
      alias: 'alias/payments',
      description: 'Payments data key (BYOK)',
    });

    this.sessionKey = new ImportedKmsKey(this, 'SessionKey', {
      keyMaterial: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretNameV2(this, 'SessionMaterial', 'prod/sessions/kms-material')),
      expiration: KeyMaterialExpiration.rolling(Duration.days(30)),
      alias: 'alias/sessions',
      description: 'Session tokens key (BYOK, renewed daily, lapses within 30 days if renewals stop)',
    });
    this.sessionKey.addMaterialExpirationAlarm('SessionKeyExpiryAlarm');
    // Out-of-band changes: anyone but the import handler importing, deleting, rotating, disabling or
    // scheduling the deletion of the payments key's material (needs a CloudTrail trail with management events).
    this.key.addKeyMaterialChangeAlarm('PaymentsKeyMaterialChangeAlarm');

    const role = new iam.Role(this, 'PaymentsRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: 'Reads and writes payments data',
    });
    this.key.grantEncryptDecrypt(role);

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
    });
    const bucket = new s3.Bucket(this, 'Bucket', {
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
    });
    bucket.grantReadWrite(role);

    // The wildcards below are aws-cdk-lib's own grant action groups, each scoped to this key or bucket.
    const grantActions = ['kms:GenerateDataKey*', 'kms:ReEncrypt*', 's3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'];
    Validations.of(role).acknowledge(
      ...grantActions.map((action) => ({
        id: `AwsSolutions::AwsSolutions-IAM5[Action::${action}]`,
        reason: `${action} comes from grantEncryptDecrypt / grantReadWrite and applies to the payments key or bucket only.`,
      })),
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${this.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
        reason: 'The role reads and writes every object of the payments bucket, and only of that bucket.',
      },
    );
  }
}
