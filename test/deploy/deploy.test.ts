/**
 * `cdk deploy` for real: the project's pinned CDK CLI bootstraps, deploys, updates and destroys
 * stacks on MiniStack, a third-party CloudFormation engine that runs the Provider framework's Lambda
 * and the handler bundle as local processes. Every assertion reads the engine's state
 * (CloudFormation, KMS, EventBridge), never the handler's logs. One engine for the file; the cases
 * build on each other in order.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTargetsByRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListAliasesCommand } from '@aws-sdk/client-kms';
import * as kms from 'aws-cdk-lib/aws-kms';
import { KeyMaterialExpiration } from '../../lib';
import { DEPLOY_FLAGS, REPO_ROOT, stackEvents } from '../../tools/cdk-cli';
import { DeployedKey, synthesizeAssembly } from '../../tools/deploy-app';
import { MINISTACK_ACCOUNT, onlyLoopback } from '../../tools/ministack';
import { runCli } from '../support/cli-runner';
import { expectNoLeak } from '../support/keys';
import { MiniStackHarness, openMiniStackCiphertext } from '../support/ministack-harness';

jest.setTimeout(180_000);

const h = new MiniStackHarness();
const EXAMPLE = 'ImportedKmsKeyExample';
const CASES = 'ImportedKmsKeyDeployCases';
const CONSUMER = 'ImportedKmsKeyConsumer';
const message = Buffer.from('a message for the imported key');
const start = Math.floor(Date.now() / 1000) * 1000;
const inDays = (days: number) => new Date(start + days * 86_400_000);

/** Events of `stackName` for `logicalId` with `status`, in the order the engine recorded them. */
async function eventIndex(stackName: string, logicalId: string, status: string): Promise<number> {
  const events = await stackEvents(h.cfn, stackName);
  return events.findIndex((e) => e.LogicalResourceId === logicalId && e.ResourceStatus === status);
}

const deployCases = (keys: DeployedKey[]) =>
  h.cdk(['deploy', ...DEPLOY_FLAGS, '--app', synthesizeAssembly(CASES, keys), CASES]);

test('the engine listens on loopback only', () => {
  const listeners = h.engine.listeners();
  expect(listeners.length).toBeGreaterThan(0);
  expect(listeners.filter((line) => !onlyLoopback([line]))).toEqual([]);
});

test('cdk bootstrap creates the CDKToolkit stack', async () => {
  const run = await h.cdk(['bootstrap', `aws://${MINISTACK_ACCOUNT}/${h.engine.env.AWS_REGION}`, '--no-notices'], mkdtempSync(join(tmpdir(), 'bootstrap-')));
  expect(run.code).toBe(0);
  expect(await h.status('CDKToolkit')).toBe('CREATE_COMPLETE');
});

describe('the example app (cdk.json)', () => {
  const payments = h.newMaterial();
  const sessions = h.newMaterial();

  test('deploys: CREATE_COMPLETE, each key Enabled with its secret\'s material, aliases and grants after the import', async () => {
    await h.newSecret(payments, 'prod/payments/kms-material');
    await h.newSecret(sessions, 'prod/sessions/kms-material');
    const run = await h.cdk(['deploy', ...DEPLOY_FLAGS, '--output', mkdtempSync(join(tmpdir(), 'cdk-out-')), EXAMPLE]);
    expect(run.code).toBe(0);
    expect(await h.status(EXAMPLE)).toBe('CREATE_COMPLETE');

    for (const [id, material] of [['PaymentsKey', payments], ['SessionKey', sessions]] as const) {
      const keyArn = await h.keyOf(EXAMPLE, id);
      const key = await h.describeKey(keyArn);
      expect([key.KeyState, key.Origin]).toEqual(['Enabled', 'EXTERNAL']);
      const ciphertext = await h.encrypt(keyArn, message);
      expect(await h.decrypt(ciphertext)).toEqual(message);
      expect(openMiniStackCiphertext(ciphertext, material)).toEqual(message);
      expect(openMiniStackCiphertext(ciphertext, id === 'PaymentsKey' ? sessions : payments)).not.toEqual(message);
    }
    const sessionKey = await h.describeKey(await h.keyOf(EXAMPLE, 'SessionKey'));
    expect(sessionKey.ExpirationModel).toBe('KEY_MATERIAL_EXPIRES');
    expect(Math.abs(sessionKey.ValidTo!.getTime() - (Date.now() + 30 * 86_400_000))).toBeLessThan(10 * 60_000);

    const aliases = (await h.kms.send(new ListAliasesCommand({}))).Aliases ?? [];
    expect(aliases.find((a) => a.AliasName === 'alias/payments')?.TargetKeyId).toBe((await h.describeKey(await h.keyOf(EXAMPLE, 'PaymentsKey'))).KeyId);
    const imported = await eventIndex(EXAMPLE, 'PaymentsKeyImportEA313545', 'CREATE_COMPLETE');
    expect(imported).toBeGreaterThanOrEqual(0);
    for (const after of ['PaymentsKeyAlias232CEA83', 'PaymentsRoleDefaultPolicy0D2FCFC7']) {
      expect(await eventIndex(EXAMPLE, after, 'CREATE_IN_PROGRESS')).toBeGreaterThan(imported);
    }
  });

  test('the rolling key\'s renewal rule invokes the handler, which moves ValidTo forward', async () => {
    // MiniStack runs schedules, but rate(1440 minutes) fires a day later: the test invokes the
    // rule's target with the rule's input, as EventBridge would, both read from the engine.
    const events = new EventBridgeClient({ region: h.engine.env.AWS_REGION, endpoint: h.engine.endpoint, credentials: { accessKeyId: 'ministack', secretAccessKey: 'ministack' } });
    const lambda = new LambdaClient({ region: h.engine.env.AWS_REGION, endpoint: h.engine.endpoint, credentials: { accessKeyId: 'ministack', secretAccessKey: 'ministack' } });
    try {
      // The provider's renewal rule (the example also has a rule on out-of-band material changes).
      const [rule] = Object.entries(await h.resources(EXAMPLE, 'AWS::Events::Rule')).filter(([id]) => id.startsWith('ImportedKmsKeyProviderRenewal')).map(([, r]) => r);
      const { Targets } = await events.send(new ListTargetsByRuleCommand({ Rule: rule.PhysicalResourceId }));
      expect(Targets).toHaveLength(1);
      const sessionArn = await h.keyOf(EXAMPLE, 'SessionKey');
      const before = (await h.describeKey(sessionArn)).ValidTo!;
      await new Promise((r) => setTimeout(r, 1_100));
      const result = await lambda.send(new InvokeCommand({ FunctionName: Targets![0].Arn, Payload: Buffer.from(Targets![0].Input!) }));
      expect(result.FunctionError).toBeUndefined();
      const after = await h.describeKey(sessionArn);
      expect(after.ValidTo!.getTime()).toBeGreaterThan(before.getTime());
      expect(after.KeyState).toBe('Enabled');
      const payments = await h.describeKey(await h.keyOf(EXAMPLE, 'PaymentsKey'));
      expect(payments.ExpirationModel).toBe('KEY_MATERIAL_DOES_NOT_EXPIRE');
    } finally {
      events.destroy();
      lambda.destroy();
    }
  });

  test('the operator CLI: status --stack lists both keys from the engine\'s CloudFormation and KMS; verify round-trips the symmetric key', async () => {
    const cli = async (args: string[]) => {
      const run = await runCli(args, {}, h.engine.env);
      h.cliOutput.push(run.stdout, run.stderr);
      return run;
    };
    const run = await cli(['status', '--stack', EXAMPLE, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { keys: Array<{ keyId: string; aliases: string[]; keyState: string; mode: string; expirationModel: string; daysLeft?: number; attention: string[] }> };
    const [payments, session] = [await h.keyOf(EXAMPLE, 'PaymentsKey'), await h.keyOf(EXAMPLE, 'SessionKey')];
    // keyOf gives the key id (the AWS::KMS::Key's physical id).
    expect(out.keys.map((k) => k.keyId).sort()).toEqual([payments, session].sort());
    const byId = Object.fromEntries(out.keys.map((k) => [k.keyId, k]));
    expect(byId[payments]).toMatchObject({ aliases: ['alias/payments'], keyState: 'Enabled', mode: 'secrets-manager', expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', attention: [] });
    expect(byId[session]).toMatchObject({ keyState: 'Enabled', mode: 'secrets-manager', expirationModel: 'KEY_MATERIAL_EXPIRES', attention: [] });
    expect(byId[session].daysLeft).toBeCloseTo(30, 0);
    // A warning window past the rolling key's ValidTo: it needs attention, exit 1 (for a cron job).
    expect((await cli(['status', '--stack', EXAMPLE, '--warn-days', '31'])).code).toBe(1);
    const verified = await cli(['verify', '--key', payments]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^WORKS: .+ \(SYMMETRIC_DEFAULT\) encrypts and decrypts/);
  });

  test('cdk destroy removes the stack and keeps both keys (RETAIN)', async () => {
    const keys = [await h.keyOf(EXAMPLE, 'PaymentsKey'), await h.keyOf(EXAMPLE, 'SessionKey')];
    const run = await h.cdk(['destroy', '--force', EXAMPLE]);
    expect(run.code).toBe(0);
    await expect(h.status(EXAMPLE)).rejects.toThrow();
    for (const key of keys) expect((await h.describeKey(key)).KeyState).toBe('Enabled');
  });
});

describe('Updates, a failing Update, rotation and destroy (a stack synthesized in-process)', () => {
  const fixed = h.newMaterial();
  const hmac = h.newMaterial();
  const first = h.newMaterial();
  const second = h.newMaterial();
  const secrets: Record<string, string> = {};
  let before: Uint8Array;
  const keys = (fixedDays: number, rotated: boolean): DeployedKey[] => [
    { id: 'Fixed', secretArn: secrets.fixed, expiration: KeyMaterialExpiration.at(inDays(fixedDays)) },
    { id: 'Mac', secretArn: secrets.hmac, keySpec: kms.KeySpec.HMAC_256, shred: true },
    rotated
      ? { id: 'Rotating', secretArn: secrets.second, previousSecretArns: [secrets.first] }
      : { id: 'Rotating', secretArn: secrets.first },
  ];

  beforeAll(async () => {
    Object.assign(secrets, { fixed: await h.newSecret(fixed), hmac: await h.newSecret(hmac), first: await h.newSecret(first), second: await h.newSecret(second) });
  });

  test('Create: each key holds its secret\'s material; the HMAC key\'s MAC equals node:crypto\'s', async () => {
    const run = await deployCases(keys(30, false));
    expect(run.code).toBe(0);
    expect(await h.status(CASES)).toBe('CREATE_COMPLETE');
    const fixedArn = await h.keyOf(CASES, 'Fixed');
    before = await h.encrypt(fixedArn, message);
    expect(openMiniStackCiphertext(before, fixed)).toEqual(message);
    expect((await h.describeKey(fixedArn)).ValidTo).toEqual(inDays(30));
    const macKey = await h.keyOf(CASES, 'Mac');
    expect((await h.describeKey(macKey)).KeyState).toBe('Enabled');
    const { engine, local } = await h.macs(macKey, hmac, message);
    expect(engine).toEqual(local);
  });

  test('an Update moving the expiration: UPDATE_COMPLETE, ValidTo moved, no other import', async () => {
    const importsBefore = await h.kmsCalls('ImportKeyMaterial');
    const run = await deployCases(keys(60, false));
    expect(run.code).toBe(0);
    expect(await h.status(CASES)).toBe('UPDATE_COMPLETE');
    expect((await h.describeKey(await h.keyOf(CASES, 'Fixed'))).ValidTo).toEqual(inDays(60));
    // MiniStack sends an Update to every custom resource of the stack, changed or not (CloudFormation
    // sends it only to changed ones): the handler answers the unchanged ones without importing.
    const importsAfter = await h.kmsCalls('ImportKeyMaterial');
    const fixedKeyId = (await h.describeKey(await h.keyOf(CASES, 'Fixed'))).KeyId!;
    const ofFixed = (calls: string[]) => calls.filter((keyId) => keyId.includes(fixedKeyId)).length;
    expect(importsBefore.length).toBeGreaterThanOrEqual(3);
    expect(importsAfter.length - importsBefore.length).toBe(1);
    expect(ofFixed(importsAfter) - ofFixed(importsBefore)).toBe(1);
    expect(await h.decrypt(before)).toEqual(message);
  });

  test('a failing Update (the secret now holds 31 bytes) ends UPDATE_ROLLBACK_COMPLETE with the key unchanged', async () => {
    await h.putSecret(secrets.fixed, h.newMaterial(31));
    const run = await deployCases(keys(90, false));
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/32 bytes/);
    expect(await h.status(CASES)).toBe('UPDATE_ROLLBACK_COMPLETE');
    const key = await h.describeKey(await h.keyOf(CASES, 'Fixed'));
    expect([key.KeyState, key.ValidTo]).toEqual(['Enabled', inDays(60)]);
    expect(openMiniStackCiphertext(await h.encrypt(key.Arn!, message), fixed)).toEqual(message);
    await h.putSecret(secrets.fixed, fixed);
  });

  test('rotation (a second material appended): MiniStack has no RotateKeyOnDemand, so the Update fails and rolls back (probe: its import replaced the material)', async () => {
    const run = await deployCases(keys(60, true));
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/RotateKeyOnDemand/);
    expect(await h.status(CASES)).toBe('UPDATE_ROLLBACK_COMPLETE');
    const rotating = await h.keyOf(CASES, 'Rotating');
    expect((await h.describeKey(rotating)).KeyState).toBe('Enabled');
    const ciphertext = await h.encrypt(rotating, message);
    expect(await h.decrypt(ciphertext)).toEqual(message);
    // MiniStack ignores ImportType: the NEW_KEY_MATERIAL import replaced the current material
    // instead of adding a pending one (a gap: docs/emulators.md; LocalStack's rotation test covers it).
    expect(openMiniStackCiphertext(ciphertext, second)).toEqual(message);
  });

  test('cdk destroy: the RETAIN keys stay Enabled, the shredding key loses its material and is scheduled for deletion', async () => {
    const [fixedArn, macArn, rotating] = [await h.keyOf(CASES, 'Fixed'), await h.keyOf(CASES, 'Mac'), await h.keyOf(CASES, 'Rotating')];
    const macKeyId = (await h.describeKey(macArn)).KeyId!;
    const run = await h.cdk(['destroy', '--force', '--app', synthesizeAssembly(CASES, keys(60, false)), CASES]);
    expect(run.code).toBe(0);
    await expect(h.status(CASES)).rejects.toThrow();
    expect((await h.describeKey(fixedArn)).KeyState).toBe('Enabled');
    expect((await h.describeKey(rotating)).KeyState).toBe('Enabled');
    expect(await h.decrypt(before)).toEqual(message);
    expect((await h.describeKey(macArn)).KeyState).toBe('PendingDeletion');
    const shredded = await h.kmsCalls('DeleteImportedKeyMaterial');
    expect(shredded.filter((keyId) => keyId.includes(macKeyId))).toHaveLength(1);
    expect(shredded).toHaveLength(1);
  });
});

describe('a consumer app installed from the packed tarball (npm pack, npm install, cdk deploy)', () => {
  const material = h.newMaterial();
  let app: string;

  beforeAll(() => {
    // The package as users get it: `npm pack` of the built repository (npm test builds first), then
    // installed beside the aws-cdk-lib and constructs the repository develops against.
    app = mkdtempSync(join(tmpdir(), 'deploy-consumer-'));
    const [pack] = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', app], { cwd: REPO_ROOT, encoding: 'utf8' })) as Array<{ filename: string }>;
    const dev = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;
    writeFileSync(join(app, 'package.json'), JSON.stringify({
      name: 'consumer', private: true,
      dependencies: { 'imported-kms-key': `file:./${pack.filename}`, 'aws-cdk-lib': dev['aws-cdk-lib'], constructs: dev.constructs },
    }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, stdio: 'ignore' });
    writeFileSync(join(app, 'app.js'), [
      "const { App, Stack } = require('aws-cdk-lib');",
      "const iam = require('aws-cdk-lib/aws-iam');",
      "const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');",
      "const { ImportedKmsKey, KeyMaterial, KeyMaterialExpiration } = require('imported-kms-key');",
      'const app = new App();',
      `const stack = new Stack(app, '${CONSUMER}');`,
      "const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Material', process.env.CONSUMER_SECRET_ARN);",
      "const key = new ImportedKmsKey(stack, 'ConsumerKey', { keyMaterial: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.never(), alias: 'alias/consumer' });",
      "key.grantEncryptDecrypt(new iam.Role(stack, 'ConsumerRole', { assumedBy: new iam.AccountRootPrincipal() }));",
      'app.synth();',
    ].join('\n'));
  }, 300_000);

  test('deploys from the installed package: CREATE_COMPLETE, the key Enabled with the secret\'s material, its alias; destroy keeps the key', async () => {
    process.env.CONSUMER_SECRET_ARN = await h.newSecret(material);
    try {
      const run = await h.cdk(['deploy', ...DEPLOY_FLAGS, '--app', 'node app.js', '--output', mkdtempSync(join(tmpdir(), 'cdk-out-')), CONSUMER], app);
      expect(run.code).toBe(0);
      expect(await h.status(CONSUMER)).toBe('CREATE_COMPLETE');
      const keyArn = await h.keyOf(CONSUMER, 'ConsumerKey');
      expect((await h.describeKey(keyArn)).KeyState).toBe('Enabled');
      expect(openMiniStackCiphertext(await h.encrypt(keyArn, message), material)).toEqual(message);
      const aliases = (await h.kms.send(new ListAliasesCommand({}))).Aliases ?? [];
      expect(aliases.find((a) => a.AliasName === 'alias/consumer')?.TargetKeyId).toBe((await h.describeKey(keyArn)).KeyId);
      // The handler the engine ran is the package's bundle, byte for byte.
      const shipped = readFileSync(join(app, 'node_modules', 'imported-kms-key', 'assets', 'import-handler', 'index.js'));
      expect(shipped.equals(readFileSync(join(REPO_ROOT, 'assets', 'import-handler', 'index.js')))).toBe(true);
      expectNoLeak(run.output, material);
      const destroy = await h.cdk(['destroy', '--force', '--app', 'node app.js', CONSUMER], app);
      expect(destroy.code).toBe(0);
      expect((await h.describeKey(keyArn)).KeyState).toBe('Enabled');
    } finally {
      delete process.env.CONSUMER_SECRET_ARN;
    }
  });
});

test('no material in any stack event, output, CLI output or log the engine wrote', async () => {
  const written = await h.everythingWritten(['CDKToolkit', EXAMPLE, CASES, CONSUMER]);
  expect(written.length).toBeGreaterThan(10_000);
  expectNoLeak(written, ...h.materials);
});

test('still on loopback only after functions ran', () => {
  expect(h.engine.listeners().filter((line) => !onlyLoopback([line]))).toEqual([]);
});
