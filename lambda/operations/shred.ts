/**
 * Crypto-shred: when a key that opted in leaves the stack for good, delete every key material it
 * holds, so the key is unusable at once instead of after its 7 to 30 day deletion window.
 */
import { DeleteImportedKeyMaterialCommand } from '@aws-sdk/client-kms';
import type { ResolvedImportProperties } from '../../lib/shared/contract';
import { DEFAULT_SHRED_IF_UNUSED_FOR_SECONDS } from '../../lib/shared/limits';
import { shredRefusal } from '../decisions/shred-guard';
import { ImportError } from '../errors/import-error';
import { toImportError } from '../errors/sentences';
import { Clients, keyLastUsage, listMaterials } from '../aws/calls';

/**
 * Deletes every material of `props.KeyArn`; returns how many deletions KMS accepted. First asks KMS
 * when the key was last used, and refuses (deleting nothing) within the key's ShredIfUnusedFor
 * window. Throws only ImportError.
 */
export async function shred(clients: Clients, props: ResolvedImportProperties, now = new Date()): Promise<number> {
  const fail = (step: 'last-usage' | 'list-materials' | 'delete-material') => (error: unknown): never => { throw toImportError(error, step, props.KeyArn, props.SecretId); };
  const window = props.ShredIfUnusedFor === undefined ? DEFAULT_SHRED_IF_UNUSED_FOR_SECONDS : Number(props.ShredIfUnusedFor);
  if (window > 0) {
    // Only a key that is gone (NotFoundException) has nothing to shred; any other failure keeps the material.
    const usage = await keyLastUsage(clients, props.KeyArn).catch((error) => ((error as Error | undefined)?.name === 'NotFoundException' ? undefined : fail('last-usage')(error)));
    if (!usage) return 0;
    const refusal = shredRefusal(props.KeyArn, usage, window, now);
    if (refusal) throw new ImportError(refusal, 'KeyRecentlyUsed');
  }
  // Symmetric keys can hold several materials (rotations); the others hold one, the current.
  const ids = props.KeySpec === 'SYMMETRIC_DEFAULT' ? await materialIds(clients, props.KeyArn).catch(skipGone(fail('list-materials'))) : [undefined];
  let deleted = 0;
  for (const KeyMaterialId of ids ?? []) {
    try {
      await clients.kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: props.KeyArn, KeyMaterialId }));
      deleted++;
    } catch (error) {
      skipGone(fail('delete-material'))(error);
    }
  }
  return deleted;
}

/** Every key material of the key, the current one and any added by rotations, pending or not. */
async function materialIds(clients: Clients, keyArn: string): Promise<Array<string | undefined>> {
  const ids = (await listMaterials(clients, keyArn)).map((entry) => entry.KeyMaterialId);
  // A key that lists nothing still has its current material: delete it without an id.
  return ids.length > 0 ? ids : [undefined];
}

/**
 * Nothing left to shred is success: the key is gone (NotFoundException), or holds no such material
 * any more (KMSInvalidStateException: PendingImport). Anything else fails the Delete with a sentence.
 */
function skipGone(fail: (error: unknown) => never) {
  return (error: unknown): undefined => {
    const name = (error as Error | undefined)?.name;
    if (name === 'NotFoundException' || name === 'KMSInvalidStateException') return undefined;
    return fail(error);
  };
}
