/**
 * onKeyMaterialChange and addKeyMaterialChangeAlarm at synth time: the rule's pattern names this key
 * and excludes the import handler's role, and the alarm watches that rule. The pattern's matching is
 * tested against LocalStack's EventBridge matcher in test/emulator/material-change-events.test.ts.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { importedKey, newStack } from '../support/stacks';
import { resourcesOf } from '../../tools/template';

test('the rule matches the six CloudTrail calls on this key by anyone but the handler\'s role', () => {
  const stack = newStack();
  const key = importedKey(stack, 'Key');
  key.onKeyMaterialChange('Changed');
  const resources = resourcesOf(Template.fromStack(stack));
  const handlerRole = Object.keys(resources).find((id) => id.startsWith('ImportedKmsKeyProviderHandlerRole'))!;
  const importId = Object.keys(resources).find((id) => id.startsWith('KeyImport'))!;
  const rule = Object.values(resources).find((r) => r.Type === 'AWS::Events::Rule')!;
  expect(rule.Properties.EventPattern).toEqual({
    'source': ['aws.kms'],
    'detail-type': ['AWS API Call via CloudTrail'],
    'detail': {
      eventSource: ['kms.amazonaws.com'],
      eventName: ['ImportKeyMaterial', 'DeleteImportedKeyMaterial', 'GetParametersForImport', 'RotateKeyOnDemand', 'DisableKey', 'ScheduleKeyDeletion'],
      resources: { ARN: [{ 'Fn::GetAtt': [importId, 'KeyArn'] }] },
      $or: [
        { userIdentity: { type: [{ 'anything-but': ['AssumedRole'] }] } },
        { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ 'anything-but': [{ 'Fn::GetAtt': [handlerRole, 'Arn'] }] }] } } } },
      ],
    },
  });
});

test('the alarm goes off on one match of its rule in 5 minutes, and stays OK without events', () => {
  const stack = newStack();
  const alarm = importedKey(stack, 'Key').addKeyMaterialChangeAlarm('ChangeAlarm', { alarmName: 'payments-key-changed' });
  const resources = resourcesOf(Template.fromStack(stack));
  const ruleId = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Events::Rule')![0];
  expect(ruleId).toMatch(/^KeyChangeAlarmRule/);
  const { Properties: p } = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm')!;
  expect(p).toMatchObject({
    AlarmName: 'payments-key-changed', Namespace: 'AWS/Events', MetricName: 'TriggeredRules', Dimensions: [{ Name: 'RuleName', Value: { Ref: ruleId } }],
    Statistic: 'Sum', Period: 300, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching',
  });
  expect(alarm.node.path).toBe('TestStack/Key/ChangeAlarm');
});
