/**
 * The size bound that decides how many keys share one secret-read policy (6,144 characters) and one
 * renewal rule input (8 KB): exact for text and pseudo parameters, the longest possible value for
 * references it cannot see through, so a deploy never exceeds a limit the synth did not foresee.
 */
import { App, Aws, Fn, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { resolvedLengthUpperBound } from '../../lib/private/policy-size';

const envAgnosticStack = () => new Stack(new App(), 'Stack');

test('plain text counts its characters', () => {
  const arn = 'arn:aws:kms:eu-west-1:111122223333:key/x';
  expect(resolvedLengthUpperBound(envAgnosticStack(), arn)).toBe(arn.length);
});

test('pseudo parameters count at their longest: aws-iso-b, a 16-character Region, 12 digits', () => {
  const stack = envAgnosticStack();
  expect(resolvedLengthUpperBound(stack, `arn:${Aws.PARTITION}:kms:${Aws.REGION}:${Aws.ACCOUNT_ID}:key/x`)).toBe('arn:'.length + 10 + ':kms:'.length + 16 + 1 + 12 + ':key/x'.length);
  expect(resolvedLengthUpperBound(stack, Aws.URL_SUFFIX)).toBe(16);
});

test('a join counts its parts and a separator between each two', () => {
  expect(resolvedLengthUpperBound(envAgnosticStack(), Fn.join('--', [Aws.REGION, Aws.ACCOUNT_ID, 'x']))).toBe(16 + 12 + 1 + 2 * 2);
});

test('a reference to another resource counts as a full secret ARN (600), as does anything that resolves to no text', () => {
  const stack = envAgnosticStack();
  expect(resolvedLengthUpperBound(stack, new secretsmanager.Secret(stack, 'Secret').secretArn)).toBe(600);
  for (const value of [null, undefined, 42, true]) {
    expect(resolvedLengthUpperBound(stack, Token.asString(Lazy.any({ produce: () => value })))).toBe(600);
  }
});
