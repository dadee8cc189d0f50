/**
 * Rotation of a symmetric key: import the newest material as NEW_KEY_MATERIAL (KMS holds it as
 * PENDING_ROTATION), make it current with RotateKeyOnDemand, and confirm that DescribeKey reports it
 * as the key's CurrentKeyMaterialId. Earlier materials stay with the key and keep decrypting.
 *
 * A refused import is examined before it fails the deployment (ListKeyRotations): an earlier
 * attempt may have left this very material pending (the rotation is finished), or the key may
 * already hold it as current (a re-sent request succeeds).
 */
import type { KeyMetadata, RotationsListEntry } from '@aws-sdk/client-kms';
import { materialDescription } from '../../lib/shared/contract';
import { freshParameters, ImportContext, importWithRetries, listMaterialsOrFail, rotateWithRetries } from '../aws/retries';
import { confirmReady } from '../aws/readiness';
import { ImportError } from '../errors/import-error';
import { stateSentence } from '../errors/sentences';
import { ImportParameters } from '../aws/calls';
import { primaryOutcome, RotationWaiting, stateOf, WAITING_STATE } from './multi-region';

export interface RotationResult {
  /** The KeyMaterialId of the new current material. */
  readonly keyMaterialId?: string;
  /** Set when nothing had to change, and why. */
  readonly reason?: string;
  /** A multi-Region rotation whose new material some replica does not hold yet. */
  readonly waiting?: RotationWaiting;
}

/** Refusals of a NEW import that may mean the key already has this material, pending or current. */
const EXAMINED_REFUSALS = new Set(['IncorrectKeyMaterialException', 'KMSInvalidStateException', 'ValidationException', 'ConflictException']);

/**
 * Makes `material` (from `ctx.props`' source) the key's current material. With `history` (an
 * earlier material of a Create that lists materials oldest first), the material may already be an
 * earlier material of the key: the Create was re-sent.
 */
export async function rotate(ctx: ImportContext, key: KeyMetadata, material: Buffer, parameters: ImportParameters | undefined,
  options: { history?: boolean } = {}): Promise<RotationResult> {
  if (key.KeyState !== 'Enabled' && key.KeyState !== undefined) {
    // A deploy never enables a key or rotates a disabled one; a request re-sent after the rotation succeeds.
    const current = (await listMaterialsOrFail(ctx)).find((entry) => entry.KeyMaterialState === 'CURRENT');
    if (current?.KeyMaterialDescription === materialDescription(ctx.props)) {
      return { keyMaterialId: current.KeyMaterialId, reason: `the key (${key.KeyState}) already has this material as its current material` };
    }
    throw new ImportError(stateSentence(ctx.props.KeyArn, key.KeyState));
  }
  let keyMaterialId: string | undefined;
  try {
    keyMaterialId = await importWithRetries(ctx, material, parameters, 'NEW_KEY_MATERIAL');
  } catch (error) {
    if (!(error instanceof ImportError) || !EXAMINED_REFUSALS.has(error.code ?? '')) throw error;
    return examineRefusal(ctx, material, error, options.history ?? false);
  }
  // A multi-Region primary with replicas: the last replica's stack rotates it (multi-region.ts).
  const waiting = key.MultiRegion ? await primaryOutcome(ctx, keyMaterialId, await stateOf(ctx, keyMaterialId)) : undefined;
  if (waiting) return waiting;
  await rotateWithRetries(ctx);
  await confirmReady(ctx.clients, ctx.props, ctx.expiration, ctx.wait, keyMaterialId);
  return { keyMaterialId };
}

async function examineRefusal(ctx: ImportContext, material: Buffer, refusal: ImportError, history: boolean): Promise<RotationResult> {
  // Examining is a diagnosis: when it fails too, the refusal itself is the better sentence.
  const entries = await listMaterialsOrFail(ctx).catch(() => { throw refusal; });
  const pending = entries.find((entry) => entry.KeyMaterialState?.startsWith('PENDING'));
  if (pending) {
    if (pending.KeyMaterialDescription !== materialDescription(ctx.props)) throw new ImportError(pendingSentence(ctx.props.KeyArn, pending));
    // A multi-Region primary's own pending material that some replica still lacks: keep waiting.
    if (pending.KeyMaterialState === WAITING_STATE) return (await primaryOutcome(ctx, pending.KeyMaterialId, WAITING_STATE))!;
    // An earlier attempt imported this material and stopped before RotateKeyOnDemand: finish it.
    await rotateWithRetries(ctx);
    await confirmReady(ctx.clients, ctx.props, ctx.expiration, ctx.wait, pending.KeyMaterialId);
    return { keyMaterialId: pending.KeyMaterialId };
  }
  // The key may already hold this material: an EXISTING import proves it (KMS compares the bytes).
  let keyMaterialId: string | undefined;
  try {
    keyMaterialId = await importWithRetries(ctx, material, await freshParameters(ctx), 'EXISTING_KEY_MATERIAL');
  } catch {
    throw refusal;
  }
  const current = entries.find((entry) => entry.KeyMaterialState === 'CURRENT')?.KeyMaterialId;
  if (keyMaterialId === current) return { keyMaterialId, reason: 'the key already has this material as its current material (the rotation was done before)' };
  if (history) return { keyMaterialId };
  throw new ImportError(`The new material for KMS key ${ctx.props.KeyArn} (from ${materialDescription(ctx.props)}) is an earlier material of this key `
    + `(KeyMaterialId ${keyMaterialId}), and KMS never makes an earlier material current again. Put material the key never held in keyMaterial `
    + '(and the current one last in previousKeyMaterials), then deploy again.');
}

function pendingSentence(keyArn: string, pending: RotationsListEntry): string {
  return `KMS key ${keyArn} already has another material pending rotation (KeyMaterialId ${pending.KeyMaterialId}, `
    + `${pending.KeyMaterialDescription ? `description "${pending.KeyMaterialDescription}"` : 'no description'}), and a key takes one new material at a time. `
    + `If that is the material you want, make it current (aws kms rotate-key-on-demand --key-id ${keyArn}) and list it in keyMaterial; `
    + `otherwise delete it (aws kms delete-imported-key-material --key-id ${keyArn} --key-material-id ${pending.KeyMaterialId}). Then deploy again.`;
}
