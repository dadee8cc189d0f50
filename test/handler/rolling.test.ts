/**
 * Rolling expirations in the handler: deploys import `RollingValidity` ahead and accept material
 * renewed within the interval; scheduled renewals re-import every listed key, leave operators'
 * choices alone, and report failures as one sentence and a metric.
 */
import { DescribeKeyCommand, DescribeKeyCommandInput, ImportKeyMaterialCommand, ImportKeyMaterialCommandInput } from '@aws-sdk/client-kms';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { handler } from '../../lambda';
import * as plan from '../../lambda/decisions/plan';
import { ImportProperties } from '../../lib/shared/contract';
import { awsError, create, holding, KEY_ARN, kms, kmsKey, kmsModel, output, props, resetHarness, secrets, state, update } from './support/handler-harness';
import { parseLog } from '../../tools/template';

const NOW = new Date('2026-11-26T12:00:00.000Z');
const DAY = 86_400_000;
const rolling = (overrides: Partial<ImportProperties> = {}) => props({ RollingValidity: String(30 * 86_400), RenewalInterval: String(86_400), ...overrides });
const keyArn = (i: number) => KEY_ARN.replace('1234abcd', `000${i}abcd`);

beforeEach(() => {
  resetHarness();
  jest.useFakeTimers({ now: NOW, doNotFake: ['setTimeout', 'setImmediate', 'nextTick', 'queueMicrotask'] });
});
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

const imports = () => kms.commandCalls(ImportKeyMaterialCommand).map((c) => c.args[0].input);

describe('deploys of a rolling key', () => {
  test('a Create imports with ValidTo the rolling validity ahead, in whole seconds', async () => {
    await handler(create(rolling()));
    expect(imports()[0]).toMatchObject({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(NOW.getTime() + 30 * DAY) });
  });

  test('an Update finds material renewed within the interval good enough, and imports nothing', async () => {
    state.key = holding(new Date(NOW.getTime() + 30 * DAY - 3600_000).toISOString());
    await handler(update(rolling({ WrappingAlgorithm: 'RSAES_OAEP_SHA_1' }), rolling()));
    expect(imports()).toHaveLength(0);
  });

  test('an Update re-imports material last renewed longer ago than the interval, or from another model', async () => {
    state.key = holding(new Date(NOW.getTime() + 28 * DAY).toISOString());
    await handler(update(rolling({ WrappingAlgorithm: 'RSAES_OAEP_SHA_1' }), rolling()));
    state.key = holding(undefined);
    await handler(update(rolling(), props()));
    expect(imports().map((i) => i.ValidTo)).toEqual([new Date(NOW.getTime() + 30 * DAY), new Date(NOW.getTime() + 30 * DAY)]);
  });
});

/** Each key ARN names a key of its own in the KMS model, holding the secret's material until `initial` until it is imported; returns a key's ValidTo. */
function useKeyPerArn(initial: Date): (keyArn: string) => Date {
  kmsModel.keyPerArn = (key) => key.force(holding(initial.toISOString()), state.material);
  kmsKey.force(holding(initial.toISOString()), state.material);
  return (keyArn: string) => kmsModel.keyFor(keyArn).current()!.validTo!;
}

describe('scheduled renewal', () => {
  test('re-imports every listed key, even one renewed an hour ago, returns a summary and logs the metric (function "unknown" outside Lambda)', async () => {
    useKeyPerArn(new Date(NOW.getTime() + 30 * DAY - 3600_000));
    const summary = await handler({ ImportedKmsKeyRenewal: [rolling(), rolling({ KeyArn: keyArn(2) })] });
    expect(summary).toEqual({ renewed: 2, unchanged: 0, failed: 0 });
    expect(output.map(parseLog).find((l) => l._aws)).toMatchObject({ FunctionName: 'unknown', RenewalFailures: 0 });
    // Raw on stdout: Lambda's JSON log format would wrap a console.log line and hide `_aws` from CloudWatch.
    const written = (process.stdout.write as jest.Mock).mock.calls.map(([chunk]) => String(chunk));
    expect(written.filter((line) => line.includes('"_aws"'))).toEqual([expect.stringMatching(/^\{"_aws":.*\}\n$/)]);
    expect((console.log as jest.Mock).mock.calls.flat().some((arg) => String(arg).includes('"_aws"'))).toBe(false);
    expect(output.map(parseLog).filter((l) => l.keyArn)).toEqual([
      { requestType: 'Renewal', keyArn: KEY_ARN, outcome: 'renewed' },
      { requestType: 'Renewal', keyArn: keyArn(2), outcome: 'renewed' },
    ]);
    expect(imports().map((i) => [i.KeyId, i.ImportType, i.ValidTo])).toEqual([
      [KEY_ARN, 'EXISTING_KEY_MATERIAL', new Date(NOW.getTime() + 30 * DAY)],
      [keyArn(2), 'EXISTING_KEY_MATERIAL', new Date(NOW.getTime() + 30 * DAY)],
    ]);
  });

  test.each(['Disabled', 'PendingDeletion'])('leaves a %s key to lapse: not renewed, and not a failure', async (keyState) => {
    state.key = holding(new Date(NOW.getTime() + 5 * DAY).toISOString(), keyState);
    expect(await handler({ ImportedKmsKeyRenewal: [rolling()] })).toEqual({ renewed: 0, unchanged: 1, failed: 0 });
    expect(imports()).toHaveLength(0);
    expect(output.map(parseLog).find((l) => l.keyArn)).toMatchObject({
      requestType: 'Renewal', outcome: 'unchanged', reason: `the key is ${keyState}, so it is not renewed and its material lapses at its expiration`,
    });
  });

  test('a key already renewed to the same second is left unchanged', async () => {
    state.key = holding(new Date(NOW.getTime() + 30 * DAY).toISOString());
    expect(await handler({ ImportedKmsKeyRenewal: [rolling()] })).toEqual({ renewed: 0, unchanged: 1, failed: 0 });
  });

  test('renews at most four keys at a time', async () => {
    const validToOf = useKeyPerArn(new Date(NOW.getTime() + 29 * DAY));
    let inFlight = 0;
    let peak = 0;
    kms.on(DescribeKeyCommand).callsFake(async ({ KeyId }: DescribeKeyCommandInput) => {
      inFlight++; peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { KeyMetadata: holding(validToOf(KeyId!).toISOString()) };
    });
    const keys = Array.from({ length: 10 }, (_, i) => rolling({ KeyArn: keyArn(i) }));
    expect(await handler({ ImportedKmsKeyRenewal: keys })).toEqual({ renewed: 10, unchanged: 0, failed: 0 });
    expect(peak).toBe(4);
  });

  test('a bug while renewing a key (an error that is not an ImportError) is logged with a generic reason, none of its text', async () => {
    jest.spyOn(plan, 'planImport').mockImplementation(() => { throw new TypeError(`bug ${state.material.toString('hex')}`); });
    await expect(handler({ ImportedKmsKeyRenewal: [rolling(), rolling({ KeyArn: keyArn(2) })] })).rejects.toThrow(`Renewing the material of 2 of 2 rolling keys failed (${KEY_ARN}, ${keyArn(2)}); `);
    expect(output.map(parseLog).find((l) => l.outcome === 'failed')).toEqual({ requestType: 'Renewal', keyArn: KEY_ARN, outcome: 'failed', reason: 'the renewal failed unexpectedly.' });
  });

  test('a failing key does not stop the others; the run fails with one sentence and a RenewalFailures metric', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:revoked-AbCdEf' }).rejects(awsError('ResourceNotFoundException'));
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'stack-ImportedKmsKeyProviderHandler';
    const keys = [rolling(), rolling({ KeyArn: keyArn(2), SecretId: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:revoked-AbCdEf' }), rolling({ KeyArn: keyArn(3) })];
    state.key = holding(new Date(NOW.getTime() + 10 * DAY).toISOString());
    await expect(handler({ ImportedKmsKeyRenewal: keys })).rejects.toThrow(`Renewing the material of 1 of 3 rolling keys failed (${keyArn(2)}); `
      + 'each key\'s reason is logged above. Lambda retries this run; fix the cause before the material lapses.');
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    expect(imports().map((i) => i.KeyId).sort()).toEqual([KEY_ARN, keyArn(3)].sort());
    const lines = output.map(parseLog);
    expect(lines.find((l) => l.outcome === 'failed')).toEqual({
      requestType: 'Renewal', keyArn: keyArn(2), outcome: 'failed', reason: expect.stringMatching(/\(ResourceNotFoundException\): the secret .* does not exist/) as unknown,
    });
    expect(lines.find((l) => l._aws)).toEqual({
      _aws: { Timestamp: NOW.getTime(), CloudWatchMetrics: [{ Namespace: 'ImportedKmsKey', Dimensions: [['FunctionName']], Metrics: [{ Name: 'RenewalFailures', Unit: 'Count' }] }] },
      FunctionName: 'stack-ImportedKmsKeyProviderHandler', RenewalFailures: 1, requestType: 'Renewal', renewed: 2, unchanged: 0,
    });
  });
});

test('an import the key policy briefly denies (its guardrails were just updated) is retried', async () => {
  let denials = 2;
  kms.on(ImportKeyMaterialCommand).callsFake((input: ImportKeyMaterialCommandInput) => {
    if (denials-- > 0) throw awsError('AccessDeniedException');
    state.key = holding(input.ValidTo?.toISOString());
    return {};
  });
  jest.useRealTimers();
  jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void) => { fn(); return 0; }) as never);
  await handler(create(props({ ValidTo: new Date(Date.now() + 40 * DAY).toISOString() })));
  expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(3);
});

test('a lapsed rolling key is not revived by a renewal, but is by a deploy that changes its expiration', async () => {
  state.key = { KeyId: KEY_ARN, KeyState: 'PendingImport' };
  expect(await handler({ ImportedKmsKeyRenewal: [rolling()] })).toEqual({ renewed: 0, unchanged: 1, failed: 0 });
  expect(output.map(parseLog).find((l) => l.keyArn)!.reason).toBe('the key has no material (it lapsed, or someone deleted it), and a renewal '
    + 'does not bring it back; a deploy that changes the key\'s expiration does (README: "Expiration models")');
  expect(imports()).toHaveLength(0);
  await handler(update(rolling({ RollingValidity: String(60 * 86_400), RenewalInterval: String(86_400) }), rolling()));
  expect(imports()[0]).toMatchObject({ ImportType: 'EXISTING_KEY_MATERIAL', ValidTo: new Date(NOW.getTime() + 60 * DAY) });
});
