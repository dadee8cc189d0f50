/**
 * Crypto-shred: when a key that opted in leaves the stack for good, delete every key material it
 * holds, so the key is unusable at once instead of after its 7 to 30 day deletion window.
 */
import { DeleteImportedKeyMaterialCommand } from '@aws-sdk/client-kms';
import type { ResolvedImportProperties } from '../../lib/shared/contract';
import { toImportError } from '../errors/sentences';
import { Clients, listMaterials } from '../aws/calls';

/** Deletes every material of `props.KeyArn`; returns how many deletions KMS accepted. Throws only ImportError. */
export async function shred(clients: Clients, props: ResolvedImportProperties): Promise<number> {
  const fail = (step: 'list-materials' | 'delete-material') => (error: unknown): never => { throw toImportError(error, step, props.KeyArn, props.SecretId); };
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
