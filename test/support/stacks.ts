import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ImportedKmsKey, ImportedKmsKeyProps, KeyMaterial } from '../../lib';

/** A stack in a fixed environment, so templates and snapshots are stable. */
export function newStack(id = 'TestStack'): Stack {
  return new Stack(new App(), id, { env: { account: '111122223333', region: 'eu-west-1' } });
}

/** A secret referenced by name, as most users hold their material. */
export function materialSecret(stack: Stack, name = 'prod/payments/kms-material'): secretsmanager.ISecret {
  return secretsmanager.Secret.fromSecretNameV2(stack, `Secret-${name}`, name);
}

/** An ImportedKmsKey with a material secret and any other props. */
export function importedKey(stack: Stack, id: string, props: Partial<ImportedKmsKeyProps> = {}): ImportedKmsKey {
  return new ImportedKmsKey(stack, id, { keyMaterial: KeyMaterial.fromSecret(materialSecret(stack, `${id}-material`)), ...props });
}
