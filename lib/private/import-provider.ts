import * as path from 'path';
import * as fs from 'fs';
import { Annotations, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import { KeyMaterial } from '../key-material';
import { resolvedLengthUpperBound } from './policy-size';
import { RenewalSchedule } from './renewal-schedule';

/** Construct id of the one provider per stack. */
const PROVIDER_ID = 'ImportedKmsKeyProvider';
/** The pre-built handler bundle (scripts/bundle-handler.mjs), shipped in the npm package. */
const HANDLER_BUNDLE_DIR = path.join(__dirname, '..', '..', 'assets', 'import-handler');
/** The newest Node.js Lambda runtime. */
const DEFAULT_RUNTIME = lambda.Runtime.NODEJS_24_X;
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
  /** Whether the key rotates (it lists earlier materials): the handler may list materials and rotate on demand. */
  readonly rotate?: boolean;
}
/**
 * The handler's timeout: room for its bounded waits (eventual consistency after CreateKey, the
 * import, a rotation, readiness) and the SDK's own retries, which a construct test adds up. The
 * Provider framework waits up to 15 minutes for it.
 */
export const HANDLER_TIMEOUT = Duration.minutes(10);

/**
 * The import handler shared by every ImportedKmsKey in a stack: one Lambda function behind the
 * custom-resource Provider framework, found or created once per stack.
 *
 * Its permissions grow without hitting IAM's size limits: KMS permissions go into each key's own
 * key policy (so the role's policy does not grow with keys), and secret read permissions go into
 * managed policies that are opened one after another as each fills up.
 */
export class ImportProvider extends Construct {
  /**
   * The provider of the stack that holds `scope`, created on first use. Every key of a stack shares
   * it, so a runtime asked for must match the one it has.
   */
  public static of(scope: Construct, runtime?: lambda.Runtime): ImportProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PROVIDER_ID) as ImportProvider | undefined;
    if (existing && runtime && runtime.name !== existing.runtime.name) {
      throw new Error(`ImportedKmsKey ${scope.node.path}: handlerRuntime ${runtime.name} differs from ${existing.runtime.name}, `
        + 'which another ImportedKmsKey of this stack chose; all keys of a stack share one handler, so give them the same handlerRuntime.');
    }
    return existing ?? new ImportProvider(stack, PROVIDER_ID, runtime ?? DEFAULT_RUNTIME);
  }

  /** Service token for the custom resources. */
  public readonly serviceToken: string;
  /** The handler function's role. */
  public readonly role: iam.Role;
  private readonly handler: lambda.Function;
  private renewalSchedule?: RenewalSchedule;
  private readonly secretPolicies: SecretPolicy[] = [];
  private readonly policyByGrant = new Map<string, iam.ManagedPolicy>();

  private constructor(scope: Construct, id: string, private readonly runtime: lambda.Runtime) {
    super(scope, id);
    if (runtime.family !== lambda.RuntimeFamily.NODEJS) {
      throw new Error(`ImportedKmsKey: handlerRuntime must be a Node.js runtime; got ${runtime.name}.`);
    }
    if (!fs.existsSync(path.join(HANDLER_BUNDLE_DIR, 'index.js'))) {
      throw new Error(`ImportedKmsKey: the import handler bundle is missing at ${HANDLER_BUNDLE_DIR}; run 'npm run bundle' (a published package ships it).`);
    }

    this.role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Imports key material into ImportedKmsKey keys of this stack',
    });
    const handlerLogs = new logs.LogGroup(this, 'HandlerLogs', { retention: logs.RetentionDays.ONE_YEAR });
    handlerLogs.grantWrite(this.role);

    const handler = this.handler = new lambda.Function(this, 'Handler', {
      description: 'ImportedKmsKey: imports key material from Secrets Manager into KMS',
      runtime,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(HANDLER_BUNDLE_DIR),
      handler: 'index.handler',
      role: this.role,
      memorySize: 256,
      timeout: HANDLER_TIMEOUT,
      logGroup: handlerLogs,
      loggingFormat: lambda.LoggingFormat.JSON,
    });

    const frameworkRole = new iam.Role(this, 'FrameworkRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Custom-resource provider framework of ImportedKmsKey',
    });
    const frameworkLogs = new logs.LogGroup(this, 'FrameworkLogs', { retention: logs.RetentionDays.ONE_YEAR });
    frameworkLogs.grantWrite(frameworkRole);
    this.serviceToken = new cr.Provider(this, 'Provider', {
      onEventHandler: handler,
      frameworkOnEventRole: frameworkRole,
      logGroup: frameworkLogs,
    }).serviceToken;
    const handlerLogicalId = Stack.of(this).getLogicalId(handler.node.defaultChild as lambda.CfnFunction);
    Validations.of(frameworkRole).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${handlerLogicalId}.Arn>:*]`,
      reason: 'The Provider framework may invoke any version of the import handler function, and only that function.',
    });
  }

  /** The schedule that renews rolling expirations, created with the first rolling key. */
  public get renewals(): RenewalSchedule {
    this.renewalSchedule ??= new RenewalSchedule(this, 'Renewal', this.handler);
    return this.renewalSchedule;
  }

  /**
   * Lets the handler import into `key` from the secrets of `materials`, within `guardrails`. Returns
   * what the import must wait for: the policies that let the handler read the secrets.
   *
   * The key policy statements carry KMS's condition keys, so even the handler's own role can only
   * import as configured: with this wrapping key spec and algorithm, this expiration model and, for
   * a fixed date, no later ValidTo.
   */
  public serve(key: KeyPolicyHolder, materials: KeyMaterial[], guardrails: ImportGuardrails): IDependable {
    const allow = (sid: string, action: string, conditions?: Record<string, Record<string, string>>) => key.addToResourcePolicy(new iam.PolicyStatement({
      sid, principals: [this.role], actions: [action], resources: ['*'], conditions,
    }));
    allow('AllowImportedKmsKeyHandlerDescribe', 'kms:DescribeKey');
    allow('AllowImportedKmsKeyHandlerParameters', 'kms:GetParametersForImport', {
      StringEquals: { 'kms:WrappingKeySpec': guardrails.wrappingKeySpec, 'kms:WrappingAlgorithm': guardrails.wrappingAlgorithm },
    });
    allow('AllowImportedKmsKeyHandlerImport', 'kms:ImportKeyMaterial', {
      StringEquals: { 'kms:ExpirationModel': guardrails.expirationModel },
      // KMS documents kms:ValidTo as seconds since the epoch, compared with NumericLessThanEquals.
      ...(guardrails.latestValidTo ? { NumericLessThanEquals: { 'kms:ValidTo': String(guardrails.latestValidTo.getTime() / 1000) } } : {}),
    });
    if (guardrails.shred) {
      // Listing materials (ListKeyRotations) and deleting each; a key that does not shred gets neither.
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowImportedKmsKeyHandlerShred', principals: [this.role], resources: ['*'],
        actions: ['kms:DeleteImportedKeyMaterial', 'kms:ListKeyRotations'],
      }));
    }
    if (guardrails.rotate) {
      // Rotating (and examining a refused rotation); a key that lists no earlier material gets neither.
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowImportedKmsKeyHandlerRotate', principals: [this.role], resources: ['*'],
        actions: ['kms:RotateKeyOnDemand', 'kms:ListKeyRotations'],
      }));
    }
    return new DependencyGroup(...materials.flatMap((material) => this.grantRead(material.secret)));
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
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
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
    const stack = Stack.of(this);
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
    const policy = new iam.ManagedPolicy(this, `SecretReadPolicy${index}`, {
      description: `Lets the ImportedKmsKey handler read key material secrets (part ${index})`,
      roles: [this.role],
    });
    const shard = { policy, read: new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'] }), spent: 0 };
    this.secretPolicies.push(shard);
    if (index === MANAGED_POLICIES_PER_ROLE + 1) {
      Annotations.of(this).addWarningV2('imported-kms-key:managed-policy-quota',
        `The import handler role needs more than ${MANAGED_POLICIES_PER_ROLE} managed policies to read all key material secrets; `
        + 'request a higher "Managed policies per role" IAM quota, or keep several materials in one secret (jsonField).');
    }
    return shard;
  }
}

/** One managed policy of secret read grants: a statement listing secret ARNs, and its used budget. */
interface SecretPolicy {
  readonly policy: iam.ManagedPolicy;
  readonly read: iam.PolicyStatement;
  spent: number;
}
