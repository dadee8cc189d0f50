/**
 * Create and Update: bring the key to the requested state, importing only when needed.
 *
 * Round trip 1 reads the key (DescribeKey), the secret and fresh import parameters in parallel, so
 * deciding costs no extra latency. When the key already satisfies the request, or must not be
 * touched, nothing is imported (see decisions/plan.ts). Otherwise round trip 2 imports, and round trip 3
 * confirms that KMS reports the key Enabled with the requested expiration.
 */
import type { KeyMetadata } from '@aws-sdk/client-kms';
import type { ImportProperties, ResolvedImportProperties } from '../../lib/shared/contract';
import { ImportContext, importWithRetries } from '../aws/retries';
import { confirmReady } from '../aws/readiness';
import { ImportError, Step } from '../errors/import-error';
import { toImportError } from '../errors/sentences';
import { importHistory, importReplicaHistory, reimportEvery } from './material-history';
import { materialChange, Plan, planImport, Request } from '../decisions/plan';
import { CONSISTENCY_RETRY_DELAYS_MS } from '../../lib/shared/limits';
import { Sleep, sleep } from '../aws/waits';
import { proveAdoption } from './adopt';
import { rotate } from './rotate';
import { RotationWaiting, rotateReplica } from './multi-region';
import { Clients, describeKey, getParameters, ImportParameters, readMaterial } from '../aws/calls';
import { requestedExpiration } from '../decisions/expiration';


export interface ConvergeRequest {
  readonly requestType: 'Create' | 'Update';
  readonly props: ResolvedImportProperties;
  readonly oldProps?: ImportProperties;
  /** A scheduled renewal of a rolling expiration: always re-import, never fail on an operator's state. */
  readonly renewal?: boolean;
}

export interface ConvergeResult {
  readonly keyArn: string;
  readonly keyId: string;
  /** The current KeyMaterialId, when KMS reported one. */
  readonly keyMaterialId?: string;
  /** Whether material was imported; when not, why not. */
  readonly imported: boolean;
  readonly reason?: string;
  /** A multi-Region rotation that waits for other replicas' stacks. */
  readonly waiting?: RotationWaiting;
}

export interface ConvergeOptions {
  /** The current time, for the expiration checks. */
  readonly now?: Date;
  /** How to wait between retries. */
  readonly sleep?: Sleep;
}

/** Brings `request.props.KeyArn` to the requested state. Throws only ImportError. */
export async function converge(clients: Clients, given: ConvergeRequest, options: ConvergeOptions = {}): Promise<ConvergeResult> {
  let request = given;
  const { props, requestType } = request;
  const now = options.now ?? new Date();
  const wait = options.sleep ?? sleep;
  const result = (imported: boolean, extra: { keyMaterialId?: string; reason?: string; waiting?: RotationWaiting } = {}): ConvergeResult =>
    ({ keyArn: props.KeyArn, keyId: keyIdOf(props.KeyArn), imported, ...extra });

  const expiration = requestedExpiration(props, now, request.renewal ?? false);
  if (expiration === 'passed') {
    // KMS refuses a ValidTo in the past. On an Update this is the state CloudFormation rolls back to
    // (or a template synthesized long ago): the key keeps what it holds, and the stack must not wedge.
    if (requestType === 'Update') {
      // One read, for the currentKeyMaterialId attribute; the rollback succeeds even if it fails.
      const key = await describeKey(clients, props.KeyArn).catch(() => undefined);
      return result(false, { reason: `the requested expiration ${props.ValidTo} has passed, so it cannot be imported; the key keeps its material and expiration`,
        keyMaterialId: key?.CurrentKeyMaterialId });
    }
    throw new ImportError(`The expiration ${props.ValidTo} is in the past, so KMS would refuse the import. Move the expiration forward, or use KeyMaterialExpiration.never(), and deploy again.`);
  }
  if (adopting(request)) {
    // A key this stack did not create: prove it may be managed before changing anything. Once its
    // materials are proven its own, the rest is the Update of a key this resource already manages.
    const adoption = await proveAdoption({ clients, props, expiration, keyMayBeNew: false, wait }, requestType);
    if (adoption !== 'fresh') request = { ...request, requestType: 'Update', oldProps: props };
  }
  // A key the previous deployment did not import into may be new, and may not be visible everywhere yet
  // (only an Update carries the previous deployment's properties).
  const keyMayBeNew = request.oldProps?.KeyArn !== props.KeyArn;
  const first = await firstRoundTrip(clients, { ...request, expiration, now }, keyMayBeNew, wait);
  if (first.plan.action === 'skip') return result(false, { reason: first.plan.reason, keyMaterialId: first.key.CurrentKeyMaterialId });
  if (first.plan.action === 'fail') throw new ImportError(first.plan.message);

  const ctx: ImportContext = { clients, props, expiration, keyMayBeNew, wait };
  const current = { material: first.material!, parameters: first.parameters! };
  try {
    if (first.plan.action === 'rotate') {
      // A replica takes new material only after its primary, and rotates through it (multi-region.ts).
      return result(true, props.Replica === 'true' ? await rotateReplica(ctx, first.key, current.material, current.parameters)
        : await rotate(ctx, first.key, current.material, current.parameters));
    }
    if (props.PreviousMaterials?.length) {
      const done = props.Replica === 'true' && keyMayBeNew ? await importReplicaHistory(ctx, current)
        : first.plan.importType === undefined ? await importHistory(ctx, current)
        : await reimportEvery(ctx, current, materialChange(props, request.oldProps!));
      return result(true, done);
    }
    const keyMaterialId = await importWithRetries(ctx, current.material, current.parameters, first.plan.importType);
    const ready = await confirmReady(clients, props, expiration, wait);
    return result(true, { keyMaterialId: keyMaterialId ?? ready.CurrentKeyMaterialId });
  } finally {
    current.material.fill(0);
  }
}

interface FirstRoundTrip {
  readonly plan: Plan;
  readonly key: KeyMetadata;
  /** Present when the plan is to import. */
  readonly material?: Buffer;
  readonly parameters?: ImportParameters;
}

/**
 * Round trip 1: DescribeKey, the secret and GetParametersForImport in parallel. The key decides
 * first: a request it already satisfies succeeds whatever the secret holds now (that is what lets a
 * rollback succeed after the secret changed). Failures caused by eventual consistency are retried.
 */
async function firstRoundTrip(clients: Clients, request: Request, keyMayBeNew: boolean, wait: Sleep): Promise<FirstRoundTrip> {
  const props = request.props as ResolvedImportProperties;
  for (let retry = 0; ; retry++) {
    const [key, secret, parameters] = await Promise.allSettled([
      describeKey(clients, props.KeyArn), readMaterial(clients, props), getParameters(clients, props),
    ]);
    const plan = key.status === 'fulfilled' ? planImport(request, key.value) : undefined;
    const imports = plan?.action === 'import' || plan?.action === 'rotate';
    if (imports && secret.status === 'fulfilled' && parameters.status === 'fulfilled') {
      return { plan, key: (key as PromiseFulfilledResult<KeyMetadata>).value, material: secret.value, parameters: parameters.value };
    }
    // Nothing below imports: the material read (if any) is no longer needed.
    if (secret.status === 'fulfilled') secret.value.fill(0);
    if (plan && !imports) return { plan, key: (key as PromiseFulfilledResult<KeyMetadata>).value };
    const failure: [Step, unknown] = key.status === 'rejected' ? ['describe-key', key.reason]
      : secret.status === 'rejected' ? ['read-secret', secret.reason] : ['get-parameters', (parameters as PromiseRejectedResult).reason];
    const [step, error] = failure;
    const name = (error as Error | undefined)?.name;
    // IAM and key policies propagate to every service; a new key to KMS alone (Secrets Manager says ResourceNotFoundException).
    const settling = name === 'AccessDeniedException' || (name === 'NotFoundException' && keyMayBeNew);
    if (!settling || retry >= CONSISTENCY_RETRY_DELAYS_MS.length) throw toImportError(error, step, props.KeyArn, props.SecretId);
    await wait(CONSISTENCY_RETRY_DELAYS_MS[retry]);
  }
}

/** The first deploy that names a key ImportedKeyMaterial adopts (a Create, or an Update to another key); never a renewal. */
function adopting(request: ConvergeRequest): boolean {
  return request.props.Adopt === 'true' && !request.renewal && request.oldProps?.KeyArn !== request.props.KeyArn;
}

function keyIdOf(keyArn: string): string {
  return keyArn.slice(keyArn.lastIndexOf('/') + 1);
}
