/**
 * What every emulator test file shares: emulators started before its tests and always stopped,
 * clients, secrets and materials it creates (kept for the leak scan), and stacks synthesized and
 * deployed into the emulators with EmulatedDeployment.
 */
import { randomBytes } from 'node:crypto';
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ImportedKmsKey, ImportedKmsKeyProps, KeyMaterial, KeyMaterialExpiration, SecretKeyMaterialOptions, WrappingKeySpec } from '../../lib';
import { EmulatedDeployment, Outcome, synthesize } from '../../tools/emulated-deployment';
import { Emulators, startEmulators } from '../../tools/emulators';

export interface KeySetup {
  readonly id: string;
  readonly secretArn: string;
  readonly options?: SecretKeyMaterialOptions;
  readonly expiration?: KeyMaterialExpiration;
  /** Secrets of the key's earlier materials, oldest first (rotation). */
  readonly previousSecretArns?: string[];
  /** Any other props; local-kms offers only RSA_2048 wrapping keys, so that is the default here. */
  readonly props?: Partial<ImportedKmsKeyProps>;
}

export class EmulatorHarness {
  /** Every piece of material the tests stored, for the leak scan. */
  public readonly materials: Buffer[] = [];
  /** Every outcome the handler reported. */
  public readonly outcomes: Outcome[] = [];
  public emulators!: Emulators;
  public kms!: KMSClient;
  public secrets!: SecretsManagerClient;
  /** The start of the test file in whole seconds, so dates computed in several tests agree. */
  private readonly start = Math.floor(Date.now() / 1000) * 1000;

  /** Registers beforeAll / afterAll in the calling test file, starting the emulators with `startAll`. */
  constructor(startAll: () => Promise<Emulators> = startEmulators) {
    beforeAll(async () => {
      this.emulators = await startAll();
      const config = { region: this.emulators.env.AWS_REGION, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } };
      this.kms = new KMSClient({ ...config, endpoint: this.emulators.kmsEndpoint });
      this.secrets = new SecretsManagerClient({ ...config, endpoint: this.emulators.secretsEndpoint });
    });
    afterAll(async () => {
      this.kms?.destroy();
      this.secrets?.destroy();
      await this.emulators?.stop();
    });
  }

  /** A date `days` ahead of the test file's start. */
  public inDays(days: number): Date {
    return new Date(this.start + days * 86_400_000);
  }

  /** The same date as the construct writes it into ValidTo. */
  public validTo(days: number): string {
    return this.inDays(days).toISOString().replace('.000Z', 'Z');
  }

  public newMaterial(length = 32): Buffer {
    const material = randomBytes(length);
    this.materials.push(material);
    return material;
  }

  public async newSecret(value: { SecretBinary?: Uint8Array; SecretString?: string }): Promise<string> {
    const { ARN } = await this.secrets.send(new CreateSecretCommand({ Name: `material-${randomBytes(6).toString('hex')}`, ...value }));
    return ARN!;
  }

  /** Synthesizes a stack with these keys and creates the keys in the emulator. */
  public async deploy(keys: KeySetup[], emulators: Emulators = this.emulators): Promise<EmulatedDeployment> {
    return this.deployStack((stack: Stack) => keys.forEach((k) => new ImportedKmsKey(stack, k.id, {
      keyMaterial: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, `${k.id}Secret`, k.secretArn), k.options),
      expiration: k.expiration,
      previousKeyMaterials: k.previousSecretArns?.map((arn, i) => KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, `${k.id}Previous${i}`, arn))),
      wrappingKeySpec: WrappingKeySpec.RSA_2048,
      description: `emulator test ${k.id}`,
      ...k.props,
    })), emulators);
  }

  /** Synthesizes the stack `build` makes and creates its keys in the emulator. */
  public async deployStack(build: (stack: Stack) => void, emulators: Emulators = this.emulators): Promise<EmulatedDeployment> {
    const deployment = new EmulatedDeployment(emulators, synthesize(build));
    await deployment.createKeys(this.kms);
    return deployment;
  }

  public async invoke(deployment: EmulatedDeployment, ...events: object[]): Promise<Outcome[]> {
    const results = await deployment.invoke(...events);
    this.outcomes.push(...results);
    return results;
  }

  public async describeKey(keyArn: string) {
    return (await this.kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata!;
  }

  public async encrypt(keyArn: string, plaintext: Buffer): Promise<Uint8Array> {
    return (await this.kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: plaintext }))).CiphertextBlob!;
  }

  public async decrypt(keyArn: string, ciphertext: Uint8Array): Promise<Buffer> {
    return Buffer.from((await this.kms.send(new DecryptCommand({ KeyId: keyArn, CiphertextBlob: ciphertext }))).Plaintext!);
  }
}

export function failureOf(outcome: Outcome): string {
  if (outcome.status !== 'FAILED') throw new Error(`expected FAILED, got ${JSON.stringify(outcome)}`);
  return outcome.reason;
}
