import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { OFFLINE_FOLDER, UPLOAD_FILE } from '../shared/contract';

/**
 * Offline wrapping: an operator's upload reaches the stack's one import handler. S3 sends its
 * Object Created events to EventBridge (set on the bucket's own CloudFormation resource: CDK's
 * enableEventBridgeNotification() would add a second custom-resource Lambda), and one rule per
 * bucket matches only `<region>/<keyId>/uploads/<set>/wrapped-material.bin` keys and invokes the
 * handler. A bucket this app does not define (imported by name) must have EventBridge
 * notifications turned on by its owner (aws s3api put-bucket-notification-configuration
 * --notification-configuration '{"EventBridgeConfiguration":{}}').
 * The handler may (besides reading and writing objects, offline-wrapping.ts) list the bucket (so a missing result reads as
 * NoSuchKey, not AccessDenied) and put its result events on the default bus.
 */
export function deliverUploads(scope: Construct, bucket: s3.IBucket, handler: lambda.IFunction, handlerRole: iam.IRole): void {
  const existing = delivered.get(handler) ?? new Set<s3.IBucket>();
  delivered.set(handler, existing);
  if (existing.has(bucket)) return;
  existing.add(bucket);
  const cfnBucket = bucket.node.defaultChild;
  if (cfnBucket instanceof s3.CfnBucket) {
    cfnBucket.addPropertyOverride('NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled', true);
  }
  new events.Rule(scope, existing.size === 1 ? 'Uploads' : `Uploads${existing.size}`, {
    description: 'ImportedKmsKey: an offline-wrapping operator uploaded wrapped key material; the import handler imports it',
    eventPattern: {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail: {
        bucket: { name: [bucket.bucketName] },
        object: { key: events.Match.wildcard(`*/*/${OFFLINE_FOLDER.UPLOADS}*/${UPLOAD_FILE}`) },
      },
    },
    targets: [new targets.LambdaFunction(handler, { retryAttempts: 2 })],
  });
  handlerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
  if (existing.size === 1) {
    handlerRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [events.EventBus.fromEventBusName(scope, 'DefaultBus', 'default').eventBusArn],
    }));
  }
}

const delivered = new WeakMap<lambda.IFunction, Set<s3.IBucket>>();
