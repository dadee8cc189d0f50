/**
 * Offline wrapping's permissions, evaluated as IAM would (an IAM policy evaluation library): an
 * operator reaches only its key's prefix, and only through S3; nobody but the handler can get
 * import parameters or import into the key, even with kms:* in their own policy.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ImportedKmsKey, KeyMaterial } from '../../lib';
import { ACCOUNT, decide, REGION, resolvePolicy, roleArn } from '../support/policy-simulator';
import { newStack } from '../support/stacks';
import { resourcesOf } from '../../tools/template';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;
const BUCKET = 'arn:aws:s3:::ceremonies';

function synthesized() {
  const stack = newStack();
  const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
  new ImportedKmsKey(stack, 'Key', { keyMaterial: KeyMaterial.fromOfflineWrapping({ operators: [operator] }) });
  const resources = resourcesOf(Template.fromStack(stack));
  const id = (prefix: string, type: string) => Object.keys(resources).find((k) => k.startsWith(prefix) && resources[k].Type === type)!;
  const bucket = id('ImportedKmsKeyParameters', 'AWS::S3::Bucket');
  const key = id('Key', 'AWS::KMS::Key');
  // The bucket and the key as they will be named at deploy time; every other Ref is a role.
  const named = (node: unknown) => resolvePolicy(JSON.parse(JSON.stringify(node)
    .split(JSON.stringify({ 'Fn::GetAtt': [bucket, 'Arn'] })).join(JSON.stringify(BUCKET))
    .split(JSON.stringify({ Ref: key })).join(JSON.stringify(KEY_ID))));
  const policyOf = (rolePrefix: string) => Object.entries(resources)
    .filter(([k, r]) => r.Type === 'AWS::IAM::Policy' && k.startsWith(rolePrefix)).map(([, r]) => named(r.Properties.PolicyDocument));
  const bucketPolicy = named(Object.values(resources).find((r) => r.Type === 'AWS::S3::BucketPolicy')!.Properties.PolicyDocument);
  return {
    keyPolicy: named(resources[key].Properties.KeyPolicy),
    bucketPolicy,
    operator: { arn: roleArn(id('Operator', 'AWS::IAM::Role')), policies: policyOf('Operator') },
    handler: roleArn(id('ImportedKmsKeyProviderHandlerRole', 'AWS::IAM::Role')),
  };
}

const object = (path: string) => `${BUCKET}/${REGION}/${path}`;
const tls = { 'aws:SecureTransport': 'true' };

test('an operator may read its key\'s sets and results and upload, over TLS, and nothing else of the bucket', async () => {
  const { bucketPolicy, operator } = synthesized();
  const as = (action: string, resource: string, context: Record<string, string> = tls) =>
    decide(bucketPolicy, { principal: operator.arn, action, resource, context, identityPolicies: operator.policies });
  expect(await as('s3:GetObject', object(`${KEY_ID}/parameters/2026-12-08T11:00:00.000Z/import-token.bin`))).toBe('Allowed');
  expect(await as('s3:GetObject', object(`${KEY_ID}/results/upload-1.json`))).toBe('Allowed');
  expect(await as('s3:PutObject', object(`${KEY_ID}/uploads/wrapped.bin`))).toBe('Allowed');
  expect(await as('s3:PutObject', object(`${KEY_ID}/requests/fresh.json`))).toBe('Allowed');
  // It cannot forge a set or a result, read uploads, or touch another key's prefix.
  expect(await as('s3:PutObject', object(`${KEY_ID}/parameters/2026-12-08T11:00:00.000Z/manifest.json`))).toBe('ImplicitlyDenied');
  expect(await as('s3:PutObject', object(`${KEY_ID}/results/upload-1.json`))).toBe('ImplicitlyDenied');
  // The handler's answers to refresh requests and its reminder records are results: read, never written, by operators.
  expect(await as('s3:GetObject', object(`${KEY_ID}/results/answers/2026-12-08T11:00:00.000Z.json`))).toBe('Allowed');
  expect(await as('s3:PutObject', object(`${KEY_ID}/results/answers/2026-12-08T11:00:00.000Z.json`))).toBe('ImplicitlyDenied');
  expect(await as('s3:PutObject', object(`${KEY_ID}/results/reminders/2027-01-01T00:00:00.000Z.json`))).toBe('ImplicitlyDenied');
  expect(await as('s3:GetObject', object(`${KEY_ID}/uploads/wrapped.bin`))).toBe('ImplicitlyDenied');
  expect(await as('s3:GetObject', object('ffffffff-0000-0000-0000-000000000000/parameters/x/import-token.bin'))).toBe('ImplicitlyDenied');
  expect(await as('s3:ListBucket', BUCKET, { ...tls, 's3:prefix': `${REGION}/${KEY_ID}/parameters/` })).toBe('Allowed');
  expect(await as('s3:ListBucket', BUCKET, { ...tls, 's3:prefix': `${REGION}/` })).toBe('ImplicitlyDenied');
  // Without TLS, the bucket refuses even what the operator may do.
  expect(await as('s3:GetObject', object(`${KEY_ID}/results/upload-1.json`), { 'aws:SecureTransport': 'false' })).toBe('ExplicitlyDenied');
});

test('only the handler may get import parameters or import: an operator, and an administrator with kms:*, are denied', async () => {
  const { keyPolicy, operator, handler } = synthesized();
  const admin = `arn:aws:iam::${ACCOUNT}:role/KeyAdmin`;
  const everything = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }];
  for (const action of ['kms:GetParametersForImport', 'kms:ImportKeyMaterial']) {
    expect(await decide(keyPolicy, { principal: operator.arn, action, resource: KEY, identityPolicies: operator.policies })).toBe('ExplicitlyDenied');
    expect(await decide(keyPolicy, { principal: admin, action, resource: KEY, identityPolicies: everything })).toBe('ExplicitlyDenied');
  }
  const parameters = { 'kms:WrappingKeySpec': 'RSA_4096', 'kms:WrappingAlgorithm': 'RSAES_OAEP_SHA_256' };
  expect(await decide(keyPolicy, { principal: handler, action: 'kms:GetParametersForImport', resource: KEY, context: parameters })).toBe('Allowed');
  expect(await decide(keyPolicy, { principal: handler, action: 'kms:ImportKeyMaterial', resource: KEY,
    context: { 'kms:ExpirationModel': 'KEY_MATERIAL_DOES_NOT_EXPIRE' } })).toBe('Allowed');
  // The administrator keeps the key's administration (the Deny names only the two import actions).
  expect(await decide(keyPolicy, { principal: admin, action: 'kms:PutKeyPolicy', resource: KEY, identityPolicies: everything })).toBe('Allowed');
});
