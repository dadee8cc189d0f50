import { Annotations, Aws, DefaultStackSynthesizer, Fn, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { MaterialLockdown } from '../key-material';

/**
 * Statements of the lock, following AWS's pattern for restricting a secret to specific principals:
 * an explicit Deny to every principal whose `aws:PrincipalArn` is not on the list. An explicit Deny
 * in the resource policy wins over any allow in identity policies, so an account-wide
 * "secretsmanager:GetSecretValue on *" cannot reach the material.
 */
export function lockdownStatements(readers: string[], administrators: string[]): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'DenyReadingKeyMaterialExceptImportHandler',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['secretsmanager:GetSecretValue'],
      resources: ['*'],
      conditions: { ArnNotLike: { 'aws:PrincipalArn': readers } },
    }),
    new iam.PolicyStatement({
      sid: 'DenyChangingKeyMaterialLock',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy'],
      resources: ['*'],
      conditions: { ArnNotLike: { 'aws:PrincipalArn': administrators } },
    }),
  ];
}

/**
 * Locks `secret` (when this app owns it) so that only `handlerRole` and the break-glass principals
 * can read it, and narrows its customer managed KMS key the same way where the construct owns the
 * key too. For an imported secret, adds an info annotation with the policy to apply by hand.
 */
export function lockDownMaterial(scope: Construct, secret: secretsmanager.ISecret, lockdown: MaterialLockdown, handlerRole: iam.IRole): void {
  const stack = Stack.of(scope);
  const readers = [handlerRole.roleArn, ...(lockdown.breakGlassPrincipalArns ?? [])];
  const deployRole = cloudFormationExecutionRole(stack);
  const administrators = [`arn:${stack.partition}:iam::${stack.account}:root`, ...(deployRole ? [deployRole] : []), ...(lockdown.policyAdministratorArns ?? [])];
  const statements = lockdownStatements(readers, administrators);

  // A secret of another stack would need the handler role's ARN from this one, while this stack
  // needs the secret's ARN from that one: a cycle. Such a secret is locked by hand, like an imported one.
  const owned = Stack.of(secret) === stack && statements.map((statement) => secret.addToResourcePolicy(statement).statementAdded).every(Boolean);
  if (!owned) {
    Annotations.of(scope).addInfo(`The material's secret ${secret.secretName} is not owned by this stack, so the lockdown cannot be attached; `
      + `apply this resource policy to it by hand (aws secretsmanager put-resource-policy --block-public-policy): ${JSON.stringify(stack.resolve(new iam.PolicyDocument({ statements }).toJSON()))}`);
    return;
  }
  if (!deployRole) {
    Annotations.of(scope).addWarningV2('imported-kms-key:lockdown-deploy-role', 'The stack does not use the default synthesizer, so its CloudFormation '
      + 'execution role is unknown: name the role that deploys this stack in lockdown.policyAdministratorArns, or later updates cannot change the secret\'s policy.');
  }
  narrowSecretKey(scope, secret, readers);
}

/**
 * The role CloudFormation deploys the stack with (the bootstrap's execution role), when the
 * synthesizer knows it. The synthesizer writes it for the CLI, with `${AWS::Partition}` left in:
 * Fn::Sub resolves that in the template.
 */
export function cloudFormationExecutionRole(stack: Stack): string | undefined {
  const synthesizer = stack.synthesizer;
  return synthesizer instanceof DefaultStackSynthesizer ? Fn.sub(synthesizer.cloudFormationExecutionRoleArn) : undefined;
}

/**
 * The secret's own KMS key, if this app owns it and the secret has a fixed name: deny decrypting
 * this secret's values (through Secrets Manager, by encryption context) to everyone but the readers.
 */
function narrowSecretKey(scope: Construct, secret: secretsmanager.ISecret, readers: string[]): void {
  const key = secret.encryptionKey;
  if (!key) return;
  const name = (secret.node.defaultChild as secretsmanager.CfnSecret | undefined)?.name;
  if (!(key instanceof kms.Key) || Stack.of(key) !== Stack.of(scope) || name === undefined || Token.isUnresolved(name)) {
    Annotations.of(scope).addInfo('The material\'s secret is encrypted with a KMS key this construct cannot narrow (imported, in another stack, '
      + 'or the secret has a generated name): the secret\'s lock still applies, but make sure that key\'s policy does not let others decrypt the secret outside Secrets Manager.');
    return;
  }
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: `DenyDecryptingKeyMaterialSecret${Stack.of(scope).getLogicalId(secret.node.defaultChild as secretsmanager.CfnSecret)}`,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:Decrypt'],
    resources: ['*'],
    conditions: {
      StringLike: { 'kms:EncryptionContext:SecretARN': `arn:${Aws.PARTITION}:secretsmanager:${Stack.of(scope).region}:${Stack.of(scope).account}:secret:${name}-??????` },
      ArnNotLike: { 'aws:PrincipalArn': readers },
    },
  }));
}
