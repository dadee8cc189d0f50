import * as iam from 'aws-cdk-lib/aws-iam';
import type { KeyPolicyHolder } from './handler-permissions';

/**
 * Offline wrapping: only the import handler may open an import window (GetParametersForImport) or
 * import (ImportKeyMaterial) into the key, whatever IAM policies the account has. A fresh EXTERNAL
 * key takes the first material offered, and whoever can get parameters can offer one: the Deny
 * closes that gap. It does not deny kms:PutKeyPolicy, so key administrators can still remove it.
 *
 * With `materialLock`, whose Deny covers these actions too, this statement is left out.
 */
export function lockImportToHandler(key: KeyPolicyHolder, handlerRole: iam.IRole): void {
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'DenyImportedKmsKeyImportExceptHandler',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:GetParametersForImport', 'kms:ImportKeyMaterial'],
    resources: ['*'],
    conditions: { ArnNotEquals: { 'aws:PrincipalArn': handlerRole.roleArn } },
  }));
}
