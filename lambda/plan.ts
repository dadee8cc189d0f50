/**
 * What a Create or Update must do, decided from the request and the key as KMS reports it, before
 * anything is imported. Pure: no API calls, so every rule is unit-tested on its own.
 *
 * The rules make every CloudFormation path converge: a request the key already satisfies is a
 * success without an import (which is what makes rollbacks safe), and a deploy never imports into
 * a key an operator disabled, scheduled for deletion or emptied of its material.
 */
import type { KeyMetadata } from '@aws-sdk/client-kms';
import type { ImportProperties } from '../lib/contract';
import { Expiration, hasExpiration, ImportType } from './steps';

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
  | { readonly action: 'skip'; readonly reason: string }
  | { readonly action: 'fail'; readonly message: string };

/** The settings that say where the material comes from; a change means the new source must be proven. */
const SOURCE_PROPERTIES = ['SecretId', 'JsonField', 'VersionStage', 'Encoding'] as const;

export function planImport(request: Request, key: KeyMetadata): Plan {
  const { props, oldProps } = request;
  const keyArn = props.KeyArn;
  const holdsExpiration = hasExpiration(key, request.expiration);
  const sameKey = request.requestType === 'Update' && oldProps?.KeyArn === keyArn;
  const importType: ImportType = sameKey ? 'EXISTING_KEY_MATERIAL' : undefined;

  switch (key.KeyState) {
    case 'Disabled':
    case 'PendingDeletion':
      // Never imported into: an import would not undo the operator's action, and must not try.
      if (holdsExpiration) return { action: 'skip', reason: `the key is ${key.KeyState} and already holds material with the requested expiration; nothing to import` };
      // A renewal leaves the key to lapse: that is what the operator chose, not a failed renewal.
      if (request.renewal) return { action: 'skip', reason: `the key is ${key.KeyState}, so it is not renewed and its material lapses at its expiration` };
      return { action: 'fail', message: stateSentence(keyArn, key.KeyState) };
    case 'Enabled':
      if (request.requestType === 'Update' && holdsExpiration && sourceUnchanged(props, oldProps)) {
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

function sourceUnchanged(props: ImportProperties, oldProps: ImportProperties | undefined): boolean {
  return oldProps !== undefined && SOURCE_PROPERTIES.every((name) => props[name] === oldProps[name]);
}

/**
 * The key's material expired (by the last deployed ValidTo, by what KMS still reports, or because
 * it was rolling: a lapse), rather than being deleted.
 */
function materialExpired(oldProps: ImportProperties, key: KeyMetadata, now: Date): boolean {
  const passed = (date: string | Date | undefined) => date !== undefined && new Date(date).getTime() <= now.getTime();
  return oldProps.RollingValidity !== undefined || passed(oldProps.ValidTo) || passed(key.ValidTo);
}

function stateSentence(keyArn: string, state: string): string {
  if (state === 'Disabled') {
    return `KMS key ${keyArn} is Disabled, and a deploy never imports into a disabled key or enables it (someone disabled it, perhaps on purpose). `
      + `If the key should be in use again, enable it (aws kms enable-key --key-id ${keyArn}), then deploy again.`;
  }
  return `KMS key ${keyArn} is PendingDeletion, so it takes no import. To keep the key, cancel its deletion `
    + `(aws kms cancel-key-deletion --key-id ${keyArn}), enable it if it held material (aws kms enable-key --key-id ${keyArn}), then deploy again.`;
}
