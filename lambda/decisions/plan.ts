/**
 * What a Create or Update must do, decided from the request and the key as KMS reports it, before
 * anything is imported. Pure: no API calls, so every rule is unit-tested on its own.
 *
 * The rules make every CloudFormation path converge: a request the key already satisfies is a
 * success without an import (which is what makes rollbacks safe), and a deploy never imports into
 * a key an operator disabled, scheduled for deletion or emptied of its material.
 */
import type { KeyMetadata } from '@aws-sdk/client-kms';
import { type ImportProperties, materialSources, sourceKey } from '../../lib/shared/contract';
import { Expiration, hasExpiration, ImportType } from './expiration';
import { stateSentence } from '../errors/sentences';

export interface Request {
  readonly requestType: 'Create' | 'Update';
  readonly props: ImportProperties;
  readonly oldProps?: ImportProperties;
  readonly expiration: Expiration;
  readonly now: Date;
  /** A scheduled renewal rather than a CloudFormation request. */
  readonly renewal?: boolean;
}

export type Plan =
  | { readonly action: 'import'; readonly importType: ImportType }
  /** Import the newest material as NEW_KEY_MATERIAL and make it current (RotateKeyOnDemand). */
  | { readonly action: 'rotate' }
  | { readonly action: 'skip'; readonly reason: string }
  | { readonly action: 'fail'; readonly message: string };

/**
 * How the list of materials (previous ones, then the current one) changed since the last deployment
 * of the same key: not at all (or only in where materials are read from), by one new material
 * at the end (a rotation) or by several (refused: KMS rotates one at a time), by losing its newest ones
 * (the rollback of a rotation), or otherwise.
 */
export type MaterialChange = 'none' | 'sources' | 'appended' | 'appended-several' | 'truncated' | 'other';

export function materialChange(props: ImportProperties, oldProps: ImportProperties): MaterialChange {
  const now = materialSources(props).map(sourceKey);
  const before = materialSources(oldProps).map(sourceKey);
  // False whenever the list is shorter than the prefix, so no length check is needed beside it.
  const startsWith = (list: string[], prefix: string[]) => prefix.every((source, i) => list[i] === source);
  if (now.length === before.length) return startsWith(now, before) ? 'none' : 'sources';
  if (startsWith(now, before)) return now.length === before.length + 1 ? 'appended' : 'appended-several';
  if (startsWith(before, now)) return 'truncated';
  return 'other';
}

export function planImport(request: Request, key: KeyMetadata): Plan {
  const { props, oldProps } = request;
  const keyArn = props.KeyArn;
  const holdsExpiration = hasExpiration(key, request.expiration);
  // Only an Update (or a renewal, which is one) carries the last deployment's properties.
  const sameKey = oldProps?.KeyArn === keyArn;
  // A multi-Region replica takes the primary's material, which KMS already associates with the key
  // (KMS documents EXISTING_KEY_MATERIAL for replicas); any other key's first import is KMS's default.
  const importType: ImportType = sameKey || props.Replica === 'true' ? 'EXISTING_KEY_MATERIAL' : undefined;
  const change = sameKey && !request.renewal ? materialChange(props, oldProps) : 'none';

  // One new material at the end: a rotation. The key's state is checked by the rotation itself.
  if (change === 'appended') return { action: 'rotate' };
  if (change === 'appended-several') {
    const added = materialSources(props).length - materialSources(oldProps!).length;
    return { action: 'fail', message: `This deployment adds ${added} materials to KMS key ${keyArn} at once, but a rotation makes one new material current `
      + 'and KMS cannot rotate in several together. Nothing was imported: add one material per deployment (README: "Rotating the material").' };
  }
  if (change === 'truncated') {
    // The rollback of a rotation (or a deploy that drops the newest materials): KMS never makes an
    // earlier material current again, and materials cannot leave a key, so there is nothing to do.
    return { action: 'skip', reason: 'the materials list lost its newest entries (the rollback of a rotation, or a deploy that removed them); '
      + 'KMS cannot make an earlier material current again, so the key keeps its current material and every earlier one. '
      + 'Deploy the rotation again to record it (README: "Rotating the material")' };
  }

  switch (key.KeyState) {
    case 'Disabled':
    case 'PendingDeletion':
      // Never imported into: an import would not undo the operator's action, and must not try.
      if (holdsExpiration) return { action: 'skip', reason: `the key is ${key.KeyState} and already holds material with the requested expiration; nothing to import` };
      // A renewal leaves the key to lapse: that is what the operator chose, not a failed renewal.
      if (request.renewal) return { action: 'skip', reason: `the key is ${key.KeyState}, so it is not renewed and its material lapses at its expiration` };
      return { action: 'fail', message: stateSentence(keyArn, key.KeyState) };
    case 'Enabled':
      if (request.requestType === 'Update' && holdsExpiration && change === 'none') {
        return { action: 'skip', reason: 'the key is Enabled with the requested expiration and the material source is unchanged' };
      }
      return { action: 'import', importType };
    case 'PendingImport':
      if (request.renewal) {
        return { action: 'skip', reason: 'the key has no material (it lapsed, or someone deleted it), and a renewal does not bring it back; '
          + 'a deploy that changes the key\'s expiration does (README: "Expiration models")' };
      }
      if (sameKey && !materialExpired(oldProps, key, request.now)) {
        return { action: 'skip', reason: 'the key has no material although it had not expired: someone deleted it (DeleteImportedKeyMaterial), '
          + 'and a deploy does not bring it back. Re-import it by hand to restore the key (README: "Restoring deleted material")' };
      }
      return { action: 'import', importType };
    default:
      // Creating, Updating, Unavailable, ...: let KMS answer, its refusal maps to a sentence.
      return { action: 'import', importType };
  }
}

/**
 * The key's material expired (by the last deployed ValidTo, by what KMS still reports, or because
 * it was rolling: a lapse), rather than being deleted.
 */
function materialExpired(oldProps: ImportProperties, key: KeyMetadata, now: Date): boolean {
  const passed = (date: string | Date | undefined) => date !== undefined && new Date(date).getTime() <= now.getTime();
  return oldProps.RollingValidity !== undefined || passed(oldProps.ValidTo) || passed(key.ValidTo);
}
