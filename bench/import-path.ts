/**
 * 1. Import critical path and 4. concurrency, against the emulators: the synthesized handler
 * bundle's Create versus the minimal *confirmed* SDK sequence (DescribeKey, GetSecretValue and
 * GetParametersForImport in parallel; ImportKeyMaterial; one confirming DescribeKey), interleaved
 * in one process, plus API call counts per Create, per Update that moves the expiration, and per
 * Update with nothing to do.
 */
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { CreateKeyCommand, DescribeKeyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ImportedKmsKey, KeyMaterial, WrappingKeySpec } from '../lib';
import { ImportProperties } from '../lib/shared/contract';
import { synthesize } from '../tools/emulated-deployment';
import { Emulators } from '../tools/emulators';
import { ApiProxy } from '../tools/api-proxy';
import { median, round, timeMs } from './stats';

const RUNS = 41;
const WARMUP = 3;
const CONCURRENT = 50;

export async function benchImportPath(emulators: Emulators) {
  const kmsProxy = new ApiProxy(emulators.kmsEndpoint);
  const secretsProxy = new ApiProxy(emulators.secretsEndpoint);
  const env = { ...emulators.env, AWS_ENDPOINT_URL_KMS: await kmsProxy.start(), AWS_ENDPOINT_URL_SECRETS_MANAGER: await secretsProxy.start() };
  Object.assign(process.env, env);
  const config = { region: emulators.env.AWS_REGION, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } };
  // Set-up calls go straight to the emulators; measured calls go through the counting proxies.
  const setupKms = new KMSClient({ ...config, endpoint: emulators.kmsEndpoint });
  const setupSecrets = new SecretsManagerClient({ ...config, endpoint: emulators.secretsEndpoint });
  const kms = new KMSClient({ ...config, endpoint: env.AWS_ENDPOINT_URL_KMS });
  const secrets = new SecretsManagerClient({ ...config, endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER });

  const synthesized = synthesize((stack) => new ImportedKmsKey(stack, 'Key', {
    keyMaterial: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:x-AbCdEf')),
    wrappingKeySpec: WrappingKeySpec.RSA_2048,
  }));
  const template = Object.values(synthesized.imports)[0].properties as unknown as ImportProperties;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require(synthesized.bundle) as { handler: (event: object) => Promise<unknown> };

  async function freshKey(): Promise<ImportProperties> {
    const [{ KeyMetadata }, { ARN }] = await Promise.all([
      setupKms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' })),
      setupSecrets.send(new CreateSecretCommand({ Name: `bench-${randomBytes(6).toString('hex')}`, SecretBinary: randomBytes(32) })),
    ]);
    return { ...template, KeyArn: KeyMetadata!.Arn!, SecretId: ARN! };
  }

  const viaHandler = (props: ImportProperties) => handler({ RequestType: 'Create', ResourceProperties: props });
  async function minimalSequence(props: ImportProperties): Promise<void> {
    const [, secret, parameters] = await Promise.all([
      kms.send(new DescribeKeyCommand({ KeyId: props.KeyArn })),
      secrets.send(new GetSecretValueCommand({ SecretId: props.SecretId })),
      kms.send(new GetParametersForImportCommand({ KeyId: props.KeyArn, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' })),
    ]);
    const publicKey = createPublicKey({ key: Buffer.from(parameters.PublicKey!), format: 'der', type: 'spki' });
    await kms.send(new ImportKeyMaterialCommand({
      KeyId: props.KeyArn, ImportToken: parameters.ImportToken, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
      EncryptedKeyMaterial: publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(secret.SecretBinary!)),
    }));
    await kms.send(new DescribeKeyCommand({ KeyId: props.KeyArn }));
  }

  const handlerMs: number[] = [];
  const baselineMs: number[] = [];
  for (let i = 0; i < RUNS + WARMUP; i++) {
    const [a, b] = [await freshKey(), await freshKey()];
    // Alternate which goes first, so drift in the emulators affects both alike.
    const order = i % 2 ? [['h', a], ['b', b]] : [['b', b], ['h', a]];
    for (const [which, props] of order as Array<['h' | 'b', ImportProperties]>) {
      const ms = await timeMs(() => (which === 'h' ? viaHandler(props) : minimalSequence(props)));
      if (i >= WARMUP) (which === 'h' ? handlerMs : baselineMs).push(ms);
    }
  }

  const calls = async (fn: () => Promise<unknown>) => {
    kmsProxy.reset(); secretsProxy.reset();
    await fn();
    return { total: kmsProxy.total() + secretsProxy.total(), byOperation: Object.fromEntries([...kmsProxy.counts, ...secretsProxy.counts]) };
  };
  const counted = await freshKey();
  const perCreate = await calls(() => viaHandler(counted));
  const validTo = new Date(Math.floor(Date.now() / 1000) * 1000 + 30 * 86_400_000).toISOString().replace('.000Z', 'Z');
  const moved = { ...counted, ValidTo: validTo };
  const perUpdate = await calls(() => handler({ RequestType: 'Update', PhysicalResourceId: counted.KeyArn, ResourceProperties: moved, OldResourceProperties: counted }));
  // An Update with nothing to do for the key (another wrapping algorithm): it converges without importing.
  const perConvergedUpdate = await calls(() => handler({ RequestType: 'Update', PhysicalResourceId: counted.KeyArn, ResourceProperties: { ...moved, WrappingAlgorithm: 'RSAES_OAEP_SHA_1' }, OldResourceProperties: moved }));
  const perBaseline = await calls(async () => minimalSequence(await freshKey()).catch(() => undefined));

  const keys = await Promise.all(Array.from({ length: CONCURRENT }, freshKey));
  let failures = 0;
  const concurrentMs = await timeMs(() => Promise.all(keys.map((k) => viaHandler(k).catch(() => { failures++; }))));

  await Promise.all([kmsProxy.stop(), secretsProxy.stop()]);
  [setupKms, setupSecrets, kms, secrets].forEach((c) => c.destroy());
  return {
    importPath: {
      runs: RUNS,
      handlerMedianMs: round(median(handlerMs)),
      minimalSequenceMedianMs: round(median(baselineMs)),
      ratio: round(median(handlerMs) / median(baselineMs)),
      target: '<= 1.10',
    },
    apiCalls: {
      perCreate, perUpdate, perConvergedUpdate, minimalSequence: perBaseline,
      target: '5 per Create and per Update (the minimal confirmed sequence); no ImportKeyMaterial in an Update with nothing to do',
    },
    concurrency: { creates: CONCURRENT, succeeded: CONCURRENT - failures, wallMs: round(concurrentMs), createsPerSecond: round(CONCURRENT / (concurrentMs / 1000)) },
  };
}
