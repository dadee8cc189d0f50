/**
 * Offline rotation (MaterialGeneration): which parameter sets a deploy publishes, from what
 * ListKeyRotations reports. Pure: no API calls.
 *
 * The number of materials the key holds tells whether the generation asked is in place, so a
 * re-sent event publishes no second NEW set once the material is in, and a rollback (a lower
 * generation) publishes nothing and changes nothing: rotation cannot be undone. An expiration
 * change reaches every material KMS holds: each one is its own EXISTING_KEY_MATERIAL import, with its
 * own KeyMaterialId and its own wrap, so each gets a set of its own.
 */
import type { RotationsListEntry } from '@aws-sdk/client-kms';
import { Expiration, hasExpiration } from './expiration';

/** One parameter set to publish: for the next material (NEW), or to re-import one the key holds. */
export interface SetTarget {
  /** Undefined for a key's first material (KMS decides: NEW into a key that never held one). */
  readonly importType?: 'NEW_KEY_MATERIAL' | 'EXISTING_KEY_MATERIAL';
  readonly materialGeneration: number;
  readonly keyMaterialId?: string;
  readonly keyMaterialDescription?: string;
}

export interface GenerationPlan {
  readonly sets: SetTarget[];
  /** A material imported NEW and left pending (a crash between import and rotation): the deploy asked for it, so it is made current. */
  readonly rotatePending?: RotationsListEntry;
  /** What the deploy did not do, and why (for the response's log line). */
  readonly note?: string;
}

/** The key's materials oldest first (the first has no RotationDate), pending ones left out. */
export function heldMaterials(entries: RotationsListEntry[]): RotationsListEntry[] {
  const time = (entry: RotationsListEntry) => (entry.RotationDate ? new Date(entry.RotationDate).getTime() : 0);
  return entries.filter((entry) => !entry.KeyMaterialState?.startsWith('PENDING')).sort((a, b) => time(a) - time(b));
}

export function planGenerations(asked: number, entries: RotationsListEntry[], expiration: Expiration, keyEnabled: boolean): GenerationPlan {
  const held = heldMaterials(entries);
  const pending = entries.find((entry) => entry.KeyMaterialState?.startsWith('PENDING'));
  if (held.length === 0) return { sets: [{ materialGeneration: 1 }] };
  if (held.length > asked) {
    return { sets: [], note: `the key holds ${held.length} materials and this deployment asks for generation ${asked} (a rollback, or a lowered materialGeneration); `
      + `rotation cannot be undone, so nothing was published and the key keeps all ${held.length}` };
  }
  // Each material whose expiration is not the one asked (or that lapsed) is re-imported on its own.
  const stale: SetTarget[] = held.flatMap((entry, i) => (entry.ImportState === 'PENDING_IMPORT' || !hasExpiration({ KeyId: entry.KeyId, ExpirationModel: entry.ExpirationModel, ValidTo: entry.ValidTo }, expiration)
    ? [{ importType: 'EXISTING_KEY_MATERIAL' as const, materialGeneration: i + 1, keyMaterialId: entry.KeyMaterialId, keyMaterialDescription: entry.KeyMaterialDescription }]
    : []));
  if (held.length === asked) {
    const note = pending ? `material ${pending.KeyMaterialId} waits for rotation, but the key already holds generation ${asked}; it was left pending `
      + '(raise materialGeneration to make it current, or delete it with DeleteImportedKeyMaterial)' : undefined;
    return { sets: stale, note };
  }
  if (pending) {
    // The import of the next material is done; only its rotation is missing (it needs every material in place).
    return keyEnabled && stale.length === 0 ? { sets: [], rotatePending: pending }
      : { sets: stale, note: `material ${pending.KeyMaterialId} waits for rotation until every material of the key is imported again` };
  }
  const next: SetTarget = { importType: 'NEW_KEY_MATERIAL', materialGeneration: held.length + 1 };
  const note = asked > held.length + 1 ? `generation ${asked} is ${asked - held.length} rotations away and a ceremony makes one: deploy again once generation ${held.length + 1} is in` : undefined;
  return { sets: [...stale, next], note };
}
