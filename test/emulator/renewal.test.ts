/**
 * Rolling expiration on the synthesized bundle against local-kms and moto: the renewal events are
 * the rule target inputs of the synthesized template, with the imports' key ARNs resolved.
 */
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { Duration } from 'aws-cdk-lib';
import { KeyMaterialExpiration } from '../../lib';
import { EmulatedDeployment } from '../../tools/emulated-deployment';
import { EmulatorHarness, failureOf } from '../support/emulator-harness';
import { expectNoLeak } from '../support/keys';
import { parseLog } from '../../tools/template';

jest.setTimeout(120_000);

const h = new EmulatorHarness();
const rolling = (days: number) => KeyMaterialExpiration.rolling(Duration.days(days));
const nowSeconds = () => Math.floor(Date.now() / 1000) * 1000;

test('a renewal run moves ValidTo forward for every rolling key, leaves the others alone, and reports the one that fails', async () => {
  const secretArn = async () => h.newSecret({ SecretBinary: h.newMaterial() });
  const revoked = await secretArn();
  const deployment = await h.deploy([
    { id: 'RollingA', secretArn: await secretArn(), expiration: rolling(30) },
    { id: 'RollingB', secretArn: await secretArn(), expiration: rolling(7) },
    { id: 'RollingGone', secretArn: revoked, expiration: rolling(30) },
    { id: 'Fixed', secretArn: await secretArn(), expiration: KeyMaterialExpiration.at(h.inDays(60)) },
    { id: 'Never', secretArn: await secretArn() },
  ]);
  const ids = ['RollingA', 'RollingB', 'Fixed', 'Never'];
  const beforeCreate = nowSeconds();
  const created = await h.invoke(deployment, ...[...ids, 'RollingGone'].map((id) => deployment.createEvent(id)));
  expect(created.map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
  // Someone revokes one key's secret: its renewals fail, and the key will lapse within its validity.
  await h.secrets.send(new DeleteSecretCommand({ SecretId: revoked, ForceDeleteWithoutRecovery: true }));
  const rollingA = await h.describeKey(deployment.keyArn('RollingA'));
  expect(rollingA.ExpirationModel).toBe('KEY_MATERIAL_EXPIRES');
  expect(rollingA.ValidTo!.getTime()).toBeGreaterThanOrEqual(beforeCreate + 30 * 86_400_000);
  const ciphertext = await h.encrypt(deployment.keyArn('RollingA'), Buffer.from('written before the renewal'));
  const before = Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await h.describeKey(deployment.keyArn(id))] as const)));

  await new Promise((r) => setTimeout(r, 1100)); // ValidTo has whole seconds
  const events = deployment.renewalEvents();
  expect(events).toHaveLength(1);
  const renewalStart = nowSeconds();
  const [run] = await h.invoke(deployment, ...events);

  // The failing key fails the run (so Lambda retries it) after every other key was renewed.
  expect(failureOf(run)).toBe(`Renewing the material of 1 of 3 rolling keys failed (${deployment.keyArn('RollingGone')}); `
    + 'each key\'s reason is logged above. Lambda retries this run; fix the cause before the material lapses.');
  for (const [id, days] of [['RollingA', 30], ['RollingB', 7]] as const) {
    const after = await h.describeKey(deployment.keyArn(id));
    expect(after.KeyState).toBe('Enabled');
    expect(after.ValidTo!.getTime()).toBeGreaterThan(before[id].ValidTo!.getTime());
    expect(after.ValidTo!.getTime()).toBeGreaterThanOrEqual(renewalStart + days * 86_400_000);
  }
  for (const id of ['Fixed', 'Never']) expect(await h.describeKey(deployment.keyArn(id))).toEqual(before[id]);
  expect(await h.decrypt(deployment.keyArn('RollingA'), ciphertext)).toEqual(Buffer.from('written before the renewal'));

  // One log line per key, and one Embedded Metric Format line with the failures.
  const lines = EmulatedDeployment.transcript[EmulatedDeployment.transcript.length - 2].split('\n').filter((l) => l.startsWith('{'));
  const logged = lines.map(parseLog);
  expect(logged.filter((l) => l.requestType === 'Renewal' && l.keyArn).map((l) => l.outcome).sort()).toEqual(['failed', 'renewed', 'renewed']);
  expect(logged.find((l) => l.outcome === 'failed')!.reason).toMatch(/^Could not read the key material from secret .*\(ResourceNotFoundException\)/);
  const metric = logged.find((l) => l._aws);
  expect(metric).toMatchObject({
    _aws: { CloudWatchMetrics: [{ Namespace: 'ImportedKmsKey', Dimensions: [['FunctionName']], Metrics: [{ Name: 'RenewalFailures', Unit: 'Count' }] }] },
    RenewalFailures: 1, renewed: 2,
  });
});

test('no material ever appeared in handler output, responses or errors', () => {
  expect(h.materials.length).toBeGreaterThanOrEqual(5);
  expectNoLeak([...EmulatedDeployment.transcript, JSON.stringify(h.outcomes)].join('\n'), ...h.materials);
});
