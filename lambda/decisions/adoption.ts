/**
 * Whether a key this stack did not create may be adopted (ImportedKeyMaterial), decided from what
 * KMS reports before anything is imported. Pure: no API calls. The proof itself (the secret's
 * material is the key's own) is operations/adopt.ts.
 */
import type { KeyMetadata, RotationsListEntry } from '@aws-sdk/client-kms';
import type { ResolvedImportProperties } from '../../lib/shared/contract';
import { IMPORTABLE_KEY_SPECS } from '../../lib/shared/key-spec-rules';
import { ADOPTION } from '../errors/sentences';

/** The key usage the deployment expects: the one given, or the key spec's default. */
export function expectedUsage(props: ResolvedImportProperties): string | undefined {
  return props.KeyUsage ?? IMPORTABLE_KEY_SPECS[props.KeySpec]?.usages[0];
}

/**
 * Why DescribeKey's view rules the key out, or undefined. On an Update (the rollback to a key
 * adopted before, or a deploy that names another key), a Disabled or PendingDeletion key is left to
 * the usual rules (decisions/plan.ts): it is skipped when it holds the requested expiration, so a
 * rollback never wedges on an operator's action.
 */
export function keyRefusal(props: ResolvedImportProperties, key: KeyMetadata, requestType: 'Create' | 'Update'): string | undefined {
  const arn = props.KeyArn;
  if (key.Origin !== 'EXTERNAL') return ADOPTION.origin(arn, key.Origin ?? 'unknown');
  if (key.KeySpec !== props.KeySpec) return ADOPTION.keySpec(arn, key.KeySpec ?? 'unknown', props.KeySpec);
  const usage = expectedUsage(props);
  if (usage !== undefined && key.KeyUsage !== usage) return ADOPTION.keyUsage(arn, key.KeyUsage ?? 'unknown', usage);
  if (requestType === 'Update' && (key.KeyState === 'Disabled' || key.KeyState === 'PendingDeletion')) return undefined;
  if (key.KeyState === 'Disabled') return ADOPTION.disabled(arn);
  if (key.KeyState === 'PendingDeletion') return ADOPTION.pendingDeletion(arn);
  if (key.KeyState !== 'Enabled' && key.KeyState !== 'PendingImport') return ADOPTION.otherState(arn, key.KeyState ?? 'in no state');
  return undefined;
}

/**
 * The key's materials (a symmetric key's ListKeyRotations), oldest first, checked against the
 * number the deployment lists: the material ids, or a refusal. A key that never held material
 * lists none.
 */
export function heldMaterials(props: ResolvedImportProperties, key: KeyMetadata, entries: RotationsListEntry[], listed: number): string[] | { refusal: string } {
  const arn = props.KeyArn;
  const pending = entries.find((entry) => entry.KeyMaterialState?.startsWith('PENDING'));
  if (pending) return { refusal: ADOPTION.pending(arn, pending.KeyMaterialId ?? 'unknown') };
  const ids = [...entries]
    .sort((a, b) => (a.RotationDate ? new Date(a.RotationDate).getTime() : 0) - (b.RotationDate ? new Date(b.RotationDate).getTime() : 0))
    .map((entry) => entry.KeyMaterialId ?? 'unknown');
  if (key.KeyState === 'PendingImport') return ids.length === 0 ? [] : { refusal: ADOPTION.lapsed(arn, ids) };
  // An emulator (or KMS in a partition without multiple materials) may list nothing for an Enabled key: the proof alone decides.
  if (ids.length > 0 && ids.length !== listed) return { refusal: ADOPTION.count(arn, ids, listed) };
  return ids;
}
