/**
 * What the test/deploy suites share: one MiniStack per test file (started in beforeAll, always
 * stopped in afterAll), SDK clients on it, the materials stored (for the leak scan), the CLI output
 * collected, and ways to read the engine's state.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { CloudFormationClient, DescribeStackResourcesCommand, StackResource } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateMacCommand, KMSClient, KeyMetadata } from '@aws-sdk/client-kms';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CliRun, describeStack, runCdk, stackEvents } from '../../tools/cdk-cli';
import { MiniStack, recordedCalls, startMiniStack } from '../../tools/ministack';

export class MiniStackHarness {
  public readonly materials: Buffer[] = [];
  public readonly cliOutput: string[] = [];
  public engine!: MiniStack;
  public kms!: KMSClient;
  public secrets!: SecretsManagerClient;
  public cfn!: CloudFormationClient;
  public logs!: CloudWatchLogsClient;

  constructor() {
    beforeAll(async () => {
      this.engine = await startMiniStack();
      const config = { region: this.engine.env.AWS_REGION, endpoint: this.engine.endpoint, credentials: { accessKeyId: 'ministack', secretAccessKey: 'ministack' } };
      this.kms = new KMSClient(config);
      this.secrets = new SecretsManagerClient(config);
      this.cfn = new CloudFormationClient(config);
      this.logs = new CloudWatchLogsClient(config);
    }, 60_000);
    afterAll(async () => {
      for (const client of [this.kms, this.secrets, this.cfn, this.logs]) client?.destroy();
      await this.engine?.stop();
    });
  }

  /** Runs the pinned CDK CLI against the engine; its output is kept for the leak scan. */
  public async cdk(args: string[], cwd?: string): Promise<CliRun> {
    const run = await runCdk(args, this.engine.env, cwd);
    this.cliOutput.push(run.output);
    return run;
  }

  public newMaterial(length = 32): Buffer {
    const material = randomBytes(length);
    this.materials.push(material);
    return material;
  }

  public async newSecret(material: Buffer, name = `material-${randomBytes(6).toString('hex')}`): Promise<string> {
    return (await this.secrets.send(new CreateSecretCommand({ Name: name, SecretBinary: material }))).ARN!;
  }

  /** Stores `material` as the secret's new AWSCURRENT version. */
  public async putSecret(secretArn: string, material: Buffer): Promise<void> {
    await this.secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretBinary: material }));
  }

  public async status(stackName: string): Promise<string> {
    return (await describeStack(this.cfn, stackName)).StackStatus!;
  }

  /** The stack's resources of `type`, by logical id. */
  public async resources(stackName: string, type: string): Promise<Record<string, StackResource>> {
    const { StackResources } = await this.cfn.send(new DescribeStackResourcesCommand({ StackName: stackName }));
    return Object.fromEntries((StackResources ?? []).filter((r) => r.ResourceType === type).map((r) => [r.LogicalResourceId!, r]));
  }

  /** The key ARN of the ImportedKmsKey with construct id `id` (its AWS::KMS::Key's logical id starts with it). */
  public async keyOf(stackName: string, id: string): Promise<string> {
    const keys = Object.entries(await this.resources(stackName, 'AWS::KMS::Key')).filter(([logicalId]) => logicalId.startsWith(id));
    if (keys.length !== 1) throw new Error(`expected one key ${id} in ${stackName}, got ${keys.length}`);
    return keys[0][1].PhysicalResourceId!;
  }

  public async describeKey(keyId: string): Promise<KeyMetadata> {
    return (await this.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
  }

  public async encrypt(keyId: string, plaintext: Buffer): Promise<Uint8Array> {
    return (await this.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }))).CiphertextBlob!;
  }

  public async decrypt(ciphertext: Uint8Array): Promise<Buffer> {
    return Buffer.from((await this.kms.send(new DecryptCommand({ CiphertextBlob: ciphertext }))).Plaintext!);
  }

  /** GenerateMac (HMAC_SHA_256) by the engine, and node:crypto's HMAC of the same message with `material`. */
  public async macs(keyId: string, material: Buffer, message: Buffer): Promise<{ engine: Buffer; local: Buffer }> {
    const { Mac } = await this.kms.send(new GenerateMacCommand({ KeyId: keyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
    return { engine: Buffer.from(Mac!), local: createHmac('sha256', material).update(message).digest() };
  }

  /** The key ids of the KMS calls named `eventName` the engine's CloudTrail recorded. */
  public async kmsCalls(eventName: string): Promise<string[]> {
    return (await recordedCalls(this.engine, eventName)).map((call) => call.requestParameters?.KeyId ?? '');
  }

  /** Every stack event and output, the CLI output, every log group's events, the engine's CloudTrail and every log it wrote. */
  public async everythingWritten(stackNames: string[]): Promise<string> {
    const parts = [...this.cliOutput, this.engine.logs(), JSON.stringify(await recordedCalls(this.engine))];
    for (const name of stackNames) {
      parts.push(JSON.stringify(await stackEvents(this.cfn, name).catch(() => [])));
      parts.push(JSON.stringify((await describeStack(this.cfn, name).catch(() => undefined))?.Outputs ?? []));
    }
    const { logGroups } = await this.logs.send(new DescribeLogGroupsCommand({}));
    for (const group of logGroups ?? []) {
      let nextToken: string | undefined;
      do {
        const page = await this.logs.send(new FilterLogEventsCommand({ logGroupName: group.logGroupName, nextToken }));
        parts.push(...(page.events ?? []).map((e) => e.message ?? ''));
        nextToken = page.nextToken;
      } while (nextToken);
    }
    return parts.join('\n');
  }
}

/**
 * Opens a MiniStack symmetric ciphertext with `material`, without the engine: its layout (read in
 * ministack/services/kms.py, 1.5.33) is key id (36) + SHA-256 of the context (32) + nonce (16) +
 * plaintext XOR a SHA-256 counter stream keyed by SHA-256(material + context JSON + nonce). Not AES:
 * it only shows which 32 bytes the key holds.
 */
export function openMiniStackCiphertext(ciphertext: Uint8Array, material: Buffer): Buffer {
  const blob = Buffer.from(ciphertext);
  const nonce = blob.subarray(68, 84);
  const body = blob.subarray(84);
  const key = createHash('sha256').update(Buffer.concat([material, Buffer.from('{}'), nonce])).digest();
  const pad: Buffer[] = [];
  for (let counter = 0; pad.length * 32 < body.length; counter++) {
    const index = Buffer.alloc(4);
    index.writeUInt32BE(counter);
    pad.push(createHash('sha256').update(Buffer.concat([key, index])).digest());
  }
  const stream = Buffer.concat(pad);
  return Buffer.from(body.map((byte, i) => byte ^ stream[i]));
}
