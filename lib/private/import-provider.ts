import * as path from 'path';
import * as fs from 'fs';
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { constructError } from './construct-error';
import { HandlerPermissions } from './handler-permissions';
import { acknowledgeNagFinding } from './nag-acknowledgement';
import { OfflineSweep } from './offline-sweep';
import { RenewalSchedule } from './renewal-schedule';
import { deliverUploads } from './upload-delivery';
import { HANDLER_TIMEOUT_SECONDS } from '../shared/limits';

/** Construct id of the one provider per stack. */
const PROVIDER_ID = 'ImportedKmsKeyProvider';
/** The pre-built handler bundle (scripts/bundle-handler.mjs), shipped in the npm package. */
const HANDLER_BUNDLE_DIR = path.join(__dirname, '..', '..', 'assets', 'import-handler');
/** The newest Node.js Lambda runtime. */
const DEFAULT_RUNTIME = lambda.Runtime.NODEJS_24_X;
/**
 * The import handler shared by every ImportedKmsKey in a stack: one Lambda function behind the
 * custom-resource Provider framework, found or created once per stack. What the handler may do
 * is allocated by its `permissions` (handler-permissions.ts).
 */
export class ImportProvider extends Construct {
  /**
   * The provider of the stack that holds `scope`, created on first use. Every key of a stack shares
   * it, so a runtime asked for must match the one it has.
   */
  public static of(scope: Construct, runtime?: lambda.Runtime): ImportProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PROVIDER_ID) as ImportProvider | undefined;
    if (runtime && runtime.family !== lambda.RuntimeFamily.NODEJS) {
      throw constructError(scope, `handlerRuntime must be a Node.js runtime; got ${runtime.name}.`);
    }
    if (existing && runtime && runtime.name !== existing.runtime.name) {
      throw constructError(scope, `handlerRuntime ${runtime.name} differs from ${existing.runtime.name}, `
        + 'which another key of this stack chose; all keys of a stack share one handler, so give them the same handlerRuntime.');
    }
    return existing ?? new ImportProvider(stack, PROVIDER_ID, runtime ?? DEFAULT_RUNTIME);
  }

  /** Service token for the custom resources. */
  public readonly serviceToken: string;
  /** The handler function's role. */
  public readonly role: iam.Role;
  /** What the handler may do with each key and secret. */
  public readonly permissions: HandlerPermissions;
  private readonly handler: lambda.Function;
  private renewalSchedule?: RenewalSchedule;
  private sweep?: OfflineSweep;

  private constructor(scope: Construct, id: string, private readonly runtime: lambda.Runtime) {
    super(scope, id);
    if (!fs.existsSync(path.join(HANDLER_BUNDLE_DIR, 'index.js'))) {
      throw new Error(`ImportedKmsKey: the import handler bundle is missing at ${HANDLER_BUNDLE_DIR}; run 'npm run bundle' (a published package ships it).`);
    }

    this.role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Imports key material into ImportedKmsKey keys of this stack',
    });
    const handlerLogs = new logs.LogGroup(this, 'HandlerLogs', { retention: logs.RetentionDays.ONE_YEAR });
    handlerLogs.grantWrite(this.role);
    this.permissions = new HandlerPermissions(this, this.role);

    const handler = this.handler = new lambda.Function(this, 'Handler', {
      description: 'ImportedKmsKey: imports key material from Secrets Manager into KMS',
      runtime,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(HANDLER_BUNDLE_DIR),
      handler: 'index.handler',
      role: this.role,
      memorySize: 256,
      timeout: Duration.seconds(HANDLER_TIMEOUT_SECONDS),
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
    acknowledgeNagFinding(frameworkRole, 'AwsSolutions-IAM5',
      'The Provider framework may invoke any version of the import handler function, and only that function.',
      `Resource::<${handlerLogicalId}.Arn>:*`);
  }

  /** Offline wrapping: the operators' uploads to `bucket` invoke this handler (upload-delivery.ts). */
  public deliverUploads(bucket: s3.IBucket): void {
    deliverUploads(this, bucket, this.handler, this.role);
  }

  /** Offline wrapping: the hourly sweep and the refresh-request rules (offline-sweep.ts), created with the first offline key. */
  public get offlineSweep(): OfflineSweep {
    this.sweep ??= new OfflineSweep(this, 'OfflineSweep', this.handler);
    return this.sweep;
  }

  /** The schedule that renews rolling expirations, created with the first rolling key. */
  public get renewals(): RenewalSchedule {
    this.renewalSchedule ??= new RenewalSchedule(this, 'Renewal', this.handler);
    return this.renewalSchedule;
  }
}
