/**
 * Offline rotation (MaterialGeneration) and expiration changes of rotated offline keys.
 *
 * The deploy (publishGenerations) lists the key's materials and publishes what decisions/
 * offline-generation.ts plans: a NEW_KEY_MATERIAL set for the next material when the key holds
 * fewer than asked, one EXISTING_KEY_MATERIAL set per material whose expiration is not the one asked
 * (each names its KeyMaterialId: every material is a separate import and a separate wrap), nothing
 * for a rollback. A material imported NEW but left pending (a crash between import and rotation) is
 * made current by the next deploy that asks for it.
 *
 * The upload of a NEW set (priorNewImport, makeCurrent) imports and then rotates; a re-delivered
 * upload, or one after a crash between the two, finds its material by the description the import
 * gave it (offlineMaterialDescription) and only rotates, or only reports; a second set for a
 * generation already in place is refused, so one generation rotates once.
 */
import type { KeyMetadata, RotationsListEntry } from '@aws-sdk/client-kms';
import { offlineMaterialDescription, ParameterManifest, type ResolvedImportProperties } from '../../lib/shared/contract';
import { Clients, describeKey, listMaterials } from '../aws/calls';
import { READY_RETRY_DELAYS_MS } from '../../lib/shared/limits';
import { confirmReady } from '../aws/readiness';
import { rotateWithRetries } from '../aws/retries';
import { Sleep, sleep as realSleep } from '../aws/waits';
import { Expiration } from '../decisions/expiration';
import { heldMaterials, planGenerations, SetTarget } from '../decisions/offline-generation';
import { ImportError } from '../errors/import-error';
import { toImportError } from '../errors/sentences';
import type { OfflineClients, PublishResult } from './publish-parameters';

type PublishSet = (clients: OfflineClients, props: ResolvedImportProperties, expiration: Expiration, key: KeyMetadata, target?: SetTarget) => Promise<PublishResult>;

/** Create/Update of an offline key with MaterialGeneration: the sets its materials need, or nothing and why. */
export async function publishGenerations(clients: OfflineClients, props: ResolvedImportProperties, expiration: Expiration, key: KeyMetadata,
  publishSet: PublishSet, wait: Sleep = realSleep): Promise<PublishResult> {
  const keyArn = props.KeyArn;
  const keyId = keyArn.slice(keyArn.lastIndexOf('/') + 1);
  const asked = Number(props.MaterialGeneration);
  if (!Number.isInteger(asked) || asked < 1) throw new ImportError(`MaterialGeneration '${props.MaterialGeneration}' is not a whole number from 1. Set materialGeneration to the number of materials the key should hold.`);
  const entries = await listMaterials(clients, keyArn).catch((e: unknown) => { throw toImportError(e, 'list-materials', keyArn, undefined); });
  const plan = planGenerations(asked, entries, expiration, key.KeyState === 'Enabled');
  if (plan.rotatePending) {
    const id = (await makeCurrent(clients, keyArn, props.KeySpec, plan.rotatePending, wait)).CurrentKeyMaterialId;
    return { keyArn, keyId, imported: false, keyMaterialId: id,
      reason: `material ${id} was imported from an upload but not yet made current; it was rotated in (RotateKeyOnDemand), as generation ${heldMaterials(entries).length + 1}` };
  }
  const published: PublishResult[] = [];
  for (const target of plan.sets) published.push(await publishSet(clients, props, expiration, key, target));
  const reasons = published.map((result) => result.reason ?? '');
  if (plan.note) reasons.push(plan.note);
  if (reasons.length === 0) reasons.push(`the key holds generation ${asked} with the requested expiration on every material; no parameter set was needed`);
  // The first set published names the ceremony (the sweep's answer to a request points to it).
  return { keyArn, keyId, imported: false, keyMaterialId: key.CurrentKeyMaterialId, reason: reasons.join('; '),
    parameterSet: published[0]?.parameterSet, parametersValidTo: published[0]?.parametersValidTo };
}

/** What an upload to a NEW set finds before it imports. */
export type PriorImport =
  | { readonly kind: 'import' }
  /** This set's material is pending: only the rotation is missing. */
  | { readonly kind: 'rotate'; readonly entry: RotationsListEntry }
  /** This set's material is already in place (a re-delivery after the rotation). */
  | { readonly kind: 'done'; readonly keyMaterialId?: string }
  | { readonly kind: 'refuse'; readonly sentence: string };

export async function priorNewImport(clients: Clients, keyArn: string, set: string, manifest: ParameterManifest): Promise<PriorImport> {
  const generation = manifest.materialGeneration!;
  let entries: RotationsListEntry[];
  try {
    entries = await listMaterials(clients, keyArn);
  } catch (error) {
    return { kind: 'refuse', sentence: `Nothing was imported: ${toImportError(error, 'list-materials', keyArn, undefined).message}` };
  }
  const description = offlineMaterialDescription(generation, set);
  const mine = entries.find((entry) => entry.KeyMaterialDescription === description);
  if (mine?.KeyMaterialState?.startsWith('PENDING')) return { kind: 'rotate', entry: mine };
  if (mine) return { kind: 'done', keyMaterialId: mine.KeyMaterialId };
  const held = heldMaterials(entries).length;
  if (held >= generation) {
    return { kind: 'refuse', sentence: `Nothing was imported: key ${keyArn} already holds ${held} materials, so generation ${generation} (this set's) is in place `
      + '(another set made it, or the deploy was rolled back after this set was published); a generation rotates once. To rotate again, raise materialGeneration and deploy.' };
  }
  const other = entries.find((entry) => entry.KeyMaterialState?.startsWith('PENDING'));
  if (other) {
    return { kind: 'refuse', sentence: `Nothing was imported: key ${keyArn} already has material ${other.KeyMaterialId} pending rotation `
      + `(${other.KeyMaterialDescription ?? 'no description'}), and a key takes one new material at a time. Deploy again to make it current, or delete it `
      + `(aws kms delete-imported-key-material --key-id ${keyArn} --key-material-id ${other.KeyMaterialId}) and upload again.` };
  }
  return { kind: 'import' };
}

/**
 * After an upload's NEW import (or for a material found pending): RotateKeyOnDemand, then DescribeKey
 * must report it current. A failed rotation leaves the material pending, which the next upload of
 * the same set or the next deploy completes; the sentence says so.
 */
export async function makeCurrent(clients: Clients, keyArn: string, keySpec: string, entry: Pick<RotationsListEntry, 'KeyMaterialId' | 'ValidTo'>,
  wait: Sleep): Promise<KeyMetadata> {
  const props = { KeyArn: keyArn, KeySpec: keySpec, WrappingKeySpec: '', WrappingAlgorithm: '' };
  const expiration: Expiration = { validTo: entry.ValidTo ? new Date(entry.ValidTo) : undefined };
  try {
    await rotateWithRetries({ clients, props, expiration, keyMayBeNew: false, wait });
  } catch (error) {
    throw new ImportError(`The new material was imported (KeyMaterialId ${entry.KeyMaterialId}, pending rotation), but ${(error as Error).message} `
      + 'Once fixed, upload the same file again or deploy again: either makes it current without a new import.', (error as ImportError).code);
  }
  return confirmReady(clients, props, expiration, wait, entry.KeyMaterialId);
}

/**
 * After an EXISTING import of one named material of a rotated key: ListKeyRotations must report it
 * imported with the set's expiration (DescribeKey describes only the current material). Returns the
 * key's state (PendingImport while another material still waits for its own set).
 */
export async function confirmMaterial(clients: Clients, keyArn: string, keyMaterialId: string, validTo: Date | undefined, wait: Sleep): Promise<string | undefined> {
  const seconds = (date: Date | undefined) => (date ? Math.floor(new Date(date).getTime() / 1000) : undefined);
  for (let retry = 0; ; retry++) {
    const entry = (await listMaterials(clients, keyArn).catch((e: unknown) => { throw toImportError(e, 'list-materials', keyArn, undefined); }))
      .find((e) => e.KeyMaterialId === keyMaterialId);
    if (entry?.ImportState === 'IMPORTED' && seconds(entry.ValidTo) === seconds(validTo)) {
      return (await describeKey(clients, keyArn).catch((e: unknown) => { throw toImportError(e, 'describe-key', keyArn, undefined); })).KeyState;
    }
    if (retry >= READY_RETRY_DELAYS_MS.length) {
      throw new ImportError(`KMS accepted the material for key ${keyArn}, but ListKeyRotations does not report material ${keyMaterialId} imported `
        + `${validTo ? `expiring at ${validTo.toISOString()}` : 'never expiring'}. KMS is eventually consistent: upload the same file again.`);
    }
    await wait(READY_RETRY_DELAYS_MS[retry]);
  }
}
