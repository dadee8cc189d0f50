/**
 * `npm run demo`: the construct working end to end with no AWS account. Starts MiniStack (a local
 * CloudFormation engine) on 127.0.0.1, stores random material in its Secrets Manager, bootstraps and
 * deploys the example app with the pinned CDK CLI, encrypts and decrypts a message with the imported
 * key, destroys the stack and stops the engine. The material is never printed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { cdkOk, DEPLOY_FLAGS } from './cdk-cli';
import { MINISTACK_ACCOUNT, startMiniStack } from './ministack';

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const started = Date.now();
  say('starting MiniStack on 127.0.0.1 ...');
  const engine = await startMiniStack();
  const config = { region: engine.env.AWS_REGION, endpoint: engine.endpoint, credentials: { accessKeyId: 'ministack', secretAccessKey: 'ministack' } };
  const secrets = new SecretsManagerClient(config);
  const kms = new KMSClient(config);
  try {
    say(`MiniStack at ${engine.endpoint}; storing 32 random bytes in prod/payments/kms-material and prod/sessions/kms-material`);
    for (const name of ['prod/payments/kms-material', 'prod/sessions/kms-material']) {
      await secrets.send(new CreateSecretCommand({ Name: name, SecretBinary: randomBytes(32) }));
    }
    say('npx cdk bootstrap ...');
    await cdkOk(['bootstrap', `aws://${MINISTACK_ACCOUNT}/${engine.env.AWS_REGION}`, '--no-notices'], engine.env, mkdtempSync(join(tmpdir(), 'demo-')));
    const output = mkdtempSync(join(tmpdir(), 'demo-cdk-out-'));
    say('npx cdk deploy ImportedKmsKeyExample (example/app.ts) ...');
    const deploy = await cdkOk(['deploy', ...DEPLOY_FLAGS, '--output', output, 'ImportedKmsKeyExample'], engine.env);
    say(`deployed in ${deploy.seconds.toFixed(1)} s`);

    const key = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/payments' }))).KeyMetadata!;
    say(`alias/payments -> ${key.KeyId}: ${key.KeyState}, Origin ${key.Origin}, ${key.ExpirationModel}`);
    const message = 'Hello from an imported KMS key';
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: 'alias/payments', Plaintext: Buffer.from(message) }));
    say(`Encrypt("${message}") -> ${CiphertextBlob!.length} bytes of ciphertext`);
    const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob }));
    const decrypted = Buffer.from(Plaintext!).toString();
    say(`Decrypt -> "${decrypted}"`);
    if (decrypted !== message) throw new Error('the decrypted message differs from the one encrypted');

    say('npx cdk destroy ImportedKmsKeyExample ...');
    await cdkOk(['destroy', '--force', '--output', output, 'ImportedKmsKeyExample'], engine.env);
  } finally {
    secrets.destroy();
    kms.destroy();
    await engine.stop();
  }
  say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s: MiniStack stopped, its state removed`);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
