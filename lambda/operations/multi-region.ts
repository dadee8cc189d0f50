/**
 * Rotation of a multi-Region key, spread over the stacks of its Regions. The primary's stack imports
 * the new material (NEW_KEY_MATERIAL), which KMS lists as PENDING_MULTI_REGION_IMPORT_AND_ROTATION
 * until every replica holds it; each replica's stack imports it (EXISTING_KEY_MATERIAL); whoever
 * finds it PENDING_ROTATION (every replica holds it) calls RotateKeyOnDemand on the primary. Every
 * other import succeeds "waiting for replicas": no stack waits on a stack that deploys after it
 * (docs/how-it-works.md, "Rotating a multi-Region key").
 */
import type { KeyMetadata, RotationsListEntry } from '@aws-sdk/client-kms';
import { materialDescription, MaterialSource } from '../../lib/shared/contract';
import { IMPORT_RETRY_DELAYS_MS, MULTI_REGION_SETTLE_DELAYS_MS, READY_RETRY_DELAYS_MS } from '../../lib/shared/limits';
import { ImportContext, importWithRetries } from '../aws/retries';
import { confirmReady } from '../aws/readiness';
import { ImportError } from '../errors/import-error';
import { stateSentence, toImportError } from '../errors/sentences';
import { Clients, clientsFor, describeKey, ImportParameters, listMaterials, rotateOnDemand } from '../aws/calls';

export const WAITING_STATE = 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION';

/** A rotation whose new material some replica does not hold yet. */
export interface RotationWaiting {
  readonly primaryKeyArn: string;
  readonly pendingKeyMaterialId: string;
}

/** Where a multi-Region rotation stands for one import. */
export interface PrimaryOutcome {
  /** The primary's current material after this step (the new one if it rotated or had rotated). */
  readonly keyMaterialId?: string;
  readonly reason?: string;
  readonly waiting?: RotationWaiting;
}

/**
 * A replica's rotation (an Update that appends the primary's new material): imports it into the
 * replica as EXISTING_KEY_MATERIAL, then completes the rotation at the primary if this replica was
 * the last one to need it.
 */
export async function rotateReplica(ctx: ImportContext, key: KeyMetadata, material: Buffer, parameters: ImportParameters): Promise<PrimaryOutcome> {
  // A deploy never imports into a key an operator disabled or scheduled for deletion.
  if (key.KeyState === 'Disabled' || key.KeyState === 'PendingDeletion') throw new ImportError(stateSentence(ctx.props.KeyArn, key.KeyState));
  const keyMaterialId = await importReplicaMaterial(ctx, material, parameters);
  await confirmReady(ctx.clients, ctx.props, ctx.expiration, ctx.wait);
  return completeAtPrimary(ctx, keyMaterialId);
}

/** EXISTING_KEY_MATERIAL into the replica; KMS's refusal of other bytes says what the primary holds pending. */
export async function importReplicaMaterial(ctx: ImportContext, material: Buffer, parameters: ImportParameters | undefined): Promise<string | undefined> {
  try {
    return await importWithRetries(ctx, material, parameters, 'EXISTING_KEY_MATERIAL');
  } catch (error) {
    const primaryKeyArn = ctx.props.PrimaryKeyArn;
    if (!(error instanceof ImportError) || error.code !== 'IncorrectKeyMaterialException' || !primaryKeyArn) throw error;
    const pending = (await listPrimary(ctx.clients, ctx, primaryKeyArn).catch(() => { throw error; })).find(isPending);
    throw new ImportError(refusedSentence(ctx.props.KeyArn, primaryKeyArn, ctx.props, pending), error.code);
  }
}

/**
 * Reads the primary's materials in its Region and finds the one this replica imported (related keys
 * share KeyMaterialIds): CURRENT or NON_CURRENT, the rotation is done; PENDING_ROTATION, every
 * replica holds it and this one rotates the primary; PENDING_MULTI_REGION_..., read again a few
 * times (KMS is eventually consistent across Regions), then report waiting.
 */
export async function completeAtPrimary(ctx: ImportContext, keyMaterialId: string | undefined): Promise<PrimaryOutcome> {
  const primaryKeyArn = ctx.props.PrimaryKeyArn;
  if (!primaryKeyArn || !keyMaterialId) return { keyMaterialId };
  for (let retry = 0; ; retry++) {
    const entries = await listPrimary(ctx.clients, ctx, primaryKeyArn);
    const current = entries.find((entry) => entry.KeyMaterialState === 'CURRENT')?.KeyMaterialId;
    const entry = entries.find((candidate) => candidate.KeyMaterialId === keyMaterialId);
    if (!entry || !isPending(entry)) {
      // Not pending: an earlier material (a replica added later), or one already made current.
      return { keyMaterialId: current, reason: entry ? undefined : `the primary ${primaryKeyArn} lists no material ${keyMaterialId}; nothing to rotate` };
    }
    if (entry.KeyMaterialState === 'PENDING_ROTATION') return rotatePrimary(ctx, primaryKeyArn, keyMaterialId);
    if (retry >= MULTI_REGION_SETTLE_DELAYS_MS.length) {
      return { keyMaterialId: current, reason: `the primary ${primaryKeyArn} waits for other replicas to import material ${keyMaterialId} before it rotates`,
        waiting: { primaryKeyArn, pendingKeyMaterialId: keyMaterialId } };
    }
    await ctx.wait(MULTI_REGION_SETTLE_DELAYS_MS[retry]);
  }
}

/**
 * The primary's own rotation: its pending material is rotated in when no replica lacks it, else the
 * import succeeds waiting for the replicas' stacks.
 */
export async function primaryOutcome(ctx: ImportContext, keyMaterialId: string | undefined, state: string | undefined): Promise<PrimaryOutcome | undefined> {
  if (state !== WAITING_STATE || !keyMaterialId) return undefined;
  const current = (await listPrimary(ctx.clients, ctx, ctx.props.KeyArn)).find((entry) => entry.KeyMaterialState === 'CURRENT')?.KeyMaterialId;
  return { keyMaterialId: current, reason: `the new material ${keyMaterialId} waits for every replica's stack to import it; the last one rotates the key`,
    waiting: { primaryKeyArn: ctx.props.KeyArn, pendingKeyMaterialId: keyMaterialId } };
}

/** The state KMS lists a key's material in (for the primary right after its NEW import). */
export async function stateOf(ctx: ImportContext, keyMaterialId: string | undefined): Promise<string | undefined> {
  const entries = await listPrimary(ctx.clients, ctx, ctx.props.KeyArn);
  return entries.find((entry) => entry.KeyMaterialId === keyMaterialId)?.KeyMaterialState;
}

/**
 * RotateKeyOnDemand on the primary, in its Region. A refusal because nothing is pending any more
 * means another replica (or a re-sent request) rotated first: the list read again shows it current.
 */
async function rotatePrimary(ctx: ImportContext, primaryKeyArn: string, keyMaterialId: string): Promise<PrimaryOutcome> {
  const primary = clientsFor(ctx.clients, primaryKeyArn);
  for (let retry = 0; ; retry++) {
    try {
      await rotateOnDemand(primary, primaryKeyArn);
      break;
    } catch (error) {
      const name = (error as Error | undefined)?.name;
      if (name === 'KMSInvalidStateException') {
        const entries = await listPrimary(ctx.clients, ctx, primaryKeyArn);
        if (entries.some((entry) => entry.KeyMaterialId === keyMaterialId && entry.KeyMaterialState === 'CURRENT')) {
          return { keyMaterialId, reason: 'another import rotated the primary to this material first' };
        }
      }
      // A role policy just attached (AccessDenied) or a KMS host behind (KMSInvalidState) settles within seconds.
      const settling = name === 'KMSInvalidStateException' || name === 'AccessDeniedException';
      if (!settling || retry >= IMPORT_RETRY_DELAYS_MS.length) throw toImportError(error, 'rotate', primaryKeyArn, ctx.props.SecretId);
      await ctx.wait(IMPORT_RETRY_DELAYS_MS[retry]);
    }
  }
  await confirmPrimaryCurrent(ctx, primary, primaryKeyArn, keyMaterialId);
  return { keyMaterialId };
}

/** DescribeKey of the primary until it names the new material current, within the readiness wait. */
async function confirmPrimaryCurrent(ctx: ImportContext, primary: Clients, primaryKeyArn: string, keyMaterialId: string): Promise<void> {
  for (let retry = 0; ; retry++) {
    const key = await describeKey(primary, primaryKeyArn).catch((error: unknown) => { throw toImportError(error, 'describe-key', primaryKeyArn, ctx.props.SecretId); });
    if (key.CurrentKeyMaterialId === keyMaterialId) return;
    if (retry >= READY_RETRY_DELAYS_MS.length) {
      throw new ImportError(`RotateKeyOnDemand of the primary ${primaryKeyArn} succeeded, but DescribeKey still reports material ${key.CurrentKeyMaterialId ?? 'none'} `
        + `rather than ${keyMaterialId} as current. KMS is eventually consistent: retry the deployment, which finds the rotation done.`);
    }
    await ctx.wait(READY_RETRY_DELAYS_MS[retry]);
  }
}

async function listPrimary(clients: Clients, ctx: ImportContext, primaryKeyArn: string): Promise<RotationsListEntry[]> {
  return listMaterials(clientsFor(clients, primaryKeyArn), primaryKeyArn)
    .catch((e: unknown) => { throw toImportError(e, 'list-materials', primaryKeyArn, ctx.props.SecretId); });
}

function isPending(entry: RotationsListEntry): boolean {
  return entry.KeyMaterialState?.startsWith('PENDING') ?? false;
}

function refusedSentence(replicaArn: string, primaryKeyArn: string, source: MaterialSource, pending: RotationsListEntry | undefined): string {
  const from = `the replica's secret (${materialDescription(source)})`;
  if (!pending) {
    return `KMS refused the material for replica ${replicaArn} from ${from}: the primary ${primaryKeyArn} holds no such material and has none pending. `
      + 'Deploy the primary\'s stack first (it imports the new material), then this stack again.';
  }
  return `KMS refused the material for replica ${replicaArn}: ${from} holds other bytes than the primary ${primaryKeyArn}'s pending material `
    + `(KeyMaterialId ${pending.KeyMaterialId}, ${pending.KeyMaterialState}). Nothing was rotated and the primary keeps that material pending: `
    + 'put the same material in this Region\'s secret, then deploy this stack again (runbooks: "A multi-Region rotation stuck half-way").';
}
