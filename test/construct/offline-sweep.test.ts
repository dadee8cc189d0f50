/**
 * Offline wrapping, the sweep's wiring (lib/private/offline-sweep.ts): one hourly rule per stack and
 * one refresh-request rule per bucket, both invoking the one handler with the keys' entries from the
 * template; the timings' refusals at synth; the reminder's alarm and rule helpers; cdk-nag clean.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ImportedKmsKey, ImportedKmsReplicaKey, KeyMaterial, KeyMaterialExpiration, OfflineWrappingOptions } from '../../lib';
import { EXPIRING_EVENT, EXPIRING_METRIC, OFFLINE_ANSWER_FOLDER, OfflineKeyEntry, UPLOAD_RESULT_EVENT } from '../../lib/shared/contract';
import { CFN_LINT_BIN } from '../../tools/emulators';
import { resolveWorstCase } from '../../tools/iam-size';
import { nagFindings } from '../support/nag';
import { importedKey, newStack } from '../support/stacks';

type Rule = { Properties: { ScheduleExpression?: string; EventPattern?: Record<string, unknown>; Targets: Array<{ Arn: unknown; Input: unknown; RetryPolicy?: unknown }> } };

const offline = (stack: Stack, id: string, options: OfflineWrappingOptions = {}, expiration?: KeyMaterialExpiration) =>
  new ImportedKmsKey(stack, id, { keyMaterial: KeyMaterial.fromOfflineWrapping(options), expiration });
const rules = (template: Template) => Object.values(template.findResources('AWS::Events::Rule')) as Rule[];
const scheduleRules = (template: Template) => rules(template).filter((r) => r.Properties.ScheduleExpression);
const requestRules = (template: Template) => rules(template).filter((r) => JSON.stringify(r.Properties.EventPattern ?? {}).includes('/requests/'));
/** A target's input, parsed, with each reference (a key's KeyArn, a parameter) as the JSON text of its intrinsic. */
const inputOf = (rule: Rule, target = 0) => {
  const input = rule.Properties.Targets[target].Input as string | { 'Fn::Join': [string, unknown[]] };
  const text = typeof input === 'string' ? input
    : input['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : JSON.stringify(JSON.stringify(p)).slice(1, -1))).join(input['Fn::Join'][0]);
  return JSON.parse(text) as { ImportedKmsKeyOffline: { Trigger: string; Keys: OfflineKeyEntry[] } };
};
const getAtt = (idPrefix: string) => expect.stringMatching(new RegExp(`^\\{"Fn::GetAtt":\\["${idPrefix}[0-9A-F]{8}","KeyArn"\\]\\}$`)) as string;

describe('the sweep', () => {
  test('one hourly rule for the stack\'s offline keys, each named by its import resource\'s KeyArn with the template\'s expiration', () => {
    const stack = newStack();
    const validTo = new Date(Date.now() + 90 * 86_400_000);
    offline(stack, 'A', {}, KeyMaterialExpiration.at(validTo));
    offline(stack, 'B', { refreshBefore: Duration.hours(3), remindBefore: Duration.days(14) }, KeyMaterialExpiration.at(validTo));
    importedKey(stack, 'FromSecret');
    const template = Template.fromStack(stack);
    const [schedule, ...more] = scheduleRules(template);
    expect(more).toHaveLength(0);
    expect(schedule.Properties.ScheduleExpression).toBe('rate(1 hour)');
    expect(schedule.Properties.Targets).toHaveLength(1);
    expect(JSON.stringify(schedule.Properties.Targets[0].Arn)).toMatch(/ImportedKmsKeyProviderHandler[0-9A-F]{8}/);
    expect(schedule.Properties.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 2 });
    const { ImportedKmsKeyOffline: { Trigger, Keys } } = inputOf(schedule);
    expect(Trigger).toBe('schedule');
    expect(Keys).toHaveLength(2);
    expect(Keys[0]).toMatchObject({ KeyArn: getAtt('AImport'), ValidTo: validTo.toISOString().replace(/\.\d{3}Z$/, 'Z') });
    expect(Keys[0]).not.toHaveProperty('SecretId');
    expect(Keys[0]).not.toHaveProperty('RefreshBefore'); // the defaults stay out of the input
    expect(Keys[1]).toMatchObject({ RefreshBefore: String(3 * 3600), RemindBefore: String(14 * 86_400) });
    expect(JSON.stringify(Keys)).not.toContain('FromSecret');
  });

  test('a refresh request under requests/*.json of the bucket invokes the handler with the same keys', () => {
    const stack = newStack();
    offline(stack, 'A');
    offline(stack, 'B');
    const mine = s3.Bucket.fromBucketName(stack, 'Mine', 'my-ceremonies');
    offline(stack, 'C', { bucket: mine });
    const template = Template.fromStack(stack);
    const requests = requestRules(template);
    expect(requests).toHaveLength(2); // one per bucket
    const [stackBucket, userBucket] = requests;
    expect(stackBucket.Properties.EventPattern).toEqual({
      'source': ['aws.s3'], 'detail-type': ['Object Created'],
      'detail': { bucket: { name: [{ Ref: expect.stringMatching(/^ImportedKmsKeyParameters/) as string }] }, object: { key: [{ wildcard: '*/*/requests/*.json' }] } },
    });
    // EventBridge's wildcard: '*' matches any run of characters, '/' included.
    const wildcard = (stackBucket.Properties.EventPattern as { detail: { object: { key: Array<{ wildcard: string }> } } }).detail.object.key[0].wildcard;
    const matches = (key: string) => new RegExp(`^${wildcard.split('*').map((p) => p.replace(/[.]/g, '\\.')).join('.*')}$`).test(key);
    expect(matches('eu-west-1/1234abcd-12ab-34cd-56ef-1234567890ab/requests/2026-12-08T11:00:00.000Z.json')).toBe(true);
    for (const written of [OFFLINE_ANSWER_FOLDER.ANSWERS, OFFLINE_ANSWER_FOLDER.REMINDERS]) {
      expect(matches(`eu-west-1/1234abcd-12ab-34cd-56ef-1234567890ab/${written}2026-12-08T11:00:00.000Z.json`)).toBe(false); // the handler's own writes do not trigger it
    }
    expect(inputOf(stackBucket).ImportedKmsKeyOffline.Trigger).toBe('request');
    expect(inputOf(stackBucket).ImportedKmsKeyOffline.Keys.map((k) => k.KeyArn)).toEqual([getAtt('AImport'), getAtt('BImport')]);
    expect(userBucket.Properties.EventPattern).toMatchObject({ detail: { bucket: { name: ['my-ceremonies'] } } });
    expect(inputOf(userBucket).ImportedKmsKeyOffline.Keys).toHaveLength(1);
    expect(scheduleRules(template)[0].Properties.Targets).toHaveLength(1);
    expect(inputOf(scheduleRules(template)[0]).ImportedKmsKeyOffline.Keys).toHaveLength(3);
    // The handler may list the bucket (a missing answer reads as NoSuchKey) and put the reminder on the default bus.
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ImportedKmsKeyProviderHandlerRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 's3:ListBucket' }), Match.objectLike({ Action: 'events:PutEvents' })]) },
    });
  });

  test('an offline replica is swept by its own stack (its Region\'s bucket), as a replica', () => {
    const app = new App();
    const primaryStack = new Stack(app, 'Primary', { env: { account: '111122223333', region: 'eu-west-1' }, crossRegionReferences: true });
    const primary = new ImportedKmsKey(primaryStack, 'Key', { keyMaterial: KeyMaterial.fromOfflineWrapping(), multiRegion: true });
    const replicaStack = new Stack(app, 'Replica', { env: { account: '111122223333', region: 'eu-west-2' }, crossRegionReferences: true });
    new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary, keyMaterial: KeyMaterial.fromOfflineWrapping() });
    const [key] = inputOf(scheduleRules(Template.fromStack(replicaStack))[0]).ImportedKmsKeyOffline.Keys;
    expect(key).toMatchObject({ Replica: 'true', KeyArn: getAtt('ReplicaImport'), ParameterBucket: expect.stringMatching(/ImportedKmsKeyParameters/) as string });
    expect(inputOf(scheduleRules(Template.fromStack(primaryStack))[0]).ImportedKmsKeyOffline.Keys).toHaveLength(1);
  });

  test('a stack without offline keys has no sweep', () => {
    const stack = newStack();
    importedKey(stack, 'FromSecret');
    expect(scheduleRules(Template.fromStack(stack))).toHaveLength(0);
  });

  test('many keys share a few targets and rules, each input within EventBridge\'s 8,192 characters', () => {
    const stack = newStack();
    for (let i = 0; i < 130; i++) offline(stack, `Key${i}`, {}, KeyMaterialExpiration.at(new Date(Date.now() + 90 * 86_400_000)));
    const template = Template.fromStack(stack);
    const schedules = scheduleRules(template);
    expect(schedules.length).toBeGreaterThan(1);
    const targets = schedules.flatMap((r) => r.Properties.Targets.map((_, i) => inputOf(r, i)));
    expect(schedules.every((r) => r.Properties.Targets.length <= 5)).toBe(true);
    expect(targets.reduce((n, t) => n + t.ImportedKmsKeyOffline.Keys.length, 0)).toBe(130);
    // Resolved, each GetAtt is a key ARN of at most 100 characters.
    for (const rule of [...schedules, ...requestRules(template)]) {
      for (const target of rule.Properties.Targets) {
        expect(String(resolveWorstCase(target.Input)).length).toBeLessThanOrEqual(8192);
      }
    }
  });

  test.each([
    [{ refreshBefore: Duration.minutes(30) }, /refreshBefore must be between 1 and 23 hours .* got 30 minutes/],
    [{ refreshBefore: Duration.hours(24) }, /refreshBefore must be between 1 and 23 hours/],
    [{ remindBefore: Duration.days(400) }, /remindBefore must be between 1 and 365 days .* got 400 days/],
    [{ remindBefore: Duration.hours(12) }, /remindBefore must be between 1 and 365 days/],
  ])('%o is refused at synth with the reason', (options, message) => {
    expect(() => offline(newStack(), 'K', options, KeyMaterialExpiration.at(new Date(Date.now() + 90 * 86_400_000)))).toThrow(message);
  });

  test('remindBefore on a material that never expires is refused; a deploy-time refreshBefore is taken as it is', () => {
    expect(() => offline(newStack(), 'K', { remindBefore: Duration.days(30) })).toThrow(/remindBefore has nothing to remind of: the material never expires/);
    const stack = newStack();
    const hours = new CfnParameter(stack, 'Hours', { type: 'Number' });
    offline(stack, 'K', { refreshBefore: Duration.seconds(hours.valueAsNumber) });
    const [key] = inputOf(scheduleRules(Template.fromStack(stack))[0]).ImportedKmsKeyOffline.Keys;
    expect(key.RefreshBefore).toBe('{"Ref":"Hours"}');
  });
});

describe('the expiry reminder helpers', () => {
  test('addOfflineExpiryReminderAlarm watches the sweep\'s metric for this key; onOfflineExpiryReminder matches its event', () => {
    const stack = newStack();
    const key = offline(stack, 'K', { remindBefore: Duration.days(45) }, KeyMaterialExpiration.at(new Date(Date.now() + 90 * 86_400_000)));
    key.addOfflineExpiryReminderAlarm('Reminder');
    key.onOfflineExpiryReminder('ReminderRule');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ImportedKmsKey', MetricName: EXPIRING_METRIC, Statistic: 'Maximum', Period: 10800,
      Dimensions: [{ Name: 'KeyId', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KImport'), 'KeyId'] } }],
      Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('needs an HSM ceremony'),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': [EXPIRING_EVENT.SOURCE], 'detail-type': [EXPIRING_EVENT.DETAIL_TYPE], 'resources': [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^KImport'), 'KeyArn'] }] },
    });
  });

  test('onOfflineImportResult matches the handler\'s upload result event for this key (how consumers learn the key left PendingImport)', () => {
    const stack = newStack();
    const key = offline(stack, 'K', {}, KeyMaterialExpiration.never());
    key.onOfflineImportResult('Imported', { eventPattern: { detail: { outcome: ['imported'] } } });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': [UPLOAD_RESULT_EVENT.SOURCE], 'detail-type': [UPLOAD_RESULT_EVENT.DETAIL_TYPE],
        'resources': [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^KImport'), 'KeyArn'] }], 'detail': { outcome: ['imported'] },
      },
    });
    expect(() => importedKey(newStack(), 'FromSecret').onOfflineImportResult('R')).toThrow(/needs a key whose keyMaterial is KeyMaterial.fromOfflineWrapping\(\): only an operator's upload/);
  });

  test('on a key whose material is in a secret, they say why not', () => {
    const key = importedKey(newStack(), 'FromSecret');
    expect(() => key.addOfflineExpiryReminderAlarm('A')).toThrow(/needs a key whose keyMaterial is KeyMaterial.fromOfflineWrapping\(\).*addMaterialExpirationAlarm/);
    expect(() => key.onOfflineExpiryReminder('R')).toThrow(/needs a key whose keyMaterial is KeyMaterial.fromOfflineWrapping\(\)/);
  });

  test('cfn-lint finds no error (and only aws-cdk-lib\'s own warnings) in a template with the sweep, the alarm and the rule', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'sweep-lint-'));
    const app = new App({ outdir });
    const stack = new Stack(app, 'Offline', { env: { account: '111122223333', region: 'eu-west-1' } });
    const key = offline(stack, 'Key', { refreshBefore: Duration.hours(4), remindBefore: Duration.days(20) }, KeyMaterialExpiration.at(new Date(Date.now() + 90 * 86_400_000)));
    key.addOfflineExpiryReminderAlarm('Reminder');
    key.onOfflineExpiryReminder('ReminderRule');
    app.synth();
    const lint = spawnSync(CFN_LINT_BIN, ['--format', 'parseable', join(outdir, stack.templateFile)], { encoding: 'utf8' });
    if (lint.error) throw new Error(`${CFN_LINT_BIN} could not run (${lint.error.message}): run 'bash scripts/install-emulators.sh'`);
    const findings = lint.stdout.trim().split('\n').filter(Boolean);
    expect(findings.filter((f) => !/:W3005:'\w+Role\w+' dependency already enforced/.test(f))).toEqual([]);
  });

  test('cdk-nag AwsSolutions finds nothing unacknowledged with the sweep, the alarm and the rule', () => {
    const { open } = nagFindings((app) => {
      const stack = new Stack(app, 'Offline', { env: { account: '111122223333', region: 'eu-west-1' } });
      const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
      const key = offline(stack, 'Key', { operators: [operator], refreshBefore: Duration.hours(4) }, KeyMaterialExpiration.at(new Date(Date.now() + 90 * 86_400_000)));
      key.addOfflineExpiryReminderAlarm('Reminder');
      key.onOfflineExpiryReminder('ReminderRule');
    });
    expect(open).toEqual([]);
  });
});
