/**
 * Every failure of the handler is one actionable sentence, and nothing secret leaves it: KMS and
 * Secrets Manager errors, network failures, bad material, unexpected errors.
 */
import { DescribeKeyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand } from '@aws-sdk/client-kms';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { handler } from '../../lambda';
import { networkCause } from '../../lambda/errors/sentences';
import * as plan from '../../lambda/decisions/plan';
import { awsError, create, failure, KEY_ARN, kms, output, props, resetHarness, SECRET_ARN, secrets, state, TOKEN, update } from './support/handler-harness';
import { expectNoLeak } from '../support/keys';

beforeEach(resetHarness);
afterEach(() => jest.restoreAllMocks());

const kmsErrors: Array<[string, RegExp]> = [
  ['DependencyTimeoutException', /timed out.*Retry the deployment/],
  ['ExpiredImportTokenException', /expired.*Retry the deployment/],
  ['IncorrectKeyMaterialException', /differs from the material this key already holds.*new material for a symmetric key is a rotation.*Put the original material back/],
  ['InvalidArnException', /not a valid KMS key ARN/],
  ['InvalidCiphertextException', /could not unwrap.*wrappingAlgorithm/],
  ['InvalidImportTokenException', /import token.*does not belong to this key/],
  ['KMSInternalException', /internal error.*Retry the deployment/],
  ['KMSInvalidStateException', /state that does not accept imports.*Cancel its deletion or enable it/],
  ['NotFoundException', /does not exist.*Restore the key, or remove/],
  ['UnsupportedOperationException', /Origin is not EXTERNAL/],
  ['AccessDeniedException', /not allowed to use this KMS key.*AllowImportedKmsKeyHandler/],
  ['ValidationException', /rejected the request parameters/],
  ['ThrottlingException', /throttled.*Retry the deployment later/],
];

test.each(kmsErrors)('ImportKeyMaterial %s', async (name, expected) => {
  kms.on(ImportKeyMaterialCommand).rejects(awsError(name, `raw KMS text ${TOKEN.toString('base64')}`));
  const message = await failure(create());
  expect(message).toMatch(new RegExp(`^ImportKeyMaterial failed for KMS key ${KEY_ARN} \\(${name}\\): `));
  expect(message).toMatch(expected);
  expect(message).not.toContain('raw KMS text');
});

test.each(kmsErrors.filter(([name]) => ['NotFoundException', 'KMSInvalidStateException', 'UnsupportedOperationException', 'InvalidArnException'].includes(name)))(
  'GetParametersForImport %s', async (name, expected) => {
    kms.on(GetParametersForImportCommand).rejects(awsError(name));
    const message = await failure(create());
    expect(message).toMatch(new RegExp(`^GetParametersForImport failed for KMS key ${KEY_ARN} \\(${name}\\): `));
    expect(message).toMatch(expected);
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
  });

test.each(kmsErrors.filter(([name]) => ['NotFoundException', 'InvalidArnException', 'AccessDeniedException', 'KMSInternalException'].includes(name)))(
  'DescribeKey %s', async (name, expected) => {
    kms.on(DescribeKeyCommand).rejects(awsError(name));
    const message = await failure(create());
    expect(message).toMatch(new RegExp(`^DescribeKey failed for KMS key ${KEY_ARN} \\(${name}\\): `));
    expect(message).toMatch(expected);
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
  });

test.each([
  ['ResourceNotFoundException', /does not exist.*fix the secret and versionStage/],
  ['AccessDeniedException', /may not read the secret/],
  ['DecryptionFailure', /could not decrypt the secret/],
  ['InvalidRequestException', /scheduled for deletion.*RestoreSecret/],
  ['InvalidParameterException', /rejected the secret id or version stage/],
  ['InternalServiceError', /internal error.*Retry/],
])('Secrets Manager %s', async (name, expected) => {
  secrets.on(GetSecretValueCommand).rejects(awsError(name));
  const message = await failure(create());
  expect(message).toMatch(new RegExp(`^Could not read the key material from secret ${SECRET_ARN} \\(${name}\\): `));
  expect(message).toMatch(expected);
  expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
});

describe('network failures (after the SDK retries) name the service and the network path to check', () => {
  const connectionError = (code: string) => Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code, $metadata: { attempts: 5 } });
  const timeout = () => Object.assign(new Error('Connection timed out after 5000 ms'), { name: 'TimeoutError', $metadata: {} });

  test.each([
    ['ECONNRESET', () => connectionError('ECONNRESET')],
    ['ECONNREFUSED', () => connectionError('ECONNREFUSED')],
    ['ENOTFOUND', () => connectionError('ENOTFOUND')],
    ['TimeoutError', timeout],
  ])('KMS: %s', async (cause, error) => {
    kms.on(DescribeKeyCommand).rejects(error());
    expect(await failure(create())).toBe(`Could not reach AWS KMS from the import handler (${cause}), even after retries. `
      + 'Check the handler\'s network path to the KMS endpoint (kms.<region>.amazonaws.com): a VPC endpoint or NAT gateway if it runs in a VPC, '
      + 'proxy and firewall settings, DNS; then retry the deployment.');
  });

  test('Secrets Manager: ETIMEDOUT', async () => {
    secrets.on(GetSecretValueCommand).rejects(connectionError('ETIMEDOUT'));
    expect(await failure(create())).toMatch(/^Could not reach AWS Secrets Manager from the import handler \(ETIMEDOUT\), even after retries\. .*secretsmanager\.<region>\.amazonaws\.com/);
  });

  test('an error with an HTTP response is never taken for a network failure', () => {
    expect(networkCause(Object.assign(new Error('x'), { name: 'TimeoutError', $metadata: { httpStatusCode: 504 } }))).toBeUndefined();
    expect(networkCause(awsError('ThrottlingException'))).toBeUndefined();
    expect(networkCause(undefined)).toBeUndefined();
  });
});

test('material of the wrong length is refused before any import, without echoing it', async () => {
  const wrong = Buffer.concat([state.material, Buffer.from([1, 2, 3])]);
  secrets.on(GetSecretValueCommand).resolves({ SecretString: wrong.toString('base64') });
  const message = await failure(create());
  expect(message).toBe('SYMMETRIC_DEFAULT key material must be exactly 32 bytes; found 35 bytes.');
  expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
  expectNoLeak(message + output.join('\n'), wrong);
});

test('an unexpected error is replaced by a generic message that carries none of its text', async () => {
  kms.on(ImportKeyMaterialCommand).rejects(new TypeError(`boom ${state.material.toString('hex')}`));
  const message = await failure(create());
  expect(message).toBe(`ImportKeyMaterial failed for KMS key ${KEY_ARN} (TypeError): an unexpected error occurred. Retry the deployment; if it persists, check the key in the KMS console.`);
});

test('an error with no name is reported as Error, with none of its text; the handler throws an ImportError (the Lambda errorType)', async () => {
  kms.on(DescribeKeyCommand).rejects(Object.assign(new Error(`boom ${state.material.toString('hex')}`), { name: undefined }));
  await expect(handler(create())).rejects.toMatchObject({
    name: 'ImportError',
    message: `DescribeKey failed for KMS key ${KEY_ARN} (Error): an unexpected error occurred. Retry the deployment; if it persists, check the key in the KMS console.`,
  });
});

test('a Secrets Manager error the handler does not know gets the generic sentence, with none of its text', async () => {
  secrets.on(GetSecretValueCommand).rejects(awsError('BrandNewException', `raw ${state.material.toString('base64')}`));
  expect(await failure(create())).toBe(`Could not read the key material from secret ${SECRET_ARN} (BrandNewException): `
    + 'an unexpected error occurred. Check the secret exists and the handler may read it, then retry.');
});

test('a bug in the handler (an error that is not an ImportError) fails with a generic sentence, logged, without its text', async () => {
  jest.spyOn(plan, 'planImport').mockImplementation(() => { throw new TypeError(`bug ${state.material.toString('hex')}`); });
  const message = await failure(create());
  expect(message).toBe(`The Create of the key material of ${KEY_ARN} failed unexpectedly. Retry the deployment.`);
  expect(JSON.parse(output.filter((line) => line.startsWith('{')).pop()!)).toEqual({ requestType: 'Create', keyArn: KEY_ARN, outcome: 'failed', reason: message });
});

describe('nothing secret leaves the handler', () => {
  test('console, stdout and stderr carry one JSON line per event, with no material, wrapped material, token or properties', async () => {
    const responses: string[] = [JSON.stringify(await handler(create()))];
    const wrapped = Buffer.from(kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input.EncryptedKeyMaterial!);
    kms.on(ImportKeyMaterialCommand).rejects(awsError('IncorrectKeyMaterialException', `raw ${state.material.toString('base64')}`));
    responses.push(await failure(update(props({ ValidTo: new Date(Date.now() + 86_400_000).toISOString() }), props())));
    expect(output).toHaveLength(2);
    for (const line of output) expect(Object.keys(JSON.parse(line) as object).sort()).toEqual(expect.arrayContaining(['keyArn', 'outcome', 'requestType']));
    expect(output.join('\n')).not.toContain('SecretId');
    expectNoLeak([...responses, ...output].join('\n'), state.material, wrapped, TOKEN);
  });
});
