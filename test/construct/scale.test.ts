import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ImportedKmsKey, KeyMaterial } from '../../lib';
import { IMPORT_RESOURCE_TYPE } from '../../lib/shared/contract';
import { iamPolicySize } from '../../tools/iam-size';
import { importedKey, newStack } from '../support/stacks';
import { CfnResource, resourcesOf } from '../../tools/template';

/** IAM's limits: managed policy 6,144; inline policies of one role 10,240 in all; a key policy 32,768. */
const MANAGED_POLICY_LIMIT = 6144;
const ROLE_INLINE_LIMIT = 10240;
const KEY_POLICY_LIMIT = 32768;

function stackWithKeys(n: number) {
  const stack = newStack();
  for (let i = 0; i < n; i++) importedKey(stack, `Key${i}`);
  return Template.fromStack(stack);
}

describe('a stack with 200 ImportedKmsKeys', () => {
  const template = stackWithKeys(200);
  const resources = resourcesOf(template);
  const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

  test('stays under CloudFormation\'s 500 resources, with one handler whatever the number of keys', () => {
    expect(Object.keys(resources).length).toBeLessThan(500);
    expect(ofType(IMPORT_RESOURCE_TYPE)).toHaveLength(200);
    expect(ofType('AWS::Lambda::Function')).toHaveLength(2);
  });

  test('keeps every IAM policy under IAM\'s size limits', () => {
    const managed = ofType('AWS::IAM::ManagedPolicy');
    expect(managed.length).toBeGreaterThan(1);
    expect(managed.length).toBeLessThanOrEqual(10);
    for (const policy of managed) expect(iamPolicySize(policy.Properties.PolicyDocument)).toBeLessThanOrEqual(MANAGED_POLICY_LIMIT);
    const granted = managed.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s) => [s.Resource].flat().map((r) => JSON.stringify(r))));
    expect(new Set(granted).size).toBe(200);

    const inlineByRole = new Map<string, number>();
    for (const policy of ofType('AWS::IAM::Policy')) {
      for (const role of policy.Properties.Roles) {
        inlineByRole.set(role.Ref, (inlineByRole.get(role.Ref) ?? 0) + iamPolicySize(policy.Properties.PolicyDocument));
      }
    }
    for (const size of inlineByRole.values()) expect(size).toBeLessThanOrEqual(ROLE_INLINE_LIMIT);
    for (const key of ofType('AWS::KMS::Key')) expect(iamPolicySize(key.Properties.KeyPolicy)).toBeLessThanOrEqual(KEY_POLICY_LIMIT);
  });

  test('the handler role\'s inline policy does not grow with the number of keys', () => {
    const inlineSize = (t: Template) => (Object.values(t.findResources('AWS::IAM::Policy')) as CfnResource[])
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('HandlerRole'))
      .reduce((sum, p) => sum + iamPolicySize(p.Properties.PolicyDocument), 0);
    expect(inlineSize(template)).toBe(inlineSize(stackWithKeys(1)));
  });
});

describe('secrets created in the same stack, with 400-character names', () => {
  const stack = newStack();
  for (let i = 0; i < 100; i++) {
    const secret = new secretsmanager.Secret(stack, `Secret${i}`, { secretName: `${'x'.repeat(400)}${i}` });
    new ImportedKmsKey(stack, `Key${i}`, { keyMaterial: KeyMaterial.fromSecret(secret) });
  }
  const template = Template.fromStack(stack);

  test('every secret policy stays under 6,144 characters once resolved', () => {
    const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy')) as CfnResource[];
    const longest = (doc: unknown) => JSON.stringify(doc).replace(/\{"Ref":"Secret\d+\w*"\}/g, `"arn:aws-iso-b:secretsmanager:ap-southeast-5x:111122223333:secret:${'x'.repeat(403)}-AbCdEf"`);
    for (const policy of policies) expect(longest(policy.Properties.PolicyDocument).length).toBeLessThanOrEqual(MANAGED_POLICY_LIMIT);
    expect(policies.length).toBeGreaterThan(10);
  });

  test('past IAM\'s default quota of 10 managed policies per role, synth warns with what to do', () => {
    Annotations.fromStack(stack).hasWarning('/TestStack/ImportedKmsKeyProvider', Match.stringLikeRegexp('needs more than 10 managed policies.*request a higher'));
  });
});
