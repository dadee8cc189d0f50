/**
 * The onKeyMaterialChange rule's event pattern, as synthesized, tested against an independent
 * EventBridge pattern matcher: LocalStack's, the function its TestEventPattern answers with
 * (localstack.utils.event_matcher.matches_event; localstack-core's TestEventPattern over HTTP fails
 * with "No module named 'moto'" without the runtime extra, so the test calls it directly, after
 * validate_event_pattern, as the provider does). The events are CloudTrail records in
 * the shapes AWS documents, wrapped as EventBridge delivers them ("AWS API Call via CloudTrail"):
 * - the KMS developer guide's ImportKeyMaterial entry (an IAM user, Alice; resources[].ARN is the key):
 *   https://docs.aws.amazon.com/kms/latest/developerguide/ct-importkeymaterial.html
 * - the same call by an assumed role, with userIdentity as the CloudTrail user guide documents it for
 *   AssumedRole (arn arn:aws:sts::<account>:assumed-role/<role>/<session>, sessionContext.sessionIssuer
 *   {type Role, arn arn:aws:iam::<account>:role/<role>}), which is how a Lambda function's calls are recorded:
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
 */
import { spawnSync } from 'node:child_process';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { resourcesOf } from '../../tools/template';
import { importedKey } from '../support/stacks';
import { LOCALSTACK_PYTHON } from '../support/localstack';

jest.setTimeout(60_000);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-2';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY_ARN = KEY_ARN.replace('1234abcd', '9999abcd');
const roleArnOf = (logicalId: string) => `arn:aws:iam::${ACCOUNT}:role/${logicalId}`;

let pattern: unknown;
let handlerRoleName: string;

beforeAll(() => {
  const stack = new Stack(new App(), 'Events', { env: { account: ACCOUNT, region: REGION } });
  importedKey(stack, 'Key').onKeyMaterialChange('MaterialChanged');
  const resources = resourcesOf(Template.fromStack(stack));
  handlerRoleName = Object.keys(resources).find((id) => id.startsWith('ImportedKmsKeyProviderHandlerRole'))!;
  const rule = Object.values(resources).find((r) => r.Type === 'AWS::Events::Rule')!;
  pattern = resolve(rule.Properties.EventPattern);
});

/** The template's references as CloudFormation resolves them: the import's KeyArn attribute and the role's Arn. */
function resolve(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(resolve);
  if (node && typeof node === 'object') {
    const getAtt = (node as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (getAtt) return getAtt[1] === 'KeyArn' ? KEY_ARN : roleArnOf(getAtt[0]);
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v)]));
  }
  return node;
}

const alice = { type: 'IAMUser', principalId: 'EX_PRINCIPAL_ID', arn: `arn:aws:iam::${ACCOUNT}:user/Alice`, accountId: ACCOUNT, accessKeyId: 'EXAMPLE_KEY_ID', userName: 'Alice' };
const assumedRole = (roleName: string) => ({
  type: 'AssumedRole', principalId: 'AROAEXAMPLEID:session', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/session`,
  accountId: ACCOUNT, accessKeyId: 'ASIAEXAMPLE',
  sessionContext: {
    sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLEID', arn: roleArnOf(roleName), accountId: ACCOUNT, userName: roleName },
    attributes: { creationDate: '2026-12-07T10:00:00Z', mfaAuthenticated: 'false' },
  },
});

/** A CloudTrail record of `eventName` on `keyArn` by `userIdentity`, as EventBridge delivers it. */
function cloudTrailEvent(eventName: string, userIdentity: object, keyArn = KEY_ARN) {
  return {
    'version': '0', 'id': 'c7abd205-a5a2-4430-bbfa-fc10f3e2d79f', 'detail-type': 'AWS API Call via CloudTrail', 'source': 'aws.kms',
    'account': ACCOUNT, 'time': '2026-12-07T10:42:31Z', 'region': REGION, 'resources': [],
    'detail': {
      eventVersion: '1.11', userIdentity, eventTime: '2026-12-07T10:42:31Z', eventSource: 'kms.amazonaws.com', eventName, awsRegion: REGION,
      sourceIPAddress: '192.0.2.0', userAgent: 'AWS Internal', requestParameters: { keyId: keyArn.split('/')[1] },
      responseElements: { keyId: keyArn }, requestID: '89e10ee7-a612-414d-95a2-a128346969fd', eventID: 'c7abd205-a5a2-4430-bbfa-fc10f3e2d79f',
      readOnly: eventName === 'GetParametersForImport', resources: [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: keyArn }],
      eventType: 'AwsApiCall', managementEvent: true, recipientAccountId: ACCOUNT, eventCategory: 'Management',
    },
  };
}

const MATCHER = [
  'import json, sys',
  'from localstack.utils.event_matcher import matches_event, validate_event_pattern',
  'cases = json.load(sys.stdin)',
  'assert validate_event_pattern(cases["pattern"])',
  'print(json.dumps([matches_event(cases["pattern"], json.dumps(event)) for event in cases["events"]]))',
].join('\n');

/** LocalStack's EventBridge matcher's answer for each event, in one Python process. */
function matchAll(events: object[]): boolean[] {
  const run = spawnSync(LOCALSTACK_PYTHON, ['-c', MATCHER], { input: JSON.stringify({ pattern, events }), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`LocalStack's matcher failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as boolean[];
}

const EVENTS = ['ImportKeyMaterial', 'DeleteImportedKeyMaterial', 'GetParametersForImport', 'RotateKeyOnDemand', 'DisableKey', 'ScheduleKeyDeletion'];
/** Every case, with the matcher's answer once beforeAll asked for them all at once. */
const cases: Array<{ name: string; event: () => object; expected: boolean; actual?: boolean }> = [
  ...EVENTS.map((e) => ({ name: `${e} by the import handler's own role does not match`, event: () => cloudTrailEvent(e, assumedRole(handlerRoleName)), expected: false })),
  ...EVENTS.map((e) => ({ name: `${e} by another role matches`, event: () => cloudTrailEvent(e, assumedRole('platform-admin')), expected: true })),
  { name: 'the KMS guide\'s ImportKeyMaterial by an IAM user (no sessionContext) matches', event: () => cloudTrailEvent('ImportKeyMaterial', alice), expected: true },
  { name: 'a change to another key does not match', event: () => cloudTrailEvent('ImportKeyMaterial', assumedRole('platform-admin'), OTHER_KEY_ARN), expected: false },
  { name: 'a use of the key (Decrypt) does not match', event: () => cloudTrailEvent('Decrypt', assumedRole('platform-admin')), expected: false },
];

beforeAll(() => {
  matchAll(cases.map((c) => c.event())).forEach((actual, i) => { cases[i].actual = actual; });
});

test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  expect(c.actual).toBe(c.expected);
});
