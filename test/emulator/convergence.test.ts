/**
 * Deploys that never wedge, on the synthesized bundle against local-kms and moto, with a proxy in
 * front of KMS that counts calls and injects faults: rollbacks after a rotated secret or to a
 * passed expiration, repeated Creates, Disabled keys, broken networks and throttling.
 */
import { DisableKeyCommand } from '@aws-sdk/client-kms';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { KeyMaterialExpiration } from '../../lib';
import { ApiProxy, startResettingEndpoint } from '../../tools/api-proxy';
import { EmulatedDeployment } from '../../tools/emulated-deployment';
import { EmulatorHarness, failureOf } from '../support/emulator-harness';
import { expectNoLeak } from '../support/keys';

jest.setTimeout(120_000);

const h = new EmulatorHarness();
let proxy: ApiProxy;
let secretsProxy: ApiProxy;

beforeAll(async () => {
  proxy = new ApiProxy(h.emulators.kmsEndpoint);
  secretsProxy = new ApiProxy(h.emulators.secretsEndpoint);
  await Promise.all([proxy.start(), secretsProxy.start()]);
});
afterAll(() => Promise.all([proxy?.stop(), secretsProxy?.stop()]));
const resetProxies = () => { proxy.reset(); secretsProxy.reset(); };
beforeEach(resetProxies);

/** Sends the handler's KMS and Secrets Manager calls through the counting proxies. */
function throughProxies(deployment: EmulatedDeployment): EmulatedDeployment {
  deployment.envOverrides = { AWS_ENDPOINT_URL_KMS: proxy.url, AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsProxy.url };
  return deployment;
}

/** A key created and imported through the proxy, with its properties as CloudFormation sent them. */
async function deployedKey(expiration?: KeyMaterialExpiration) {
  const material = h.newMaterial();
  const secretArn = await h.newSecret({ SecretBinary: material });
  const deployment = throughProxies(await h.deploy([{ id: 'Key', secretArn, expiration }]));
  const props = deployment.properties('Key');
  expect((await h.invoke(deployment, deployment.createEvent('Key')))[0].status).toBe('SUCCESS');
  resetProxies();
  return { deployment, props, secretArn, keyArn: deployment.keyArn('Key') };
}

test('Create: five calls (DescribeKey, secret, parameters, import, confirming DescribeKey); a converged Update makes no import', async () => {
  const material = h.newMaterial();
  const deployment = throughProxies(await h.deploy([{ id: 'Key', secretArn: await h.newSecret({ SecretBinary: material }) }]));
  const props = deployment.properties('Key');
  await h.invoke(deployment, deployment.createEvent('Key'));
  expect(Object.fromEntries([...proxy.counts, ...secretsProxy.counts])).toEqual({ DescribeKey: 2, GetParametersForImport: 1, ImportKeyMaterial: 1, GetSecretValue: 1 });

  resetProxies();
  const [result] = await h.invoke(deployment, deployment.updateEvent({ ...props, WrappingAlgorithm: 'RSAES_OAEP_SHA_1' }, props));
  expect(result.status).toBe('SUCCESS');
  expect(Object.fromEntries([...proxy.counts, ...secretsProxy.counts])).toEqual({ DescribeKey: 1, GetParametersForImport: 1, GetSecretValue: 1 });
});

test('a Create repeated after it succeeded succeeds again, and the key keeps decrypting', async () => {
  const { deployment, keyArn } = await deployedKey();
  const ciphertext = await h.encrypt(keyArn, Buffer.from('written after the first Create'));
  // CloudFormation re-sends a request after the previous one ended, never alongside it.
  const results = [...await h.invoke(deployment, deployment.createEvent('Key')), ...await h.invoke(deployment, deployment.createEvent('Key'))];
  expect(results.map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS']);
  expect(proxy.count('ImportKeyMaterial')).toBe(2);
  expect(await h.decrypt(keyArn, ciphertext)).toEqual(Buffer.from('written after the first Create'));
});

test('a repeated Create after the secret changed to other material fails, and the key keeps its material', async () => {
  const { deployment, keyArn, secretArn } = await deployedKey();
  const ciphertext = await h.encrypt(keyArn, Buffer.from('kept'));
  await h.secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretBinary: h.newMaterial() }));
  const [result] = await h.invoke(deployment, deployment.createEvent('Key'));
  expect(failureOf(result)).toMatch(/\(IncorrectKeyMaterialException\): KMS rejected the key material/);
  expect(await h.decrypt(keyArn, ciphertext)).toEqual(Buffer.from('kept'));
});

test('a rollback to an expiration that has passed in the meantime succeeds with one DescribeKey, and the key keeps its expiration', async () => {
  const { deployment, props, keyArn } = await deployedKey(KeyMaterialExpiration.at(h.inDays(30)));
  const later = { ...props, ValidTo: h.validTo(60) };
  expect((await h.invoke(deployment, deployment.updateEvent(later, props)))[0].status).toBe('SUCCESS');
  resetProxies();
  const passed = { ...props, ValidTo: new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  const [rollback] = await h.invoke(deployment, deployment.updateEvent(passed, later));
  expect(rollback).toMatchObject({ status: 'SUCCESS', response: { PhysicalResourceId: keyArn } });
  expect([proxy.total(), secretsProxy.total()]).toEqual([1, 0]);
  const metadata = await h.describeKey(keyArn);
  expect(metadata.KeyState).toBe('Enabled');
  expect(metadata.ValidTo).toEqual(h.inDays(60));
});

test('a Disabled key is not imported into or enabled by a deploy; the rollback succeeds', async () => {
  const { deployment, props, keyArn } = await deployedKey(KeyMaterialExpiration.at(h.inDays(30)));
  await h.kms.send(new DisableKeyCommand({ KeyId: keyArn }));
  const later = { ...props, ValidTo: h.validTo(45) };
  const [result] = await h.invoke(deployment, deployment.updateEvent(later, props));
  expect(failureOf(result)).toBe(`KMS key ${keyArn} is Disabled, and a deploy never imports into a disabled key or enables it (someone disabled it, perhaps on purpose). `
    + `If the key should be in use again, enable it (aws kms enable-key --key-id ${keyArn}), then deploy again.`);
  const [rollback] = await h.invoke(deployment, deployment.updateEvent(props, later));
  expect(rollback.status).toBe('SUCCESS');
  expect(proxy.count('ImportKeyMaterial')).toBe(0);
  const metadata = await h.describeKey(keyArn);
  expect(metadata.KeyState).toBe('Disabled');
  expect(metadata.ValidTo).toEqual(h.inDays(30));
});

test('persistent connection resets fail with the network sentence, after the SDK retried', async () => {
  const broken = await startResettingEndpoint();
  try {
    const deployment = await h.deploy([{ id: 'Key', secretArn: await h.newSecret({ SecretBinary: h.newMaterial() }) }]);
    deployment.envOverrides = { AWS_ENDPOINT_URL_KMS: broken.url };
    const [result] = await h.invoke(deployment, deployment.createEvent('Key'));
    expect(failureOf(result)).toMatch(/^Could not reach AWS KMS from the import handler \((ECONNRESET|EPIPE)\), even after retries\. Check the handler's network path/);
    // DescribeKey and GetParametersForImport, 5 attempts each.
    expect(broken.connections()).toBeGreaterThanOrEqual(10);
    expect((await h.describeKey(deployment.keyArn('Key'))).KeyState).toBe('PendingImport');
  } finally {
    await broken.stop();
  }
});

test('throttling on DescribeKey is retried by the SDK, and the Create succeeds', async () => {
  const deployment = throughProxies(await h.deploy([{ id: 'Key', secretArn: await h.newSecret({ SecretBinary: h.newMaterial() }) }]));
  proxy.failNext('DescribeKey', 3, 'ThrottlingException');
  const [result] = await h.invoke(deployment, deployment.createEvent('Key'));
  expect(result.status).toBe('SUCCESS');
  expect(proxy.count('DescribeKey')).toBe(3 + 2);
  expect((await h.describeKey(deployment.keyArn('Key'))).KeyState).toBe('Enabled');
});

test('no material ever appeared in handler output, responses or errors', () => {
  expect(h.materials.length).toBeGreaterThanOrEqual(8);
  expectNoLeak([...EmulatedDeployment.transcript, JSON.stringify(h.outcomes)].join('\n'), ...h.materials);
});
