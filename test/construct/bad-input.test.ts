/**
 * Every bad input is a sentence that names the construct (class and path) and the prop, never a
 * crash; and every value known only at deploy time (a CfnParameter) is skipped by every check.
 */
import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ImportedKmsKey, ImportedKmsKeyProps, ImportedKmsReplicaKey, KeyMaterial, KeyMaterialExpiration, WrappingAlgorithm } from '../../lib';
import { IMPORT_RESOURCE_TYPE } from '../../lib/shared/contract';
import { importedKey, materialSecret, newStack } from '../support/stacks';
import { resourcesOf } from '../../tools/template';

const PRIMARY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab';
const importOf = (stack: Stack) => Object.values(resourcesOf(Template.fromStack(stack))).find((r) => r.Type === IMPORT_RESOURCE_TYPE)!;

describe('what TypeScript cannot stop a JavaScript or Python caller from passing', () => {
  test('a key without keyMaterial', () => {
    const stack = newStack();
    expect(() => new ImportedKmsKey(stack, 'Key', {} as ImportedKmsKeyProps)).toThrow(
      'ImportedKmsKey TestStack/Key: keyMaterial is required and must be a KeyMaterial, e.g. KeyMaterial.fromSecret(secret) or KeyMaterial.fromOfflineWrapping(); got none.');
  });

  test('a key without props at all', () => {
    const stack = newStack();
    expect(() => new ImportedKmsKey(stack, 'Key', undefined as unknown as ImportedKmsKeyProps)).toThrow(/^ImportedKmsKey TestStack\/Key: keyMaterial is required/);
  });

  test('a missing entry of previousKeyMaterials', () => {
    const stack = newStack();
    const previous = [KeyMaterial.fromSecret(materialSecret(stack, 'old')), undefined as unknown as KeyMaterial];
    expect(() => importedKey(stack, 'Key', { previousKeyMaterials: previous })).toThrow(
      'ImportedKmsKey TestStack/Key: previousKeyMaterials[1] is required and must be a KeyMaterial, e.g. KeyMaterial.fromSecret(secret) or KeyMaterial.fromOfflineWrapping(); got none.');
  });

  test('a replica of a primaryKeyArn without keyMaterial', () => {
    const stack = newStack();
    expect(() => new ImportedKmsReplicaKey(stack, 'Replica', { primaryKeyArn: PRIMARY_ARN, keySpec: kms.KeySpec.SYMMETRIC_DEFAULT })).toThrow(
      'ImportedKmsReplicaKey TestStack/Replica: keyMaterial is required with primaryKeyArn: the material of a primary key outside this app cannot be found here. '
      + 'Pass keyMaterial: KeyMaterial.fromSecret(...) with a secret of this Region that holds the primary\'s material.');
  });
});

describe('errors name the class that raised them', () => {
  test('a replica\'s monitoring error says ImportedKmsReplicaKey', () => {
    const stack = newStack();
    const replica = new ImportedKmsReplicaKey(stack, 'Replica', { primaryKeyArn: PRIMARY_ARN, keyMaterial: KeyMaterial.fromSecret(materialSecret(stack)) });
    expect(() => replica.onMaterialExpiration('Expiring')).toThrow(/^ImportedKmsReplicaKey TestStack\/Replica: onMaterialExpiration\(\) has nothing to monitor/);
  });

  test('a replica\'s unimportable configuration says ImportedKmsReplicaKey', () => {
    const stack = newStack();
    expect(() => new ImportedKmsReplicaKey(stack, 'Replica', {
      primaryKeyArn: PRIMARY_ARN, keySpec: kms.KeySpec.RSA_2048, wrappingAlgorithm: WrappingAlgorithm.RSAES_OAEP_SHA_256,
      keyMaterial: KeyMaterial.fromSecret(materialSecret(stack)),
    })).toThrow(/^ImportedKmsReplicaKey TestStack\/Replica: wrappingAlgorithm RSAES_OAEP_SHA_256 cannot wrap RSA_2048 material/);
  });
});

describe('KeyMaterialExpiration.rolling() is checked by the key that uses it', () => {
  test.each([
    ['a validity over 365 days', () => KeyMaterialExpiration.rolling(Duration.days(366)),
      'ImportedKmsKey TestStack/Key: KeyMaterialExpiration.rolling(): validity 366 days is longer than 365 days, which KMS refuses. Choose a validity of at most 365 days.'],
    ['a renewal interval under an hour', () => KeyMaterialExpiration.rolling(Duration.days(3), { renewalInterval: Duration.minutes(30) }),
      'ImportedKmsKey TestStack/Key: KeyMaterialExpiration.rolling(): renewalInterval 30 minutes is shorter than 1 hour. Renew at most hourly.'],
    ['an explicit interval over a third of the validity', () => KeyMaterialExpiration.rolling(Duration.days(2), { renewalInterval: Duration.hours(17) }),
      'ImportedKmsKey TestStack/Key: KeyMaterialExpiration.rolling(): renewalInterval 17 hours is more than a third of validity 2 days; '
      + 'choose a shorter interval or a longer validity, so that two failed renewals in a row still leave the key usable.'],
    ['the default interval over a third of the validity, saying it is the default', () => KeyMaterialExpiration.rolling(Duration.days(2)),
      'ImportedKmsKey TestStack/Key: KeyMaterialExpiration.rolling(): the default renewalInterval 1 day is more than a third of validity 2 days; '
      + 'choose a renewalInterval or a longer validity, so that two failed renewals in a row still leave the key usable.'],
  ])('refuses %s, naming the key', (_name, make, message) => {
    const stack = newStack();
    expect(() => importedKey(stack, 'Key', { expiration: make() })).toThrow(message);
  });

  test('accepts the boundaries: 365 days, one hour, exactly a third', () => {
    const stack = newStack();
    expect(() => importedKey(stack, 'Long', { expiration: KeyMaterialExpiration.rolling(Duration.days(365)) })).not.toThrow();
    expect(() => importedKey(stack, 'Short', { expiration: KeyMaterialExpiration.rolling(Duration.hours(3), { renewalInterval: Duration.hours(1) }) })).not.toThrow();
  });

  test('a replica names itself', () => {
    const stack = newStack();
    expect(() => new ImportedKmsReplicaKey(stack, 'Replica', {
      primaryKeyArn: PRIMARY_ARN, keyMaterial: KeyMaterial.fromSecret(materialSecret(stack)), expiration: KeyMaterialExpiration.rolling(Duration.days(400)),
    })).toThrow(/^ImportedKmsReplicaKey TestStack\/Replica: KeyMaterialExpiration.rolling\(\): validity 400 days/);
  });
});

describe('values known only at deploy time are skipped by every check', () => {
  function parameterStack() {
    const stack = new Stack(new App(), 'Params', { env: { account: '111122223333', region: 'eu-west-1' } });
    const number = (id: string) => new CfnParameter(stack, id, { type: 'Number' }).valueAsNumber;
    return { stack, number, text: (id: string) => new CfnParameter(stack, id, { type: 'String' }).valueAsString };
  }

  test('a rolling validity from a parameter, with a fixed interval: the import carries the parameter', () => {
    const { stack, number } = parameterStack();
    importedKey(stack, 'Key', { expiration: KeyMaterialExpiration.rolling(Duration.seconds(number('Validity')), { renewalInterval: Duration.hours(1) }) });
    expect(importOf(stack).Properties).toMatchObject({ RollingValidity: { Ref: 'Validity' }, RenewalInterval: '3600' });
  });

  test('a renewal interval from a parameter: the schedule runs at that rate, and the import carries no interval (each deploy re-imports)', () => {
    const { stack, number } = parameterStack();
    importedKey(stack, 'Key', { expiration: KeyMaterialExpiration.rolling(Duration.days(30), { renewalInterval: Duration.hours(number('Interval')) }) });
    expect(importOf(stack).Properties).toMatchObject({ RollingValidity: '2592000' });
    expect(importOf(stack).Properties).not.toHaveProperty('RenewalInterval');
    const rules = Object.values(resourcesOf(Template.fromStack(stack))).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    expect(JSON.stringify(rules[0].Properties.ScheduleExpression)).toContain('"Ref":"Interval"');
  });

  test('both from parameters', () => {
    const { stack, number } = parameterStack();
    expect(() => importedKey(stack, 'Key', {
      expiration: KeyMaterialExpiration.rolling(Duration.seconds(number('Validity')), { renewalInterval: Duration.hours(number('Interval')) }),
    })).not.toThrow();
  });

  test('a validity from a parameter must be in seconds, and says so', () => {
    const { stack, number } = parameterStack();
    expect(() => importedKey(stack, 'Key', { expiration: KeyMaterialExpiration.rolling(Duration.days(number('Validity'))) })).toThrow(
      'ImportedKmsKey Params/Key: KeyMaterialExpiration.rolling(): a validity known only at deploy time must be given in seconds, '
      + 'e.g. Duration.seconds(parameter.valueAsNumber); got <token> days.');
  });

  test('a key spec from a parameter: the key and the import carry it, with the wrapping algorithm named for the handler', () => {
    const { stack, text } = parameterStack();
    importedKey(stack, 'Key', { keySpec: text('Spec') as kms.KeySpec });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::KMS::Key', { KeySpec: { Ref: 'Spec' } });
    expect(importOf(stack).Properties).toMatchObject({ KeySpec: { Ref: 'Spec' }, WrappingAlgorithm: 'RSAES_OAEP_SHA_256' });
  });

  test('a key spec from a parameter with rotation, and an RSA wrapping chosen by hand', () => {
    const { stack, text } = parameterStack();
    const key = importedKey(stack, 'Key', {
      keySpec: text('Spec') as kms.KeySpec, wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256,
    });
    expect(key.wrappingAlgorithm).toBe('RSA_AES_KEY_WRAP_SHA_256');
    const rotating = parameterStack();
    expect(() => importedKey(rotating.stack, 'Key', {
      keySpec: rotating.text('Spec') as kms.KeySpec, previousKeyMaterials: [KeyMaterial.fromSecret(materialSecret(rotating.stack, 'old'))],
    })).not.toThrow();
  });

  test('an alarm on a deploy-time interval needs a threshold, and says so', () => {
    const { stack, number } = parameterStack();
    const key = importedKey(stack, 'Key', { expiration: KeyMaterialExpiration.rolling(Duration.days(30), { renewalInterval: Duration.hours(number('Interval')) }) });
    expect(() => key.addMaterialExpirationAlarm('Alarm')).toThrow(/^ImportedKmsKey Params\/Key: addMaterialExpirationAlarm\(\) needs a threshold/);
    expect(() => key.addMaterialExpirationAlarm('Alarm2', { threshold: Duration.days(3) })).not.toThrow();
  });
});
