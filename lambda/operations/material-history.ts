/**
 * Keys with several materials (symmetric keys that rotated): every material is re-imported when
 * one import is due (an expiration change, a renewal, a moved source), because KMS puts the key in
 * PendingImport as soon as any of its materials expires. A new key gets its materials in order: the
 * first imported, each next one rotated in.
 */
import { forMaterial, materialDescription, materialSources, MaterialSource } from '../../lib/shared/contract';
import { ImportContext, importWithRetries, listMaterialsOrFail } from '../aws/retries';
import { confirmReady } from '../aws/readiness';
import { ImportError } from '../errors/import-error';
import { toImportError } from '../errors/sentences';
import { MaterialChange } from '../decisions/plan';
import { rotate, RotationResult } from './rotate';
import { completeAtPrimary, importReplicaMaterial } from './multi-region';
import { ImportParameters, readMaterial } from '../aws/calls';

export interface CurrentMaterial {
  readonly material: Buffer;
  readonly parameters: ImportParameters;
}

/** Re-imports every material of an existing key, oldest first; with a changed list, checks it against what KMS holds. */
export async function reimportEvery(ctx: ImportContext, current: CurrentMaterial, change: MaterialChange): Promise<RotationResult> {
  const previous = materialSources(ctx.props).slice(0, -1);
  const ids: Array<string | undefined> = [];
  for (const source of previous) {
    const at = { ...ctx, props: forMaterial(ctx.props, source) };
    ids.push(await withMaterial(at, (material) => importWithRetries(at, material, undefined, 'EXISTING_KEY_MATERIAL')));
  }
  ids.push(await importWithRetries(ctx, current.material, current.parameters, 'EXISTING_KEY_MATERIAL'));
  // Materials whose sources moved, or a list that changed shape, must still be the key's own, in order.
  if (change !== 'none') await checkHistory(ctx, previous, ids);
  const key = await confirmReady(ctx.clients, ctx.props, ctx.expiration, ctx.wait, ids[ids.length - 1]);
  return { keyMaterialId: key.CurrentKeyMaterialId };
}

/** A new key: the first material imported, each later one (the current last) rotated in. */
export async function importHistory(ctx: ImportContext, current: CurrentMaterial): Promise<RotationResult> {
  const [first, ...rest] = materialSources(ctx.props).slice(0, -1);
  const at = (source: MaterialSource) => ({ ...ctx, props: forMaterial(ctx.props, source) });
  await withMaterial(at(first), (material) => importWithRetries(at(first), material, undefined, undefined));
  // Enabled once the first material is in; rotations keep it so.
  const key = await confirmReady(ctx.clients, at(first).props, ctx.expiration, ctx.wait);
  for (const source of rest) {
    await withMaterial(at(source), (material) => rotate(at(source), key, material, undefined, { history: true }));
  }
  // The current material must end up current, whatever was there before.
  return rotate(ctx, key, current.material, current.parameters);
}

/**
 * A new replica (one added after its primary rotated): every material the primary holds, oldest
 * first, each as EXISTING_KEY_MATERIAL, the current one last; then the primary's rotation is
 * completed if it waited for this replica.
 */
export async function importReplicaHistory(ctx: ImportContext, current: CurrentMaterial): Promise<RotationResult> {
  for (const source of materialSources(ctx.props).slice(0, -1)) {
    const at = { ...ctx, props: forMaterial(ctx.props, source) };
    await withMaterial(at, (material) => importReplicaMaterial(at, material, undefined));
  }
  const keyMaterialId = await importReplicaMaterial(ctx, current.material, current.parameters);
  await confirmReady(ctx.clients, ctx.props, ctx.expiration, ctx.wait);
  return completeAtPrimary(ctx, keyMaterialId);
}

/** Reads the material of `ctx.props`' source, hands it to `use`, and wipes it. */
export async function withMaterial<T>(ctx: ImportContext, use: (material: Buffer) => Promise<T>): Promise<T> {
  const material = await readMaterial(ctx.clients, ctx.props).catch((e: unknown) => { throw toImportError(e, 'read-secret', ctx.props.KeyArn, ctx.props.SecretId); });
  try {
    return await use(material);
  } finally {
    material.fill(0);
  }
}

/** The key's materials as KMS lists them (pending ones aside), oldest first, must be the ones imported, in order. */
async function checkHistory(ctx: ImportContext, previous: MaterialSource[], ids: Array<string | undefined>): Promise<void> {
  const held = (await listMaterialsOrFail(ctx))
    .filter((entry) => !entry.KeyMaterialState?.startsWith('PENDING'))
    .sort((a, b) => (a.RotationDate ? new Date(a.RotationDate).getTime() : 0) - (b.RotationDate ? new Date(b.RotationDate).getTime() : 0));
  if (held.length === ids.length && held.every((entry, i) => entry.KeyMaterialId === ids[i])) return;
  const listed = [...previous, ctx.props].map((source) => `"${materialDescription(source)}"`).join(', ');
  throw new ImportError(`The materials of KMS key ${ctx.props.KeyArn} must be listed as the key holds them, oldest first and the current one last: `
    + `KMS holds ${held.length} (${held.map((entry) => entry.KeyMaterialId).join(', ')}), and the deployment lists ${ids.length} (${listed}). `
    + 'Materials cannot leave a key, and an earlier one never becomes current again: restore previousKeyMaterials and keyMaterial as they were, then deploy again.');
}
