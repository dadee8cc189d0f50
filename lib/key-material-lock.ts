/**
 * A key-side lock on the key material: key-policy Deny statements so that only the import handler
 * (and named break-glass principals) may get import parameters, import, delete or rotate material,
 * and only the account's root user, the stack's CloudFormation execution role and named
 * administrators may change the key policy (and so the lock). See README, "Key material lock".
 */
export interface KeyMaterialLock {
  /**
   * ARNs of principals that may still call GetParametersForImport, ImportKeyMaterial,
   * DeleteImportedKeyMaterial and RotateKeyOnDemand on the key, e.g. a break-glass role. Matched
   * against `aws:PrincipalArn` with `ArnNotLike`, so `*` wildcards work (for example a role path).
   *
   * @default - no one but the import handler
   */
  readonly breakGlassPrincipalArns?: string[];

  /**
   * ARNs of principals that may change the key policy (kms:PutKeyPolicy), and so the lock, besides
   * the stack's CloudFormation execution role and the account's root user (both always may, so the
   * stack can be updated and the lock can never become unremovable).
   *
   * @default - only the root user and the CloudFormation execution role
   */
  readonly policyAdministratorArns?: string[];
}
