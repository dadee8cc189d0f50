/**
 * The key-policy guardrails, evaluated as IAM would (with an IAM policy evaluation library): the
 * handler's own role may import only with the configured wrapping and expiration.
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { KeyMaterialExpiration } from '../../lib';
import { ACCOUNT, decide, REGION, resolvePolicy, roleArn } from '../support/policy-simulator';
import { importedKey, newStack } from '../support/stacks';
import { resourcesOf } from '../../tools/template';

const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const DATE = new Date('2027-03-01T00:00:00Z');

function synthesizedKey(expiration?: KeyMaterialExpiration) {
  const stack = newStack();
  importedKey(stack, 'Key', { expiration: expiration ?? KeyMaterialExpiration.never() });
  const resources = resourcesOf(Template.fromStack(stack));
  const [handlerRole] = Object.keys(resources).filter((id) => id.startsWith('ImportedKmsKeyProviderHandlerRole'));
  const [key] = Object.values(resources).filter((r) => r.Type === 'AWS::KMS::Key');
  return { policy: resolvePolicy(key.Properties.KeyPolicy), handler: roleArn(handlerRole) };
}

const importing = (context: Record<string, string>) => ({ action: 'kms:ImportKeyMaterial', resource: KEY, context });
const expiresAt = (seconds: number) => ({ 'kms:ExpirationModel': 'KEY_MATERIAL_EXPIRES', 'kms:ValidTo': String(seconds) });

test('a fixed date: the handler may import material expiring at that date or earlier, never later, never non-expiring', async () => {
  const { policy, handler } = synthesizedKey(KeyMaterialExpiration.at(DATE));
  const at = DATE.getTime() / 1000;
  expect(await decide(policy, { principal: handler, ...importing(expiresAt(at)) })).toBe('Allowed');
  expect(await decide(policy, { principal: handler, ...importing(expiresAt(at - 86_400)) })).toBe('Allowed');
  expect(await decide(policy, { principal: handler, ...importing(expiresAt(at + 1)) })).toBe('ImplicitlyDenied');
  expect(await decide(policy, { principal: handler, ...importing({ 'kms:ExpirationModel': 'KEY_MATERIAL_DOES_NOT_EXPIRE' }) })).toBe('ImplicitlyDenied');
});

test('rolling: the handler may import expiring material, never non-expiring material', async () => {
  const { policy, handler } = synthesizedKey(KeyMaterialExpiration.rolling(Duration.days(30)));
  expect(await decide(policy, { principal: handler, ...importing(expiresAt(DATE.getTime() / 1000)) })).toBe('Allowed');
  expect(await decide(policy, { principal: handler, ...importing({ 'kms:ExpirationModel': 'KEY_MATERIAL_DOES_NOT_EXPIRE' }) })).toBe('ImplicitlyDenied');
});

test('never: the handler may import only non-expiring material', async () => {
  const { policy, handler } = synthesizedKey();
  expect(await decide(policy, { principal: handler, ...importing({ 'kms:ExpirationModel': 'KEY_MATERIAL_DOES_NOT_EXPIRE' }) })).toBe('Allowed');
  expect(await decide(policy, { principal: handler, ...importing(expiresAt(DATE.getTime() / 1000)) })).toBe('ImplicitlyDenied');
});

test('the handler may get import parameters only for the configured wrapping key spec and algorithm, and may describe the key', async () => {
  const { policy, handler } = synthesizedKey();
  const parameters = (spec: string, algorithm: string) => ({
    principal: handler, action: 'kms:GetParametersForImport', resource: KEY, context: { 'kms:WrappingKeySpec': spec, 'kms:WrappingAlgorithm': algorithm },
  });
  expect(await decide(policy, parameters('RSA_4096', 'RSAES_OAEP_SHA_256'))).toBe('Allowed');
  expect(await decide(policy, parameters('RSA_2048', 'RSAES_OAEP_SHA_256'))).toBe('ImplicitlyDenied');
  expect(await decide(policy, parameters('RSA_4096', 'RSAES_OAEP_SHA_1'))).toBe('ImplicitlyDenied');
  expect(await decide(policy, { principal: handler, action: 'kms:DescribeKey', resource: KEY })).toBe('Allowed');
  expect(await decide(policy, { principal: handler, action: 'kms:Decrypt', resource: KEY })).toBe('ImplicitlyDenied');
});
