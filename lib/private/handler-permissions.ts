import { Annotations, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import { resolvedLengthUpperBound } from './policy-size';
import type { KeyMaterial } from '../key-material';

/** IAM's limit for one managed policy (characters, whitespace excluded), minus room for the statement skeletons. */
const MANAGED_POLICY_BUDGET = 6144 - 512;
/** IAM's default quota of managed policies attached to one role. */
const MANAGED_POLICIES_PER_ROLE = 10;

/** Where a key (or a replica) takes key policy statements. */
export interface KeyPolicyHolder {
  addToResourcePolicy(statement: iam.PolicyStatement): unknown;
}

/** What the handler may import into a key: its key policy allows nothing else, even to the handler. */
export interface ImportGuardrails {
  readonly wrappingKeySpec: string;
  readonly wrappingAlgorithm: string;
  readonly expirationModel: 'KEY_MATERIAL_EXPIRES' | 'KEY_MATERIAL_DOES_NOT_EXPIRE';
  /** The latest ValidTo allowed, for a fixed expiration. */
  readonly latestValidTo?: Date;
  /** Whether the handler deletes the key's material when the key leaves the stack (crypto-shred). */
  readonly shred?: boolean;
  /** Whether the shred first asks KMS when the key was last used (kms:GetKeyLastUsage). */
  readonly shredChecksUsage?: boolean;
  /**
   * Whether the key rotates (it lists earlier materials): the handler may list materials and rotate
   * on demand ('replica': only list them; a replica rotates through its primary).
   */
  readonly rotate?: boolean | 'replica';
  /** Whether the handler lists the key's materials for another reason (the adoption proof of a symmetric key). */
  readonly list?: boolean;
}
/**
 * What the import handler may do, allocated so that its permissions grow without hitting IAM's
 * size limits: KMS permissions go into each key's own key policy (so the role's policy does not
 * grow with keys), and secret read permissions go into managed policies of the provider, opened
 * one after another as each fills up.
 */
export class HandlerPermissions {
  private readonly secretPolicies: SecretPolicy[] = [];
  private readonly policyByGrant = new Map<string, iam.ManagedPolicy>();

  /**
   * @param scope where the secret read policies are created (the stack's provider)
   * @param role the handler's role
   */
  constructor(private readonly scope: Construct, private readonly role: iam.Role) {}

  /**
   * Lets the handler import into `key` from the secrets of `materials`, within `guardrails`. Returns
   * what the import must wait for: the policies that let the handler read the secrets.
   *
   * The key policy statements carry KMS's condition keys, so even the handler's own role can only
   * import as configured: with this wrapping key spec and algorithm, this expiration model and, for
   * a fixed date, no later ValidTo.
   */
  public serve(key: KeyPolicyHolder, materials: KeyMaterial[], guardrails: ImportGuardrails): IDependable {
    for (const statement of keyStatements(guardrails)) {
      key.addToResourcePolicy(new iam.PolicyStatement({ ...statement, principals: [this.role], resources: ['*'] }));
    }
    return new DependencyGroup(...materials.flatMap((material) => (material.secret ? this.grantRead(material.secret) : [])));
  }

  /**
   * For a key this stack did not create (its policy cannot be edited here): the same statements
   * on the identity side, scoped to `keyArn`, in the provider's managed policies. Returns what the
   * import must wait for, and the statements to add to the key policy by hand where it does not
   * delegate to IAM (the handler's role as principal).
   */
  public serveOnIdentity(keyArn: string, materials: KeyMaterial[], guardrails: ImportGuardrails): { dependable: IDependable; keyPolicyStatements: iam.PolicyStatement[] } {
    const grants = keyStatements(guardrails).map((statement) => {
      // No Sid: statements of several keys share a managed policy, where Sids must be unique.
      const identity = new iam.PolicyStatement({ actions: statement.actions, conditions: statement.conditions, resources: [keyArn] });
      return this.grantOnce(JSON.stringify(identity.toStatementJson()), (shard) => shard.policy.addStatements(identity));
    });
    const dependable = new DependencyGroup(...grants, ...materials.flatMap((material) => (material.secret ? this.grantRead(material.secret) : [])));
    const keyPolicyStatements = keyStatements(guardrails).map((statement) => new iam.PolicyStatement({ ...statement, principals: [this.role], resources: ['*'] }));
    return { dependable, keyPolicyStatements };
  }

  /** Lets the handler read `secret` (and decrypt it, with its customer managed key). */
  private grantRead(secret: secretsmanager.ISecret): iam.ManagedPolicy[] {
    const secretArn = secret.secretFullArn ?? `${secret.secretArn}-??????`;
    const grants = [this.grantOnce(secretArn, (shard) => {
      if (shard.read.resources.length === 0) shard.policy.addStatements(shard.read);
      shard.read.addResources(secretArn);
    })];
    if (secret.encryptionKey) {
      const decrypt = new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [secret.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this.scope).region}.amazonaws.com` } },
      });
      grants.push(this.grantOnce(JSON.stringify(decrypt.toStatementJson()), (shard) => shard.policy.addStatements(decrypt)));
    }
    return grants;
  }

  /**
   * Adds a grant (identified by `text`, the ARN or statement it adds) to the newest secret policy
   * with room for it, opening a new policy when needed. A grant made before (keys sharing a
   * secret) is not repeated. Returns the policy that holds it.
   */
  private grantOnce(text: string, add: (shard: SecretPolicy) => void): iam.ManagedPolicy {
    const stack = Stack.of(this.scope);
    const id = JSON.stringify(stack.resolve(text));
    const existing = this.policyByGrant.get(id);
    if (existing) return existing;
    const size = resolvedLengthUpperBound(stack, text) + 3;
    let shard = this.secretPolicies[this.secretPolicies.length - 1];
    if (!shard || shard.spent + size > MANAGED_POLICY_BUDGET) shard = this.openSecretPolicy();
    add(shard);
    shard.spent += size;
    this.policyByGrant.set(id, shard.policy);
    return shard.policy;
  }

  private openSecretPolicy(): SecretPolicy {
    const index = this.secretPolicies.length + 1;
    const policy = new iam.ManagedPolicy(this.scope, `SecretReadPolicy${index}`, {
      description: `Lets the ImportedKmsKey handler read key material secrets (part ${index})`,
      roles: [this.role],
    });
    const shard = { policy, read: new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'] }), spent: 0 };
    this.secretPolicies.push(shard);
    if (index === MANAGED_POLICIES_PER_ROLE + 1) {
      Annotations.of(this.scope).addWarningV2('imported-kms-key:managed-policy-quota',
        `The import handler role needs more than ${MANAGED_POLICIES_PER_ROLE} managed policies to read all key material secrets; `
        + 'request a higher "Managed policies per role" IAM quota, or keep several materials in one secret (jsonField).');
    }
    return shard;
  }
}

/**
 * What the handler may do with one key, principal and resource left out: the key policy gives them
 * to the handler's role on '*', the identity side on the key's ARN. They carry KMS's condition
 * keys, so even the handler's own role can only import as configured: with this wrapping key spec
 * and algorithm, this expiration model and, for a fixed date, no later ValidTo.
 */
function keyStatements(guardrails: ImportGuardrails): iam.PolicyStatementProps[] {
  const statements: iam.PolicyStatementProps[] = [
    { sid: 'AllowImportedKmsKeyHandlerDescribe', actions: ['kms:DescribeKey'] },
    {
      sid: 'AllowImportedKmsKeyHandlerParameters', actions: ['kms:GetParametersForImport'],
      conditions: { StringEquals: { 'kms:WrappingKeySpec': guardrails.wrappingKeySpec, 'kms:WrappingAlgorithm': guardrails.wrappingAlgorithm } },
    },
    {
      sid: 'AllowImportedKmsKeyHandlerImport', actions: ['kms:ImportKeyMaterial'],
      conditions: {
        StringEquals: { 'kms:ExpirationModel': guardrails.expirationModel },
        // KMS documents kms:ValidTo as seconds since the epoch, compared with NumericLessThanEquals.
        ...(guardrails.latestValidTo ? { NumericLessThanEquals: { 'kms:ValidTo': String(guardrails.latestValidTo.getTime() / 1000) } } : {}),
      },
    },
  ];
  // Asking when the key was last used, listing materials (ListKeyRotations) and deleting each; a key that does not shred gets none.
  if (guardrails.shred) {
    statements.push({
      sid: 'AllowImportedKmsKeyHandlerShred',
      actions: [...(guardrails.shredChecksUsage ? ['kms:GetKeyLastUsage'] : []), 'kms:DeleteImportedKeyMaterial', 'kms:ListKeyRotations'],
    });
  }
  // Rotating (and examining a refused rotation); a key that lists no earlier material gets neither.
  if (guardrails.rotate) {
    statements.push({ sid: 'AllowImportedKmsKeyHandlerRotate', actions: guardrails.rotate === 'replica' ? ['kms:ListKeyRotations'] : ['kms:RotateKeyOnDemand', 'kms:ListKeyRotations'] });
  }
  // Adopting a symmetric key lists its materials first (the proof).
  if (guardrails.list && !guardrails.shred && !guardrails.rotate) statements.push({ sid: 'AllowImportedKmsKeyHandlerList', actions: ['kms:ListKeyRotations'] });
  return statements;
}

/** One managed policy of secret read grants: a statement listing secret ARNs, and its used budget. */
interface SecretPolicy {
  readonly policy: iam.ManagedPolicy;
  readonly read: iam.PolicyStatement;
  spent: number;
}
