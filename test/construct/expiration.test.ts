/**
 * Expiration models at synth time: rolling expiration and its renewal schedule, monitoring helpers,
 * key-policy guardrails, and a fixed date that has passed.
 */
import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { KeyMaterial, KeyMaterialExpiration } from '../../lib';
import { IMPORT_RESOURCE_TYPE } from '../../lib/shared/contract';
import { resolveWorstCase } from '../../tools/iam-size';
import { importedKey, materialSecret, newStack } from '../support/stacks';
import { CfnResource, resourcesOf } from '../../tools/template';

const inDays = (days: number) => new Date(Math.floor(Date.now() / 1000) * 1000 + days * 86_400_000);
const rolling30 = () => KeyMaterialExpiration.rolling(Duration.days(30));
const ofType = (template: Template, type: string) => Object.values(resourcesOf(template)).filter((r) => r.Type === type);

describe('KeyMaterialExpiration.rolling', () => {
  // Its refusals, raised by the key that uses it, are in bad-input.test.ts.
  test('the import carries the validity and interval in seconds, and no ValidTo', () => {
    const stack = newStack();
    importedKey(stack, 'Key', { expiration: KeyMaterialExpiration.rolling(Duration.days(30), { renewalInterval: Duration.hours(12) }) });
    const [resource] = ofType(Template.fromStack(stack), IMPORT_RESOURCE_TYPE);
    expect(resource.Properties).toMatchObject({ RollingValidity: '2592000', RenewalInterval: '43200' });
    expect(resource.Properties).not.toHaveProperty('ValidTo');
  });
});

describe('the renewal schedule', () => {
  test('one daily rule invokes the stack\'s import handler with every rolling key; fixed and never-expiring keys are not in it', () => {
    const stack = newStack();
    importedKey(stack, 'Rolling1', { expiration: rolling30() });
    importedKey(stack, 'Rolling2', { expiration: rolling30() });
    importedKey(stack, 'Fixed', { expiration: KeyMaterialExpiration.at(inDays(30)) });
    importedKey(stack, 'Never');
    const template = Template.fromStack(stack);
    const rules = ofType(template, 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.ScheduleExpression).toBe('rate(1 day)');
    expect(rules[0].Properties.Description).toBe('ImportedKmsKey: renews rolling key material expirations every 1 day');
    expect(rules[0].Properties.Targets).toHaveLength(1);
    const target = rules[0].Properties.Targets[0];
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ImportedKmsKeyProviderHandler[0-9A-F]{8}$/), 'Arn'] });
    const input = JSON.stringify(target.Input);
    for (const id of ['Rolling1', 'Rolling2']) expect(input).toMatch(new RegExp(`"Fn::GetAtt\\\\?":\\[\\\\?"${id}Import[0-9A-F]{8}\\\\?",\\\\?"KeyArn\\\\?"\\]`));
    expect(input).not.toMatch(/FixedImport|NeverImport/);
    expect(ofType(template, 'AWS::Lambda::Function')).toHaveLength(2);
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', Action: 'lambda:InvokeFunction' });
  });

  test('keys with another renewal interval get their own rule', () => {
    const stack = newStack();
    importedKey(stack, 'Daily', { expiration: rolling30() });
    importedKey(stack, 'Hourly', { expiration: KeyMaterialExpiration.rolling(Duration.days(1), { renewalInterval: Duration.hours(6) }) });
    const rules = ofType(Template.fromStack(stack), 'AWS::Events::Rule').map((r) => r.Properties.ScheduleExpression).sort();
    expect(rules).toEqual(['rate(1 day)', 'rate(6 hours)']);
  });

  test('150 rolling keys with aliases need at most a handful of resources more than 150 fixed ones, every input under 8 KB', () => {
    const build = (expiration: () => KeyMaterialExpiration) => {
      const stack = newStack();
      for (let i = 0; i < 150; i++) importedKey(stack, `Key${i}`, { expiration: expiration(), alias: `alias/key-${i}` });
      return Template.fromStack(stack);
    };
    const fixed = build(() => KeyMaterialExpiration.at(inDays(30)));
    const rollingTemplate = build(rolling30);
    const extra = Object.keys(resourcesOf(rollingTemplate)).length - Object.keys(resourcesOf(fixed)).length;
    expect(extra).toBeGreaterThan(0);
    expect(extra).toBeLessThanOrEqual(6);
    expect(Object.keys(resourcesOf(rollingTemplate)).length).toBeLessThan(500);
    const inputs = ofType(rollingTemplate, 'AWS::Events::Rule').flatMap((r) => r.Properties.Targets.map((t) => String(resolveWorstCase(t.Input))));
    const keys = inputs.flatMap((input) => (JSON.parse(input) as { ImportedKmsKeyRenewal: Array<{ SecretId: string }> }).ImportedKmsKeyRenewal);
    expect(keys).toHaveLength(150);
    expect(new Set(keys.map((k) => k.SecretId)).size).toBe(150);
    for (const input of inputs) expect(input.length).toBeLessThanOrEqual(8192);
    for (const rule of ofType(rollingTemplate, 'AWS::Events::Rule')) expect(rule.Properties.Targets.length).toBeLessThanOrEqual(5);
  });

  test('keys too large to share an input get a target each; the sixth target opens a second rule of the same interval', () => {
    const stack = newStack();
    // Ten previous materials with 480-character secret names: over 5 KB of input per key, so no two share a target.
    const long = (key: number, material: number) => materialSecret(stack, `${'n'.repeat(470)}-${key}-${material}`);
    for (let k = 0; k < 7; k++) {
      importedKey(stack, `Big${k}`, {
        expiration: rolling30(),
        keyMaterial: KeyMaterial.fromSecret(long(k, 10)),
        previousKeyMaterials: Array.from({ length: 10 }, (_, m) => KeyMaterial.fromSecret(long(k, m))),
      });
    }
    const rules = Object.entries(resourcesOf(Template.fromStack(stack))).filter(([, r]) => r.Type === 'AWS::Events::Rule');
    // Rule ids end in the construct id (Every<minutes>Minutes, then 2, 3, ...) and CDK's 8-digit hash.
    const targetCounts = Object.fromEntries(rules.map(([id, r]) => [/(Every\w+?)[0-9A-F]{8}$/.exec(id)![1], r.Properties.Targets.length]));
    expect(targetCounts).toEqual({ Every1440Minutes: 5, Every1440Minutes2: 2 });
    for (const [, rule] of rules) {
      for (const target of rule.Properties.Targets) {
        const input = String(resolveWorstCase(target.Input));
        expect(input.length).toBeLessThanOrEqual(8192);
        expect((JSON.parse(input) as { ImportedKmsKeyRenewal: unknown[] }).ImportedKmsKeyRenewal).toHaveLength(1);
      }
    }
  });
});

describe('key-policy guardrails: the handler may import only as configured', () => {
  const importStatement = (expiration?: KeyMaterialExpiration) => {
    const stack = newStack();
    importedKey(stack, 'Key', { expiration });
    const [key] = ofType(Template.fromStack(stack), 'AWS::KMS::Key');
    return key.Properties.KeyPolicy.Statement.find((s) => s.Sid === 'AllowImportedKmsKeyHandlerImport')!;
  };

  test('a fixed date: KEY_MATERIAL_EXPIRES, and kms:ValidTo no later than the date (seconds since the epoch)', () => {
    const date = inDays(30);
    expect(importStatement(KeyMaterialExpiration.at(date)).Condition).toEqual({
      StringEquals: { 'kms:ExpirationModel': 'KEY_MATERIAL_EXPIRES' },
      NumericLessThanEquals: { 'kms:ValidTo': String(date.getTime() / 1000) },
    });
  });

  test('rolling: KEY_MATERIAL_EXPIRES, so no one who can invoke the handler can make the material never expire', () => {
    expect(importStatement(rolling30()).Condition).toEqual({ StringEquals: { 'kms:ExpirationModel': 'KEY_MATERIAL_EXPIRES' } });
  });

  test('never: KEY_MATERIAL_DOES_NOT_EXPIRE', () => {
    expect(importStatement().Condition).toEqual({ StringEquals: { 'kms:ExpirationModel': 'KEY_MATERIAL_DOES_NOT_EXPIRE' } });
  });
});

describe('monitoring helpers', () => {
  test('metricSecondsUntilMaterialExpiration: AWS/KMS, per KeyId of the imported key, Minimum, hourly', () => {
    const key = importedKey(newStack(), 'Key', { expiration: KeyMaterialExpiration.at(inDays(90)) });
    const metric = key.metricSecondsUntilMaterialExpiration();
    expect(metric.namespace).toBe('AWS/KMS');
    expect(metric.metricName).toBe('SecondsUntilKeyMaterialExpiration');
    expect(metric.statistic).toBe('Minimum');
    expect(metric.period.toHours()).toBe(1);
    expect(key.stack.resolve(metric.dimensions)).toEqual({ KeyId: { 'Fn::GetAtt': [expect.stringMatching(/^KeyImport/), 'KeyId'] } });
    expect(key.metricSecondsUntilMaterialExpiration({ period: Duration.minutes(5) }).period.toMinutes()).toBe(5);
  });

  test.each([
    ['a fixed date: 30 days', () => KeyMaterialExpiration.at(inDays(90)), undefined, 30 * 86_400],
    ['rolling: three renewal intervals', () => KeyMaterialExpiration.rolling(Duration.days(10), { renewalInterval: Duration.hours(12) }), undefined, 3 * 43_200],
    ['an explicit threshold', () => KeyMaterialExpiration.at(inDays(90)), Duration.days(7), 7 * 86_400],
  ])('addMaterialExpirationAlarm, %s; missing data is breaching', (_name, expiration, threshold, seconds) => {
    const stack = newStack();
    const key = importedKey(stack, 'Key', { expiration: expiration() });
    const alarm = key.addMaterialExpirationAlarm('ExpiryAlarm', { threshold });
    alarm.addAlarmAction({ bind: () => ({ alarmActionArn: new sns.Topic(stack, 'Pager').topicArn }) });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/KMS', MetricName: 'SecondsUntilKeyMaterialExpiration', Statistic: 'Minimum', Period: 3600,
      Threshold: seconds, ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 1, TreatMissingData: 'breaching',
      Dimensions: [{ Name: 'KeyId', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyImport'), 'KeyId'] } }],
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Pager') }],
    });
  });

  test('the alarm says which key expires within what, and what to do; a description of the user\'s own wins', () => {
    const stack = newStack();
    const key = importedKey(stack, 'Key', { expiration: KeyMaterialExpiration.at(inDays(90)) });
    key.addMaterialExpirationAlarm('Expiry');
    key.addMaterialExpirationAlarm('Paging', { alarmDescription: 'Page the key custodians' });
    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')) as CfnResource[];
    expect(alarms.map((a) => a.Properties.AlarmDescription)).toEqual([
      'The imported key material of TestStack/Key expires within 30 days (or KMS reports no expiration: it may have expired). '
        + 'Move the expiration forward and deploy, or check the renewal schedule.',
      'Page the key custodians',
    ]);
  });

  test('a rolling alarm threshold not shorter than the validity is refused', () => {
    const key = importedKey(newStack(), 'Key', { expiration: rolling30() });
    expect(() => key.addMaterialExpirationAlarm('A', { threshold: Duration.days(30) })).toThrow(
      'ImportedKmsKey TestStack/Key: alarm threshold 30 days is not shorter than the rolling validity 30 days, so the alarm would always be on; choose a shorter threshold.');
  });

  test('onMaterialExpiration matches KMS\'s expiration event for this key only', () => {
    const stack = newStack();
    const key = importedKey(stack, 'Key', { expiration: rolling30() });
    key.onMaterialExpiration('Expired', { target: new targets.SnsTopic(new sns.Topic(stack, 'Pager')) });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.kms'],
        'detail-type': ['KMS Imported Key Material Expiration'],
        'resources': [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyImport'), 'KeyArn'] }],
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^Pager') } })],
    });
    expect(key.onMaterialExpiration('Other')).toBeInstanceOf(events.Rule);
  });

  test.each(['metricSecondsUntilMaterialExpiration', 'addMaterialExpirationAlarm', 'onMaterialExpiration'] as const)(
    '%s on a never-expiring key explains that there is nothing to monitor', (method) => {
      const key = importedKey(newStack(), 'Key');
      expect(() => (key[method] as (id: string) => unknown).call(key, 'X')).toThrow(
        `ImportedKmsKey TestStack/Key: ${method}() has nothing to monitor: the key's material never expires (KeyMaterialExpiration.never()), `
        + 'so KMS publishes no expiration metric or event for it.');
    });
});

test('a fixed expiration that has passed warns with the fix, and the rest of the app still synthesizes', () => {
  const stack = newStack();
  importedKey(stack, 'Expired', { expiration: KeyMaterialExpiration.at(new Date('2020-01-01T00:00:00Z')) });
  importedKey(stack, 'Other');
  // The whole sentence, with the id a user acknowledges it by (Annotations appends it).
  Annotations.fromStack(stack).hasWarning('/TestStack/Expired', 'expiration 2020-01-01T00:00:00.000Z has passed, and KMS refuses to import a ValidTo '
    + 'in the past: a Create of this key fails, and an Update leaves the key with the material and expiration it holds. Move the expiration forward '
    + '(at most 365 days ahead) and deploy, or use KeyMaterialExpiration.rolling(). [ack: imported-kms-key:expiration-passed]');
  expect(ofType(Template.fromStack(stack), IMPORT_RESOURCE_TYPE)).toHaveLength(2);
});

test('the bounds of a fixed expiration (whole seconds): now has passed, 365 days ahead is the latest KMS takes', () => {
  const now = new Date('2026-06-01T12:00:00.000Z');
  const after = (ms: number) => KeyMaterialExpiration.at(new Date(now.getTime() + ms));
  const year = 365 * 86_400_000;
  jest.useFakeTimers({ now, doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval'] });
  try {
    const stack = newStack();
    importedKey(stack, 'Now', { expiration: after(0) });
    importedKey(stack, 'Later', { expiration: after(1000) });
    importedKey(stack, 'Latest', { expiration: after(year) });
    const passed = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('has passed'));
    expect(passed.map((w) => w.id)).toEqual(['/TestStack/Now']);
    expect(() => importedKey(newStack(), 'TooLate', { expiration: after(year + 1000) })).toThrow(
      'ImportedKmsKey TestStack/TooLate: expiration 2027-06-01T12:00:01.000Z is more than 365 days after now (latest 2027-06-01T12:00:00.000Z); '
      + 'KMS rejects a later ValidTo. Choose an earlier date and move it forward with later deployments.');
  } finally {
    jest.useRealTimers();
  }
});

