/**
 * ImportedKeyMaterial at synth time: the custom resource that adopts an existing key (Adopt, the
 * expected key spec and usage), the handler's permissions on its role (never on a key policy this
 * stack does not own) with the guardrail conditions, the annotation with the key policy statements,
 * and every bad input as a sentence.
 */
import { CfnParameter, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ImportedKeyMaterial, ImportedKeyMaterialProps, KeyMaterial, KeyMaterialExpiration } from '../../lib';
import { IMPORT_RESOURCE_TYPE } from '../../lib/shared/contract';
import { resourcesOf } from '../../tools/template';
import { importedKey, materialSecret, newStack } from '../support/stacks';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const existing = (stack: Stack, arn = KEY_ARN) => kms.Key.fromKeyArn(stack, 'Existing', arn);
const adopted = (stack: Stack, props: Partial<ImportedKeyMaterialProps> = {}) => new ImportedKeyMaterial(stack, 'Material', {
  key: existing(stack), keyMaterial: KeyMaterial.fromSecret(materialSecret(stack, 'terraform-material')), ...props,
});
const importOf = (stack: Stack) => Object.values(resourcesOf(Template.fromStack(stack))).find((r) => r.Type === IMPORT_RESOURCE_TYPE)!;
const policiesOf = (stack: Stack) => Object.values(Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy'))
  .flatMap((p) => (p.Properties as { PolicyDocument: { Statement: Array<Record<string, unknown>> } }).PolicyDocument.Statement);

test('the custom resource names the key, asks the handler to adopt it, and says which key spec and usage to expect', () => {
  const stack = newStack();
  adopted(stack, { expiration: KeyMaterialExpiration.at(new Date(Date.now() + 30 * 86_400_000)) });
  const properties = importOf(stack).Properties as Record<string, unknown>;
  expect(properties).toMatchObject({ KeyArn: KEY_ARN, Adopt: 'true', KeyUsage: 'ENCRYPT_DECRYPT', ValidTo: expect.any(String) as unknown });
  expect(Template.fromStack(stack).findResources('AWS::KMS::Key')).toEqual({});
});

test('an ImportedKmsKey sends neither Adopt nor KeyUsage (its template does not change)', () => {
  const stack = newStack();
  importedKey(stack, 'Key');
  const properties = importOf(stack).Properties as Record<string, unknown>;
  expect(properties.Adopt).toBeUndefined();
  expect(properties.KeyUsage).toBeUndefined();
});

test('the handler is allowed on its role, on the key ARN only, with the guardrail conditions; no key policy is written', () => {
  const stack = newStack();
  const validTo = new Date(Math.floor(Date.now() / 1000) * 1000 + 30 * 86_400_000);
  adopted(stack, { expiration: KeyMaterialExpiration.at(validTo) });
  const kmsStatements = policiesOf(stack).filter((s) => String(s.Action).startsWith('kms:'));
  expect(kmsStatements).toEqual([
    { Effect: 'Allow', Action: 'kms:DescribeKey', Resource: KEY_ARN },
    { Effect: 'Allow', Action: 'kms:GetParametersForImport', Resource: KEY_ARN, Condition: { StringEquals: { 'kms:WrappingKeySpec': 'RSA_4096', 'kms:WrappingAlgorithm': 'RSAES_OAEP_SHA_256' } } },
    {
      Effect: 'Allow', Action: 'kms:ImportKeyMaterial', Resource: KEY_ARN,
      Condition: { StringEquals: { 'kms:ExpirationModel': 'KEY_MATERIAL_EXPIRES' }, NumericLessThanEquals: { 'kms:ValidTo': String(validTo.getTime() / 1000) } },
    },
    { Effect: 'Allow', Action: 'kms:ListKeyRotations', Resource: KEY_ARN },
  ]);
  expect(Template.fromStack(stack).findResources('AWS::KMS::Key')).toEqual({});
});

test('an HMAC key is not listed (KMS lists the materials of symmetric keys only); shred and rotation add their actions', () => {
  const hmac = newStack();
  adopted(hmac, { keySpec: kms.KeySpec.HMAC_256 });
  expect(policiesOf(hmac).flatMap((s) => [s.Action].flat())).not.toContain('kms:ListKeyRotations');
  const rotating = newStack();
  adopted(rotating, { shredMaterialOnRemoval: true, previousKeyMaterials: [KeyMaterial.fromSecret(materialSecret(rotating, 'older'))] });
  const actions = policiesOf(rotating).flatMap((s) => [s.Action].flat());
  expect(actions).toEqual(expect.arrayContaining(['kms:RotateKeyOnDemand', 'kms:DeleteImportedKeyMaterial', 'kms:ListKeyRotations']));
  expect(importOf(rotating).Properties).toMatchObject({ ShredOnDelete: 'true', PreviousMaterials: [expect.any(Object)] });
});

test('an info annotation gives the key policy statements, with the handler role and the guardrails, for a key whose policy does not delegate to IAM', () => {
  const stack = newStack();
  adopted(stack);
  const [info] = Annotations.fromStack(stack).findInfo('/TestStack/Material', Match.stringLikeRegexp('is not this stack\'s'));
  const text = info.entry.data as string;
  expect(text).toContain(`The key policy of ${KEY_ARN} is not this stack's`);
  const statements = JSON.parse(text.slice(text.indexOf('[{'))) as Array<Record<string, unknown>>;
  expect(statements.map((s) => s.Sid)).toEqual(['AllowImportedKmsKeyHandlerDescribe', 'AllowImportedKmsKeyHandlerParameters', 'AllowImportedKmsKeyHandlerImport', 'AllowImportedKmsKeyHandlerList']);
  for (const statement of statements) {
    expect(statement).toMatchObject({ Effect: 'Allow', Resource: '*', Principal: { AWS: { 'Fn::GetAtt': [expect.stringMatching(/^ImportedKmsKeyProviderHandlerRole/), 'Arn'] } } });
  }
  expect(statements[2].Condition).toEqual({ StringEquals: { 'kms:ExpirationModel': 'KEY_MATERIAL_DOES_NOT_EXPIRE' } });
});

test('usable as a kms.IKey: grants go to the grantee\'s identity policy, on the key, after the adoption', () => {
  const stack = newStack();
  const material = adopted(stack);
  const role = new iam.Role(stack, 'App', { assumedBy: new iam.AccountRootPrincipal() });
  material.grantEncryptDecrypt(role);
  const policy = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).find((p) => JSON.stringify(p).includes('kms:Decrypt'))!;
  expect(JSON.stringify(policy)).toContain('KeyArn');
  expect(material.keyArn).not.toBe(KEY_ARN); // the import's attribute: resolves once adopted
});

describe('bad input: a sentence naming the construct and the prop', () => {
  test('no key', () => {
    const stack = newStack();
    expect(() => new ImportedKeyMaterial(stack, 'Material', { keyMaterial: KeyMaterial.fromSecret(materialSecret(stack)) } as ImportedKeyMaterialProps))
      .toThrow('ImportedKeyMaterial TestStack/Material: key is required: the existing key, e.g. kms.Key.fromKeyArn(this, \'Existing\', keyArn).');
  });

  test('no keyMaterial', () => {
    const stack = newStack();
    expect(() => new ImportedKeyMaterial(stack, 'Material', { key: existing(stack) } as ImportedKeyMaterialProps)).toThrow(/keyMaterial is required/);
  });

  test('a key this app creates', () => {
    const stack = newStack();
    const key = importedKey(stack, 'Key');
    expect(() => adopted(stack, { key })).toThrow(/key TestStack\/Key is created by this app.*use ImportedKmsKey for a new key/);
    const other = newStack();
    expect(() => adopted(other, { key: new kms.Key(other, 'Plain') })).toThrow(/key TestStack\/Plain is created by this app/);
  });

  test('an alias, and a key of another Region or account', () => {
    const stack = newStack();
    expect(() => adopted(stack, { key: kms.Key.fromKeyArn(stack, 'A', 'arn:aws:kms:eu-west-1:111122223333:alias/payments') }))
      .toThrow(/key must name a KMS key by its key ARN .*got arn:aws:kms:eu-west-1:111122223333:alias\/payments/);
    const other = newStack();
    expect(() => adopted(other, { key: kms.Key.fromKeyArn(other, 'B', KEY_ARN.replace('eu-west-1', 'us-east-1')) }))
      .toThrow(/is in 111122223333\/us-east-1, but this stack deploys to 111122223333\/eu-west-1/);
  });

  test('a key spec that takes no imported material, a usage that does not fit it', () => {
    const stack = newStack();
    expect(() => adopted(stack, { keySpec: kms.KeySpec.ML_DSA_44 })).toThrow(/ImportedKeyMaterial TestStack\/Material: /);
    expect(() => adopted(newStack(), { keySpec: kms.KeySpec.HMAC_256, keyUsage: kms.KeyUsage.ENCRYPT_DECRYPT })).toThrow(/ImportedKeyMaterial TestStack\/Material: /);
  });

  test('rotation of a key spec that does not rotate', () => {
    const stack = newStack();
    expect(() => adopted(stack, { keySpec: kms.KeySpec.HMAC_256, previousKeyMaterials: [KeyMaterial.fromSecret(materialSecret(stack, 'older'))] }))
      .toThrow(/ImportedKeyMaterial TestStack\/Material: /);
  });

  test('a removal policy: the key is not this stack\'s', () => {
    const stack = newStack();
    expect(() => adopted(stack).applyRemovalPolicy(RemovalPolicy.DESTROY)).toThrow(/cannot apply removal policy destroy: the key is not this stack's/);
  });

  test('a key ARN known only at deploy time is accepted', () => {
    const stack = newStack();
    const arn = new CfnParameter(stack, 'KeyArn').valueAsString;
    adopted(stack, { key: kms.Key.fromKeyArn(stack, 'FromParameter', arn) });
    expect((importOf(stack).Properties as Record<string, unknown>).KeyArn).toEqual({ Ref: 'KeyArn' });
  });
});
