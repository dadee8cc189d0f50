import fs from 'fs';
import * as path from 'path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ImportedKmsKey, KeyMaterial, KeyMaterialEncoding, KeyMaterialExpiration, WrappingAlgorithm, WrappingKeySpec } from '../../lib';
import { IMPORT_RESOURCE_TYPE, ImportProperties, withDefaults } from '../../lib/shared/contract';
import { CONSISTENCY_RETRY_DELAYS_MS, IMPORT_RETRY_DELAYS_MS, READY_RETRY_DELAYS_MS, SDK_CALL_BUDGET_MS } from '../../lib/shared/limits';
import { iamPolicySize } from '../../tools/iam-size';
import { importedKey, materialSecret, newStack } from '../support/stacks';
import { CfnResource, propertiesOf } from '../../tools/template';

/** A key whose secret has a 500-character name (Secrets Manager allows 512): nine of them fill a secret policy. */
function keyWithLongSecretName(stack: Stack, i: number): ImportedKmsKey {
  const arn = `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${'n'.repeat(500)}${String(i).padStart(3, '0')}-AbCdEf`;
  return new ImportedKmsKey(stack, `Key${i}`, { keyMaterial: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, `Secret${i}`, arn)) });
}

const inDays = (days: number) => new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) + days * 86_400_000);

describe('the key', () => {
  test('is an EXTERNAL symmetric key, retained by default, without automatic rotation', () => {
    const stack = newStack();
    importedKey(stack, 'Key', { description: 'BYOK', pendingWindow: Duration.days(7) });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::KMS::Key', {
      Properties: { Origin: 'EXTERNAL', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', EnableKeyRotation: false, Description: 'BYOK', PendingWindowInDays: 7 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('takes removalPolicy, admins and a custom policy like kms.Key', () => {
    const stack = newStack();
    const admin = new iam.Role(stack, 'Admin', { assumedBy: new iam.AccountRootPrincipal() });
    const policy = new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ sid: 'Audit', actions: ['kms:DescribeKey'], principals: [new iam.AccountRootPrincipal()], resources: ['*'] })] });
    importedKey(stack, 'Key', { removalPolicy: RemovalPolicy.DESTROY, admins: [admin], policy });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'Audit' }), Match.objectLike({ Sid: 'AllowImportedKmsKeyHandlerImport' })]) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Admin') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['kms:Create*']) })]) },
    });
  });

  test('creates the alias only after the import', () => {
    const stack = newStack();
    importedKey(stack, 'Key', { alias: 'alias/payments' });
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/payments',
      TargetKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyImport'), 'KeyArn'] },
    });
  });

  test('takes more aliases like kms.Key: the first keeps its id, each later one is named after its alias', () => {
    const stack = newStack();
    const key = importedKey(stack, 'Key', { alias: 'alias/payments' });
    key.addAlias('alias/billing');
    key.addAlias('alias/refunds');
    const aliases = Template.fromStack(stack).findResources('AWS::KMS::Alias') as Record<string, CfnResource>;
    expect(Object.fromEntries(Object.entries(aliases).map(([id, r]) => [id.replace(/[0-9A-F]{8}$/, ''), r.Properties.AliasName]))).toEqual({
      KeyAlias: 'alias/payments',
      KeyAliasaliasbilling: 'alias/billing',
      KeyAliasaliasrefunds: 'alias/refunds',
    });
  });
});

describe('the import custom resource', () => {
  test('carries identifiers and settings only: the secret ARN, never material', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:kms/material-AbCdEf');
    new ImportedKmsKey(stack, 'Key', {
      keyMaterial: KeyMaterial.fromSecret(secret, { jsonField: 'key', versionStage: 'AWSCURRENT', encoding: KeyMaterialEncoding.HEX }),
      expiration: KeyMaterialExpiration.at(new Date(inDays(30).getTime() + 123)),
    });
    const resources = Template.fromStack(stack).findResources(IMPORT_RESOURCE_TYPE);
    const [resource] = Object.values(resources) as CfnResource[];
    expect(Object.keys(resources)).toHaveLength(1);
    expect(resource.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/^ImportedKmsKeyProviderframeworkonEvent/), 'Arn'] },
      KeyArn: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
      SecretId: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:kms/material-AbCdEf',
      JsonField: 'key',
      VersionStage: 'AWSCURRENT',
      Encoding: 'HEX',
      ValidTo: inDays(30).toISOString().replace('.000Z', 'Z'),
    });
    // Settings at their defaults stay out of the template; the handler fills them in from the shared contract.
    expect(withDefaults(resource.Properties as unknown as ImportProperties)).toMatchObject({ KeySpec: 'SYMMETRIC_DEFAULT', WrappingKeySpec: 'RSA_4096', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
  });

  test('settings that differ from their defaults are in the template', () => {
    const stack = newStack();
    importedKey(stack, 'Key', { keySpec: kms.KeySpec.HMAC_256, wrappingKeySpec: WrappingKeySpec.RSA_2048, wrappingAlgorithm: WrappingAlgorithm.RSAES_OAEP_SHA_1 });
    Template.fromStack(stack).hasResourceProperties(IMPORT_RESOURCE_TYPE, { KeySpec: 'HMAC_256', WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_1' });
  });

  test('three keys share one handler function and one provider', () => {
    const stack = newStack();
    for (const id of ['A', 'B', 'C']) importedKey(stack, id);
    const template = Template.fromStack(stack);
    template.resourceCountIs(IMPORT_RESOURCE_TYPE, 3);
    template.resourceCountIs('AWS::Lambda::Function', 2); // the import handler + the Provider framework's onEvent
    template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Handler: 'index.handler' });
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
  });

  test('the handler is an arm64 function of 256 MB with JSON logs, and the framework has its own described role; both keep their logs a year', () => {
    const stack = newStack();
    importedKey(stack, 'Key');
    const template = Template.fromStack(stack);
    expect(propertiesOf(template, 'AWS::Lambda::Function', 'ImportedKmsKeyProviderHandler')).toEqual([expect.objectContaining({
      Description: 'ImportedKmsKey: imports key material from Secrets Manager into KMS', Architectures: ['arm64'], MemorySize: 256, Timeout: 600,
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.stringMatching(/^ImportedKmsKeyProviderHandlerLogs/) as unknown } },
    })]);
    expect(propertiesOf(template, 'AWS::IAM::Role', 'ImportedKmsKeyProviderFrameworkRole')).toEqual([{
      Description: 'Custom-resource provider framework of ImportedKmsKey',
      AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } }] },
    }]);
    for (const logs of ['ImportedKmsKeyProviderHandlerLogs', 'ImportedKmsKeyProviderFrameworkLogs']) expect(propertiesOf(template, 'AWS::Logs::LogGroup', logs)).toEqual([{ RetentionInDays: 365 }]);
  });

  test('the handler runtime can be chosen, and keys of a stack must agree on it', () => {
    const stack = newStack();
    importedKey(stack, 'A', { handlerRuntime: lambda.Runtime.NODEJS_22_X });
    importedKey(stack, 'B');
    importedKey(stack, 'E', { handlerRuntime: lambda.Runtime.NODEJS_22_X });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Handler: 'index.handler' });
    expect(() => importedKey(stack, 'C', { handlerRuntime: lambda.Runtime.NODEJS_24_X })).toThrow(
      'ImportedKmsKey TestStack/C: handlerRuntime nodejs24.x differs from nodejs22.x, which another key of this stack chose; '
      + 'all keys of a stack share one handler, so give them the same handlerRuntime.');
    expect(() => importedKey(newStack(), 'D', { handlerRuntime: lambda.Runtime.PYTHON_3_13 })).toThrow(
      'ImportedKmsKey TestStack/D: handlerRuntime must be a Node.js runtime; got python3.13.');
  });

  test('a missing handler bundle (a source checkout that was never built) is named with the command that builds it', () => {
    const exists = fs.existsSync;
    jest.spyOn(fs, 'existsSync').mockImplementation((file) => !String(file).endsWith(path.join('assets', 'import-handler', 'index.js')) && exists(file));
    try {
      expect(() => importedKey(newStack(), 'Key')).toThrow(/^ImportedKmsKey: the import handler bundle is missing at .*; run 'npm run bundle' \(a published package ships it\)\.$/);
    } finally {
      jest.restoreAllMocks();
    }
  });

  test('keys in two stacks get one provider each', () => {
    const stack = newStack('One');
    const other = new Stack(stack.node.scope, 'Two');
    importedKey(stack, 'A');
    importedKey(other, 'B');
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', 2);
    Template.fromStack(other).resourceCountIs('AWS::Lambda::Function', 2);
  });
});

describe('everything that uses the key waits for the import', () => {
  test('keyArn and keyId resolve through the import resource', () => {
    const stack = newStack();
    const key = importedKey(stack, 'Key');
    expect(stack.resolve(key.keyArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^KeyImport/), 'KeyArn'] });
    expect(stack.resolve(key.keyId)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^KeyImport/), 'KeyId'] });
    expect(stack.resolve(key.keyRef.keyArn)).toEqual(stack.resolve(key.keyArn));
  });

  test('a bucket, a grant and a kms.IKey consumer reference the imported key, not the bare key', () => {
    const stack = newStack();
    const key: kms.IKey = importedKey(stack, 'Key');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.AccountRootPrincipal() });
    key.grantEncryptDecrypt(role);
    new s3.Bucket(stack, 'Bucket', { encryptionKey: key });
    const template = Template.fromStack(stack);
    const importRef = { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyImport'), 'KeyArn'] };
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { KMSMasterKeyID: importRef } }] },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Role') }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: Match.arrayWith(['kms:Decrypt', 'kms:Encrypt']), Resource: importRef })] },
    });
    // No resource outside the construct references the key before its material is in.
    const bareKeyId = Object.keys(template.findResources('AWS::KMS::Key'))[0];
    const referrers = Object.entries(template.toJSON().Resources as Record<string, unknown>)
      .filter(([id, r]) => id !== bareKeyId && JSON.stringify(r).includes(`"${bareKeyId}"`))
      .map(([id]) => id);
    expect(referrers).toEqual([expect.stringMatching(/^KeyImport/)]);
  });
});

test('the handler timeout covers every retry schedule and the SDK budget of each round trip, with a minute to spare', () => {
  const template = Template.fromStack(importedKey(newStack(), 'Key').stack);
  const [handlerFn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } })) as CfnResource[];
  const timeoutMs = handlerFn.Properties.Timeout * 1000;
  const sum = (delays: readonly number[]) => delays.reduce((a, b) => a + b, 0);
  // The longest path is a rotation: every schedule waiting out all its delays (the first round trip,
  // the NEW import, RotateKeyOnDemand, readiness: about 117 s), plus one call per round trip spending
  // the SDK's whole budget (connection timeouts and backoff, 45 s each).
  const waitsMs = sum(CONSISTENCY_RETRY_DELAYS_MS) + 2 * sum(IMPORT_RETRY_DELAYS_MS) + sum(READY_RETRY_DELAYS_MS);
  expect(timeoutMs).toBeGreaterThanOrEqual(waitsMs + 4 * SDK_CALL_BUDGET_MS + 60_000);
});

describe('least privilege', () => {
  test('the handler may use only DescribeKey and the two import actions, and only on the keys it serves, through their key policies', () => {
    const stack = newStack();
    importedKey(stack, 'Key');
    const template = Template.fromStack(stack);
    const handlerRole = { AWS: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ImportedKmsKeyProviderHandlerRole'), 'Arn'] } };
    const [key] = Object.values(template.findResources('AWS::KMS::Key')) as CfnResource[];
    const handlerStatements = key.Properties.KeyPolicy.Statement.filter((s) => s.Sid?.startsWith('AllowImportedKmsKeyHandler'));
    expect(handlerStatements).toEqual([
      { Sid: 'AllowImportedKmsKeyHandlerDescribe', Effect: 'Allow', Principal: expect.anything() as unknown, Action: 'kms:DescribeKey', Resource: '*' },
      { Sid: 'AllowImportedKmsKeyHandlerParameters', Effect: 'Allow', Principal: expect.anything() as unknown, Action: 'kms:GetParametersForImport', Resource: '*',
        Condition: { StringEquals: { 'kms:WrappingKeySpec': 'RSA_4096', 'kms:WrappingAlgorithm': 'RSAES_OAEP_SHA_256' } } },
      { Sid: 'AllowImportedKmsKeyHandlerImport', Effect: 'Allow', Principal: expect.anything() as unknown, Action: 'kms:ImportKeyMaterial', Resource: '*',
        Condition: { StringEquals: { 'kms:ExpirationModel': 'KEY_MATERIAL_DOES_NOT_EXPIRE' } } },
    ]);
    template.hasResourceProperties('AWS::KMS::Key', { KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowImportedKmsKeyHandlerImport', Principal: handlerRole })]) } });
    const handlerPolicies = JSON.stringify([
      ...Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^ImportedKmsKeyProviderHandlerRole') }] } })),
      ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
    ]);
    expect(handlerPolicies).not.toMatch(/"kms:/);
    expect(handlerPolicies.match(/"(logs|secretsmanager|kms):[A-Za-z*]+"/g)!.sort()).toEqual([
      '"logs:CreateLogStream"', '"logs:PutLogEvents"', '"secretsmanager:GetSecretValue"',
    ]);
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:eu-west-1:111122223333:secret:Key-material-??????']] } }] },
      Roles: [{ Ref: Match.stringLikeRegexp('^ImportedKmsKeyProviderHandlerRole') }],
    });
    const [role] = propertiesOf(template, 'AWS::IAM::Role', 'ImportedKmsKeyProviderHandlerRole');
    expect(role).toEqual({
      Description: 'Imports key material into ImportedKmsKey keys of this stack',
      AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } }] },
    });
  });

  test('a secret encrypted with a customer managed key lets the handler decrypt through Secrets Manager only', () => {
    const stack = newStack();
    const cmk = new kms.Key(stack, 'SecretKey');
    const secret = new secretsmanager.Secret(stack, 'Secret', { encryptionKey: cmk });
    new ImportedKmsKey(stack, 'Key', { keyMaterial: KeyMaterial.fromSecret(secret) });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Effect: 'Allow', Action: 'kms:Decrypt', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SecretKey'), 'Arn'] },
          Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
        }]),
      },
    });
  });

  test('the import waits for the policy that lets the handler read its secret', () => {
    const stack = newStack();
    importedKey(stack, 'Key');
    const template = Template.fromStack(stack);
    const policyId = Object.keys(template.findResources('AWS::IAM::ManagedPolicy'))[0];
    template.hasResource(IMPORT_RESOURCE_TYPE, { DependsOn: [policyId] });
  });

  test('keys sharing one secret share one grant', () => {
    const stack = newStack();
    const secret = materialSecret(stack, 'shared');
    new ImportedKmsKey(stack, 'A', { keyMaterial: KeyMaterial.fromSecret(secret, { jsonField: 'a' }) });
    new ImportedKmsKey(stack, 'B', { keyMaterial: KeyMaterial.fromSecret(secret, { jsonField: 'b' }) });
    const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy')) as CfnResource[];
    expect(policy.Properties.PolicyDocument.Statement).toHaveLength(1);
  });

  test('secrets too many for one policy open the next, each under IAM\'s 6,144 characters, numbered from part 1', () => {
    const stack = newStack();
    for (let i = 0; i < 12; i++) keyWithLongSecretName(stack, i);
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy')) as CfnResource[];
    expect(policies.map((p) => p.Properties.Description)).toEqual([1, 2].map((part) => `Lets the ImportedKmsKey handler read key material secrets (part ${part})`));
    for (const policy of policies) expect(iamPolicySize(policy.Properties.PolicyDocument)).toBeLessThanOrEqual(6144);
    const granted = policies.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((statement) => [statement.Resource].flat()));
    expect(new Set(granted).size).toBe(12);
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('the quota warning comes with the 11th secret policy, not before, and says what to do', () => {
    const stack = newStack();
    const policyCount = () => stack.node.findAll().filter((c) => c instanceof iam.ManagedPolicy).length;
    const warnings = () => stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => `${c.node.path}: ${String(m.data)}`));
    let warningsAtTen: string[] | undefined;
    for (let i = 0; policyCount() < 11 && i < 200; i++) { // bounded: a packing bug must fail the test, not hang it
      keyWithLongSecretName(stack, i);
      if (policyCount() === 10) warningsAtTen = warnings();
    }
    expect(warningsAtTen).toEqual([]);
    expect(warnings()).toEqual(['TestStack/ImportedKmsKeyProvider: The import handler role needs more than 10 managed policies to read all key material secrets; '
      + 'request a higher "Managed policies per role" IAM quota, or keep several materials in one secret (jsonField). [ack: imported-kms-key:managed-policy-quota]']);
  });
});

describe('synth-time validation names the value it got', () => {
  const cases: Array<[string, () => void, string | RegExp]> = [
    ['an expiration more than 365 days ahead', () => importedKey(newStack(), 'Key', { expiration: KeyMaterialExpiration.at(inDays(367)) }),
      /^ImportedKmsKey TestStack\/Key: expiration \S+ is more than 365 days after now \(latest \S+\); KMS rejects a later ValidTo\./],
    ['an invalid date', () => KeyMaterialExpiration.at(new Date('not a date')), 'KeyMaterialExpiration.at: expected a valid Date, got Invalid Date.'],
    ['a key spec KMS cannot import', () => importedKey(newStack(), 'Key', { keySpec: kms.KeySpec.ML_DSA_65 }),
      'ImportedKmsKey TestStack/Key: keySpec ML_DSA_65 cannot be imported: KMS does not accept imported key material for ML-DSA keys; use a KMS-generated key (Origin AWS_KMS).'],
    ['SM2 outside China Regions', () => importedKey(newStack(), 'Key', { keySpec: kms.KeySpec.SM2 }), /keySpec SM2 cannot be imported: KMS accepts imported SM2 material only in China Regions/],
    ['a usage that does not fit the spec', () => importedKey(newStack(), 'Key', { keySpec: kms.KeySpec.HMAC_256, keyUsage: kms.KeyUsage.ENCRYPT_DECRYPT }),
      'ImportedKmsKey TestStack/Key: keyUsage ENCRYPT_DECRYPT is not valid for keySpec HMAC_256; KMS allows GENERATE_VERIFY_MAC.'],
    ['KEY_AGREEMENT on secp256k1', () => importedKey(newStack(), 'Key', { keySpec: kms.KeySpec.ECC_SECG_P256K1, keyUsage: kms.KeyUsage.KEY_AGREEMENT }),
      'ImportedKmsKey TestStack/Key: keyUsage KEY_AGREEMENT is not valid for keySpec ECC_SECG_P256K1; KMS allows SIGN_VERIFY.'],
    ['RSA material with plain OAEP', () => importedKey(newStack(), 'Key', { keySpec: kms.KeySpec.RSA_2048, wrappingAlgorithm: WrappingAlgorithm.RSAES_OAEP_SHA_256 }),
      'ImportedKmsKey TestStack/Key: wrappingAlgorithm RSAES_OAEP_SHA_256 cannot wrap RSA_2048 material: KMS requires RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256 for RSA private keys.'],
    ['P-521 with OAEP under an RSA_2048 wrapping key', () => importedKey(newStack(), 'Key', { keySpec: kms.KeySpec.ECC_NIST_P521, wrappingKeySpec: WrappingKeySpec.RSA_2048 }),
      'ImportedKmsKey TestStack/Key: wrappingAlgorithm RSAES_OAEP_SHA_256 under a RSA_2048 wrapping key can wrap at most 190 bytes, but ECC_NIST_P521 material can be 241 bytes; use a larger wrappingKeySpec or RSA_AES_KEY_WRAP_SHA_256.'],
    ['AES key wrap for symmetric material', () => importedKey(newStack(), 'Key', { wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256 }),
      'ImportedKmsKey TestStack/Key: wrappingAlgorithm RSA_AES_KEY_WRAP_SHA_256 cannot wrap SYMMETRIC_DEFAULT material: KMS supports RSA_AES_KEY_WRAP_* for RSA and ECC material only; use RSAES_OAEP_SHA_256.'],
    ['AES key wrap for HMAC material', () => importedKey(newStack(), 'Key', { keySpec: kms.KeySpec.HMAC_512, wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1 }),
      /wrappingAlgorithm RSA_AES_KEY_WRAP_SHA_1 cannot wrap HMAC_512 material/],
    ['an unknown wrapping algorithm', () => importedKey(newStack(), 'Key', { wrappingAlgorithm: 'RSAES_PKCS1_V1_5' as WrappingAlgorithm }),
      /wrappingAlgorithm RSAES_PKCS1_V1_5 is not supported; use one of RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1, RSA_AES_KEY_WRAP_SHA_256\./],
    ['an unknown wrapping key spec', () => importedKey(newStack(), 'Key', { wrappingKeySpec: 'SM2' as WrappingKeySpec }),
      /wrappingKeySpec SM2 is not supported; use one of RSA_2048, RSA_3072, RSA_4096\./],
    ['an empty jsonField', () => KeyMaterial.fromSecret(materialSecret(newStack()), { jsonField: ' ' }),
      "KeyMaterial.fromSecret: jsonField must not be empty; got ' '. Omit it to use the default."],
  ];

  test.each(cases)('%s', (_name, build, message) => {
    expect(build).toThrow(message);
  });

  test('every importable spec synthesizes with its default usage and wrapping algorithm', () => {
    const stack = newStack();
    const specs = ['SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'RSA_2048', 'RSA_3072', 'RSA_4096',
      'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1'] as kms.KeySpec[];
    specs.forEach((keySpec) => importedKey(stack, keySpec.replace(/_/g, ''), { keySpec }));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC', Origin: 'EXTERNAL' });
    template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_NIST_P521', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' });
    const resolved = (spec: string) => withDefaults((Object.values(template.findResources(IMPORT_RESOURCE_TYPE, { Properties: { KeySpec: spec } })) as CfnResource[])[0].Properties as unknown as ImportProperties);
    expect(resolved('RSA_3072').WrappingAlgorithm).toBe('RSA_AES_KEY_WRAP_SHA_256');
    expect(resolved('ECC_NIST_P256').WrappingAlgorithm).toBe('RSAES_OAEP_SHA_256');
  });

  test('a key usage that KMS allows besides the default is kept', () => {
    const stack = newStack();
    importedKey(stack, 'Key', { keySpec: kms.KeySpec.RSA_4096, keyUsage: kms.KeyUsage.SIGN_VERIFY });
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', { KeySpec: 'RSA_4096', KeyUsage: 'SIGN_VERIFY' });
  });
});
