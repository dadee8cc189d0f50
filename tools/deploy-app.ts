import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ImportedKmsKey, KeyMaterial, KeyMaterialExpiration } from '../lib';

/** One key of a stack deployed for real: its id, its secret (by ARN) and how it is configured. */
export interface DeployedKey {
  readonly id: string;
  readonly secretArn: string;
  readonly expiration?: KeyMaterialExpiration;
  readonly keySpec?: kms.KeySpec;
  /** Earlier materials' secrets, oldest first (rotation). */
  readonly previousSecretArns?: string[];
  /** DESTROY with crypto-shred; else the construct's default (RETAIN). */
  readonly shred?: boolean;
}

/**
 * Synthesizes a cloud assembly (what `cdk synth` writes) for `cdk deploy --app <folder>`: a stack
 * of ImportedKmsKeys, or of as many plain kms.Key when `plainKeys` is given (the benchmark's baseline).
 */
export function synthesizeAssembly(stackName: string, keys: DeployedKey[], plainKeys?: number): string {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-assembly-'));
  const app = new App({ outdir });
  const stack = new Stack(app, stackName);
  for (let i = 0; i < (plainKeys ?? 0); i++) new kms.Key(stack, `Plain${i}`, { removalPolicy: RemovalPolicy.DESTROY });
  for (const key of keys) {
    new ImportedKmsKey(stack, key.id, {
      keyMaterial: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, `${key.id}Secret`, key.secretArn)),
      previousKeyMaterials: key.previousSecretArns?.map((arn, i) =>
        KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, `${key.id}Previous${i}`, arn))),
      expiration: key.expiration,
      keySpec: key.keySpec,
      alias: `alias/deploy-${key.id.toLowerCase()}`,
      description: `deployed by test/deploy: ${key.id}`,
      // MiniStack has no GetKeyLastUsage: the shredding key opts out of the last-use check.
      ...(key.shred ? { removalPolicy: RemovalPolicy.DESTROY, shredMaterialOnRemoval: true, shredIfUnusedFor: Duration.seconds(0) } : {}),
    });
  }
  app.synth();
  return outdir;
}
