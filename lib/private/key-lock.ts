import { Annotations, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import type { KeyPolicyHolder } from './handler-permissions';
import { cloudFormationExecutionRole } from './material-lockdown';
import { resolvedLengthUpperBound } from './policy-size';
import type { KeyMaterialLock } from '../key-material-lock';
import { KMS_KEY_POLICY_MAX_LENGTH } from '../shared/limits';

/** The KMS actions that fetch, place, remove or switch a key's material: only the handler (and break-glass) may. */
export const MATERIAL_ACTIONS = ['kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:DeleteImportedKeyMaterial', 'kms:RotateKeyOnDemand'];

/**
 * The lock, as the secret's lockdown does it: explicit Deny statements in the key policy, on
 * `aws:PrincipalArn`, so no identity policy's allow (not even `kms:*` on `*`) overrides them.
 */
export function keyLockStatements(changers: string[], administrators: string[]): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'DenyKeyMaterialChangesExceptImportHandler', effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()],
      actions: MATERIAL_ACTIONS, resources: ['*'], conditions: { ArnNotLike: { 'aws:PrincipalArn': changers } },
    }),
    new iam.PolicyStatement({
      sid: 'DenyChangingKeyMaterialLockExceptAdministrators', effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()],
      actions: ['kms:PutKeyPolicy'], resources: ['*'], conditions: { ArnNotLike: { 'aws:PrincipalArn': administrators } },
    }),
  ];
}

/**
 * Locks the key's material to `handlerRole` and the break-glass principals; the deploy role keeps
 * kms:PutKeyPolicy, so CloudFormation can still update the key policy. The key resource's whole key
 * policy is checked against KMS's size limit at synth time.
 */
export function lockKeyMaterial(scope: IConstruct, key: KeyPolicyHolder, keyResource: { readonly keyPolicy: unknown } | undefined, lock: KeyMaterialLock, handlerRole: iam.IRole): void {
  const stack = Stack.of(scope);
  const deployRole = cloudFormationExecutionRole(stack);
  const administrators = [`arn:${stack.partition}:iam::${stack.account}:root`, ...(deployRole ? [deployRole] : []), ...(lock.policyAdministratorArns ?? [])];
  for (const statement of keyLockStatements([handlerRole.roleArn, ...(lock.breakGlassPrincipalArns ?? [])], administrators)) key.addToResourcePolicy(statement);
  if (!deployRole) {
    Annotations.of(scope).addWarningV2('imported-kms-key:key-lock-deploy-role', 'The stack does not use the default synthesizer, so its CloudFormation '
      + 'execution role is unknown: name the role that deploys this stack in materialLock.policyAdministratorArns, or later updates cannot change the key policy.');
  }
  scope.node.addValidation({
    validate: () => {
      if (!keyResource) return [];
      const length = resolvedLengthUpperBound(stack, stack.toJsonString(keyResource.keyPolicy));
      return length > KMS_KEY_POLICY_MAX_LENGTH
        ? [`the key policy with the material lock may take up to ${length} characters, over KMS's limit of ${KMS_KEY_POLICY_MAX_LENGTH}; `
          + 'name fewer break-glass principals or administrators (a wildcard ARN covers several), or move statements to IAM policies.']
        : [];
    },
  });
}
