import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ImportedKmsKey, ImportedKmsReplicaKey, KeyMaterial, KeyMaterialExpiration } from '../../lib';
import { IMPORT_RESOURCE_TYPE } from '../../lib/shared/contract';
import { propertiesOf } from '../../tools/template';
import { nagFindings } from '../support/nag';
import { importedKey, newStack } from '../support/stacks';

const offlineKey = (stack: Stack, id = 'Key', operators: iam.IGrantable[] = [], props: Partial<ConstructorParameters<typeof ImportedKmsKey>[2]> = {}) =>
  new ImportedKmsKey(stack, id, { keyMaterial: KeyMaterial.fromOfflineWrapping({ operators }), ...props });

describe('offline wrapping', () => {
  test('the stack gets one private, versioned, TLS-only, encrypted, retained bucket, shared by its keys', () => {
    const stack = newStack();
    offlineKey(stack, 'A');
    offlineKey(stack, 'B');
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('uploads reach the one handler: S3 sends events to EventBridge, one rule per bucket matches uploads/ keys only', () => {
    const stack = newStack();
    offlineKey(stack, 'A');
    offlineKey(stack, 'B');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::Bucket', { NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } } });
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    const rules = Object.values(template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.s3'] } } }))
      .filter((r) => JSON.stringify(r).includes('/uploads/')); // the refresh requests have their own rule (offline-sweep.test.ts)
    expect(rules).toHaveLength(1);
    const [rule] = rules as { Properties: { EventPattern: { 'detail-type': string[]; detail: { object: { key: unknown } } }; Targets: { Arn: unknown }[] } }[];
    expect(rule.Properties.EventPattern['detail-type']).toEqual(['Object Created']);
    expect(rule.Properties.EventPattern.detail.object.key).toEqual([{ wildcard: '*/*/uploads/*/wrapped-material.bin' }]);
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(JSON.stringify(rule.Properties.Targets[0].Arn)).toMatch(/ImportedKmsKeyProviderHandler[0-9A-F]{8}/);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ImportedKmsKeyProviderHandlerRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 's3:ListBucket' }), Match.objectLike({ Action: 'events:PutEvents' })]) },
    });
  });

  test('the import resource names the bucket and no secret; a user\'s bucket is used instead of a new one', () => {
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Mine', 'my-ceremonies');
    const key = new ImportedKmsKey(stack, 'Key', { keyMaterial: KeyMaterial.fromOfflineWrapping({ bucket }) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    const [props] = propertiesOf(template, IMPORT_RESOURCE_TYPE, '');
    expect(props.ParameterBucket).toBe('my-ceremonies');
    expect(props.SecretId).toBeUndefined();
    expect(key.parameterBucket).toBe(bucket);
  });

  test('only the handler may get import parameters or import: a Deny for every other principal', () => {
    const stack = newStack();
    offlineKey(stack);
    const [{ KeyPolicy }] = propertiesOf(Template.fromStack(stack), 'AWS::KMS::Key', '');
    const deny = KeyPolicy.Statement.find((s) => s.Sid === 'DenyImportedKmsKeyImportExceptHandler');
    expect(deny).toMatchObject({
      Effect: 'Deny', Principal: { AWS: '*' }, Action: ['kms:GetParametersForImport', 'kms:ImportKeyMaterial'],
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [expect.stringMatching(/^ImportedKmsKeyProviderHandlerRole/), 'Arn'] } } },
    });
  });

  test('an operator gets S3 on the key\'s prefix only, and no KMS permission', () => {
    const stack = newStack();
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    const later = new iam.Role(stack, 'Later', { assumedBy: new iam.AccountRootPrincipal() });
    const key = offlineKey(stack, 'Key', [operator]);
    key.grantOperator(later);
    const template = Template.fromStack(stack);
    for (const role of ['Operator', 'Later']) {
      const policies = propertiesOf(template, 'AWS::IAM::Policy', role);
      const statements = policies.flatMap((p) => p.PolicyDocument.Statement);
      const actions = statements.flatMap((s) => [s.Action].flat());
      expect(actions.sort()).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject']);
      const text = JSON.stringify(stack.resolve(statements));
      expect(text).not.toContain('kms:');
      for (const folder of ['parameters/*', 'results/*', 'uploads/*', 'requests/*']) expect(text).toContain(folder);
      expect(text).toContain('"s3:prefix"');
      // every object ARN is under the key's prefix: <region>/<key id>/
      const keyRef = JSON.stringify({ Ref: stack.getLogicalId(key.key.node.defaultChild as kms.CfnKey) });
      const objectArns = statements.filter((s) => s.Action !== 's3:ListBucket').flatMap((s) => [s.Resource].flat());
      expect(objectArns).toHaveLength(4);
      for (const arn of objectArns) expect(JSON.stringify(stack.resolve(arn))).toContain(keyRef);
    }
  });

  test('a rolling expiration is refused at synth with the reason', () => {
    const stack = newStack();
    expect(() => offlineKey(stack, 'Key', [], { expiration: KeyMaterialExpiration.rolling(Duration.days(30)) }))
      .toThrow(/cannot use a rolling expiration: each renewal needs a fresh wrap in the HSM and an import-parameter set lives 24 hours/);
  });

  test('a fixed expiration is taken, and rotation and shred are refused', () => {
    const stack = newStack();
    offlineKey(stack, 'Fixed', [], { expiration: KeyMaterialExpiration.at(new Date(Date.now() + 90 * 86_400_000)) });
    expect(() => offlineKey(stack, 'Shred', [], { removalPolicy: RemovalPolicy.DESTROY, shredMaterialOnRemoval: true })).toThrow(/shredMaterialOnRemoval is not supported/);
    expect(() => offlineKey(stack, 'Rotated', [], { previousKeyMaterials: [KeyMaterial.fromOfflineWrapping()] })).toThrow(/rotation is not supported|not supported with KeyMaterial.fromOfflineWrapping/);
  });

  test('grantOperator on a key whose material is in a secret says why not', () => {
    const stack = newStack();
    const key = importedKey(stack, 'Key');
    expect(() => key.grantOperator(new iam.Role(stack, 'Op', { assumedBy: new iam.AccountRootPrincipal() }))).toThrow(/grantOperator needs a key whose keyMaterial is KeyMaterial.fromOfflineWrapping/);
  });

  test('a replica of an offline primary takes its own ceremony, and must say so', () => {
    const app = new App();
    const primaryStack = new Stack(app, 'Primary', { env: { account: '111122223333', region: 'eu-west-1' }, crossRegionReferences: true });
    const primary = offlineKey(primaryStack, 'Key', [], { multiRegion: true });
    const replicaStack = new Stack(app, 'Replica', { env: { account: '111122223333', region: 'eu-west-2' }, crossRegionReferences: true });
    expect(() => new ImportedKmsReplicaKey(replicaStack, 'Implicit', { primaryKey: primary })).toThrow(/pass keyMaterial: KeyMaterial.fromOfflineWrapping/);
    new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary, keyMaterial: KeyMaterial.fromOfflineWrapping() });
    const [props] = propertiesOf(Template.fromStack(replicaStack), IMPORT_RESOURCE_TYPE, '');
    expect(props.Replica).toBe('true');
    expect(props.ParameterBucket).toEqual({ Ref: expect.stringMatching(/^ImportedKmsKeyParameters/) as string });
  });

  test('cdk-nag AwsSolutions finds nothing unacknowledged, and the skipped access logs are acknowledged with the reason', () => {
    const { open, report } = nagFindings((app) => {
      const stack = new Stack(app, 'Offline', { env: { account: '111122223333', region: 'eu-west-1' } });
      offlineKey(stack, 'Key', [new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() })]);
    });
    expect(open).toEqual([]);
    const acknowledged = JSON.stringify(report);
    expect(acknowledged).toContain('AwsSolutions-S1');
  });
});
