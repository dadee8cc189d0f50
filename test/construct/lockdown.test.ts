/**
 * Material lockdown: the secret's resource policy, its KMS key's narrowing, the info for imported
 * secrets, and the Deny logic evaluated as IAM would (IAM policy evaluation library).
 */
import { App, LegacyStackSynthesizer, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ImportedKmsKey, KeyMaterial, MaterialLockdown } from '../../lib';
import { ACCOUNT, decide, REGION, resolvePolicy, roleArn } from '../support/policy-simulator';
import { nagFindings } from '../support/nag';
import { newStack } from '../support/stacks';
import { CfnResources, resourcesOf } from '../../tools/template';

const BREAK_GLASS = `arn:aws:iam::${ACCOUNT}:role/security/break-glass-*`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/secrets-admin`;
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/payments/kms-material-AbCdEf`;
const DEPLOY_ROLE = `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`;

function lockedStack(lockdown: MaterialLockdown = { breakGlassPrincipalArns: [BREAK_GLASS], policyAdministratorArns: [ADMIN] }, encryptionKey?: (s: Stack) => kms.IKey) {
  const stack = newStack();
  const secret = new secretsmanager.Secret(stack, 'Material', { secretName: 'prod/payments/kms-material', encryptionKey: encryptionKey?.(stack) });
  new ImportedKmsKey(stack, 'Key', { keyMaterial: KeyMaterial.fromSecret(secret, { lockdown }) });
  const template = Template.fromStack(stack);
  const resources = resourcesOf(template);
  const handler = roleArn(Object.keys(resources).find((id) => id.startsWith('ImportedKmsKeyProviderHandlerRole'))!);
  return { stack, template, resources, handler };
}

/** The principals each statement of the lock exempts: [readers, administrators]. */
const lockPrincipals = (policy: unknown) =>
  (policy as { Statement: { Condition: { ArnNotLike: { 'aws:PrincipalArn': string[] } } }[] }).Statement.map((s) => s.Condition.ArnNotLike['aws:PrincipalArn']);

/** The secret's resource policy with references resolved. */
function secretPolicy(resources: CfnResources) {
  const [policy] = Object.values(resources).filter((r) => r.Type === 'AWS::SecretsManager::ResourcePolicy');
  return resolvePolicy(policy.Properties.ResourcePolicy);
}

test('an owned secret gets a resource policy: Deny GetSecretValue to all but the handler and break-glass, Deny policy changes to all but the administrators', () => {
  const { stack, template } = lockedStack();
  // The default synthesizer names the deploy role, so the lock needs no warning.
  Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
    SecretId: { Ref: Match.stringLikeRegexp('^Material') },
    ResourcePolicy: {
      Statement: [
        {
          Sid: 'DenyReadingKeyMaterialExceptImportHandler', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'secretsmanager:GetSecretValue', Resource: '*',
          Condition: { ArnNotLike: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^ImportedKmsKeyProviderHandlerRole'), 'Arn'] }, BREAK_GLASS] } },
        },
        {
          Sid: 'DenyChangingKeyMaterialLock', Effect: 'Deny', Principal: { AWS: '*' },
          Action: ['secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy'], Resource: '*',
          Condition: { ArnNotLike: { 'aws:PrincipalArn': [
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:root']] },
            { 'Fn::Sub': Match.stringLikeRegexp('cfn-exec-role-111122223333-eu-west-1$') },
            ADMIN,
          ] } },
        },
      ],
    },
  });
});

test('with no principals named, only the handler reads, and only the account root and the deploy role change the lock', () => {
  const { stack, resources, handler } = lockedStack({});
  expect(Annotations.fromStack(stack).findInfo('*', Match.anyValue())).toEqual([]); // a secret without its own KMS key: nothing to narrow
  const policy = secretPolicy(resources);
  const [readers, administrators] = lockPrincipals(policy);
  expect(readers).toEqual([handler]);
  expect(administrators).toEqual([`arn:aws:iam::${ACCOUNT}:root`, DEPLOY_ROLE]);
});

describe('the Deny logic, evaluated with IAM semantics', () => {
  const { resources, handler } = lockedStack();
  const policy = secretPolicy(resources);
  const readAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }] };
  const read = (principal: string) => decide(policy, { principal, action: 'secretsmanager:GetSecretValue', resource: SECRET, identityPolicies: [readAll] });
  const changePolicy = (principal: string, action: string) => decide(policy, { principal, action, resource: SECRET, identityPolicies: [readAll] });

  test('the import handler reads the material', async () => {
    expect(await read(handler)).toBe('Allowed');
  });

  test('a role with secretsmanager:* on * (an administrator, a CI role) cannot', async () => {
    expect(await read(`arn:aws:iam::${ACCOUNT}:role/Administrator`)).toBe('ExplicitlyDenied');
    expect(await read(ADMIN)).toBe('ExplicitlyDenied');
    expect(await read(DEPLOY_ROLE)).toBe('ExplicitlyDenied');
  });

  test('a break-glass role matching the pattern can; one outside it cannot', async () => {
    expect(await read(`arn:aws:iam::${ACCOUNT}:role/security/break-glass-oncall`)).toBe('Allowed');
    expect(await read(`arn:aws:iam::${ACCOUNT}:role/break-glass-oncall`)).toBe('ExplicitlyDenied');
  });

  test.each(['secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy'])('%s: only the administrators, the deploy role and root', async (action) => {
    expect(await changePolicy(ADMIN, action)).toBe('Allowed');
    expect(await changePolicy(DEPLOY_ROLE, action)).toBe('Allowed');
    expect(await changePolicy(`arn:aws:iam::${ACCOUNT}:root`, action)).toBe('Allowed');
    expect(await changePolicy(handler, action)).toBe('ExplicitlyDenied');
    expect(await changePolicy(`arn:aws:iam::${ACCOUNT}:role/Administrator`, action)).toBe('ExplicitlyDenied');
  });

  test('other secret operations (describe, put a new version) are not affected', async () => {
    expect(await changePolicy(`arn:aws:iam::${ACCOUNT}:role/Administrator`, 'secretsmanager:DescribeSecret')).toBe('Allowed');
    expect(await changePolicy(`arn:aws:iam::${ACCOUNT}:role/Administrator`, 'secretsmanager:PutSecretValue')).toBe('Allowed');
  });
});

test('the secret\'s customer managed key, owned in the same stack, denies decrypting this secret to all but the readers', () => {
  const { template } = lockedStack(undefined, (s) => new kms.Key(s, 'SecretKey', { enableKeyRotation: true }));
  template.hasResourceProperties('AWS::KMS::Key', {
    EnableKeyRotation: true,
    KeyPolicy: { Statement: Match.arrayWith([{
      Sid: Match.stringLikeRegexp('^DenyDecryptingKeyMaterialSecretMaterial'), Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*',
      Condition: {
        StringLike: { 'kms:EncryptionContext:SecretARN': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:eu-west-1:111122223333:secret:prod/payments/kms-material-??????']] } },
        ArnNotLike: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^ImportedKmsKeyProviderHandlerRole'), 'Arn'] }, BREAK_GLASS] },
      },
    }]) },
  });
});

test('an imported secret gets no policy, and an info annotation with the policy to apply by hand', () => {
  const stack = newStack();
  const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Material', SECRET);
  new ImportedKmsKey(stack, 'Key', { keyMaterial: KeyMaterial.fromSecret(secret, { lockdown: {} }) });
  Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
  const [info] = Annotations.fromStack(stack).findInfo('/TestStack/Key', Match.anyValue());
  const text = info.entry.data as string;
  expect(text).toMatch(/^The material's secret .* is not owned by this stack, so the lockdown cannot be attached; apply this resource policy to it by hand \(aws secretsmanager put-resource-policy --block-public-policy\): \{"Statement":\[/);
  expect(text).toContain('"Sid":"DenyReadingKeyMaterialExceptImportHandler"');
  expect(text).toContain('"Sid":"DenyChangingKeyMaterialLock"');
});

test('a secret of another stack is treated like an imported one (no cross-stack cycle)', () => {
  const app = new App();
  const env = { account: ACCOUNT, region: REGION };
  const secrets = new Stack(app, 'Secrets', { env });
  const secret = new secretsmanager.Secret(secrets, 'Material');
  const keys = new Stack(app, 'Keys', { env });
  new ImportedKmsKey(keys, 'Key', { keyMaterial: KeyMaterial.fromSecret(secret, { lockdown: {} }) });
  Template.fromStack(secrets).resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
  expect(Annotations.fromStack(keys).findInfo('/Keys/Key', Match.stringLikeRegexp('not owned by this stack'))).toHaveLength(1);
  app.synth();
});

test('a stack without the default synthesizer gets a warning: its deploy role is unknown, so only root administers the lock', () => {
  const stack = new Stack(new App(), 'Legacy', { env: { account: ACCOUNT, region: REGION }, synthesizer: new LegacyStackSynthesizer() });
  new ImportedKmsKey(stack, 'Key', { keyMaterial: KeyMaterial.fromSecret(new secretsmanager.Secret(stack, 'Material'), { lockdown: {} }) });
  const [warning] = Annotations.fromStack(stack).findWarning('/Legacy/Key', Match.anyValue());
  expect(warning.entry.data).toBe('The stack does not use the default synthesizer, so its CloudFormation execution role is unknown: '
    + 'name the role that deploys this stack in lockdown.policyAdministratorArns, or later updates cannot change the secret\'s policy. [ack: imported-kms-key:lockdown-deploy-role]');
  const [, administrators] = lockPrincipals(secretPolicy(resourcesOf(Template.fromStack(stack))));
  expect(administrators).toEqual([`arn:aws:iam::${ACCOUNT}:root`]);
});

test.each([
  ['an imported key', (s: Stack) => kms.Key.fromKeyArn(s, 'Imported', `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`), 'prod/payments/kms-material'],
  ['a generated secret name', (s: Stack) => new kms.Key(s, 'SecretKey'), undefined],
  ['a key of another stack', (s: Stack) => new kms.Key(new Stack(s.node.root as App, 'Keys', { env: { account: ACCOUNT, region: REGION } }), 'SecretKey'), 'prod/payments/kms-material'],
])('a secret encrypted with a key this construct cannot narrow (%s) gets an info, and the key policy is left alone', (_name, encryptionKey, secretName) => {
  const stack = newStack();
  const key = encryptionKey(stack);
  const secret = new secretsmanager.Secret(stack, 'Material', { secretName, encryptionKey: key });
  new ImportedKmsKey(stack, 'Key', { keyMaterial: KeyMaterial.fromSecret(secret, { lockdown: {} }) });
  expect(Annotations.fromStack(stack).findInfo('/TestStack/Key', 'The material\'s secret is encrypted with a KMS key this construct cannot narrow (imported, in another stack, '
    + 'or the secret has a generated name): the secret\'s lock still applies, but make sure that key\'s policy does not let others decrypt the secret outside Secrets Manager.')).toHaveLength(1);
  for (const owner of new Set([stack, Stack.of(key)])) expect(JSON.stringify(Template.fromStack(owner).toJSON())).not.toContain('DenyDecryptingKeyMaterialSecret');
});

test('no lockdown, no policy', () => {
  const stack = newStack();
  new ImportedKmsKey(stack, 'Key', { keyMaterial: KeyMaterial.fromSecret(new secretsmanager.Secret(stack, 'Material')) });
  Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
});

test('cdk-nag AwsSolutions finds nothing in the lock: only the user\'s own secret rotation rule applies to the test secret', () => {
  const { open } = nagFindings((app) => {
    const stack = new Stack(app, 'Locked', { env: { account: ACCOUNT, region: REGION } });
    const key = new kms.Key(stack, 'SecretKey', { enableKeyRotation: true });
    const secret = new secretsmanager.Secret(stack, 'Material', { secretName: 'prod/payments/kms-material', encryptionKey: key });
    new ImportedKmsKey(stack, 'Key', { keyMaterial: KeyMaterial.fromSecret(secret, { lockdown: { breakGlassPrincipalArns: [BREAK_GLASS] } }) });
  });
  expect(open).toEqual(['AwsSolutions-SMG4 at Locked/Material/Resource']);
});
