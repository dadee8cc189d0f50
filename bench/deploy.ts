/**
 * `npm run bench:deploy` (not part of npm test): `cdk deploy` time on MiniStack of a stack of N
 * ImportedKmsKeys beside a stack of N plain kms.Key, in one run (the ratio), for N = 1, 10 and 50,
 * and the handler's KMS and Secrets Manager calls per key (the engine's CloudTrail). Merges
 * `deployOnMiniStack` into bench/results.json.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { cdkOk, DEPLOY_FLAGS } from '../tools/cdk-cli';
import { DeployedKey, synthesizeAssembly } from '../tools/deploy-app';
import { MINISTACK_ACCOUNT, MiniStack, recordedCalls, startMiniStack } from '../tools/ministack';

const SIZES = [1, 10, 50];

async function handlerCalls(engine: MiniStack): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const source of ['kms.amazonaws.com', 'secretsmanager.amazonaws.com']) {
    for (const call of await recordedCalls(engine, undefined, source)) counts[call.eventName] = (counts[call.eventName] ?? 0) + 1;
  }
  return counts;
}

const minus = (after: Record<string, number>, before: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(after).map(([name, n]): [string, number] => [name, n - (before[name] ?? 0)]).filter(([, n]) => n > 0));

async function main() {
  const engine = await startMiniStack();
  const secrets = new SecretsManagerClient({ region: engine.env.AWS_REGION, endpoint: engine.endpoint, credentials: { accessKeyId: 'ministack', secretAccessKey: 'ministack' } });
  const rows = [];
  try {
    await cdkOk(['bootstrap', `aws://${MINISTACK_ACCOUNT}/${engine.env.AWS_REGION}`, '--no-notices'], engine.env, mkdtempSync(join(tmpdir(), 'bench-')));
    for (const n of SIZES) {
      const plain = await cdkOk(['deploy', ...DEPLOY_FLAGS, '--app', synthesizeAssembly(`Plain${n}`, [], n), `Plain${n}`], engine.env);
      const keys: DeployedKey[] = [];
      for (let i = 0; i < n; i++) {
        const { ARN } = await secrets.send(new CreateSecretCommand({ Name: `bench-${n}-${i}`, SecretBinary: randomBytes(32) }));
        keys.push({ id: `Key${i}`, secretArn: ARN! });
      }
      const before = await handlerCalls(engine);
      const imported = await cdkOk(['deploy', ...DEPLOY_FLAGS, '--app', synthesizeAssembly(`Imported${n}`, keys), `Imported${n}`], engine.env);
      const calls = minus(await handlerCalls(engine), before);
      delete calls.CreateKey; // CloudFormation's, not the handler's
      const total = Object.values(calls).reduce((a, b) => a + b, 0);
      rows.push({
        keys: n,
        importedDeploySeconds: Number(imported.seconds.toFixed(1)),
        plainDeploySeconds: Number(plain.seconds.toFixed(1)),
        ratio: Number((imported.seconds / plain.seconds).toFixed(2)),
        handlerCallsPerKey: Number((total / n).toFixed(2)),
        handlerCallsByOperation: calls,
      });
      console.log(JSON.stringify(rows.at(-1)));
    }
  } finally {
    secrets.destroy();
    await engine.stop();
  }
  const path = join(__dirname, 'results.json');
  const results = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> : {};
  results.deployOnMiniStack = {
    date: new Date().toISOString(),
    engine: 'MiniStack 1.5.33 on 127.0.0.1, aws-cdk CLI 2.1148.1; wall time of `cdk deploy --app <assembly>` (one run each, synth excluded)',
    rows,
  };
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  console.log('wrote deployOnMiniStack to bench/results.json');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
