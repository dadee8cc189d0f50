/**
 * Adoption (ImportedKeyMaterial): the first deploy that names a key this stack did not create
 * proves, before it changes anything, that the key may be managed. DescribeKey must say Origin
 * EXTERNAL, the expected key spec and usage, and a state a deploy may import into
 * (decisions/adoption.ts). Then either the key never held material (PendingImport, and for a
 * symmetric key ListKeyRotations lists nothing: the import that follows is its first), or every
 * listed material is the key's own: each is re-imported as EXISTING_KEY_MATERIAL, which KMS refuses
 * for any other material (IncorrectKeyMaterialException), and for a symmetric key KMS must answer
 * with the id of the material at that place. The current material is proven first, so the likeliest
 * mistake (a wrong secret) is refused before any import succeeds.
 */
import { forMaterial, materialDescription, materialSources } from '../../lib/shared/contract';
import { describeKey } from '../aws/calls';
import { ImportContext, importWithRetries, listMaterialsOrFail } from '../aws/retries';
import { heldMaterials, keyRefusal } from '../decisions/adoption';
import { ImportError } from '../errors/import-error';
import { ADOPTION, toImportError } from '../errors/sentences';
import { withMaterial } from './material-history';

/**
 * 'fresh': the key never held material; 'held': every listed material is the key's own and now has
 * the requested expiration; 'unproven': an Update found the key Disabled or PendingDeletion, which
 * the usual rules decide (skipped when it holds the requested expiration, refused otherwise).
 */
export type Adoption = 'fresh' | 'held' | 'unproven';

/** Proves that `ctx.props.KeyArn` may be adopted, or throws an ImportError that says what KMS holds and what to do. */
export async function proveAdoption(ctx: ImportContext, requestType: 'Create' | 'Update'): Promise<Adoption> {
  const { clients, props } = ctx;
  const arn = props.KeyArn;
  const key = await describeKey(clients, arn).catch((e: unknown) => { throw toImportError(e, 'describe-key', arn, props.SecretId); });
  const refusal = keyRefusal(props, key, requestType);
  if (refusal) throw new ImportError(refusal);
  if (key.KeyState !== 'Enabled' && key.KeyState !== 'PendingImport') return 'unproven';

  const sources = materialSources(props);
  const symmetric = props.KeySpec === 'SYMMETRIC_DEFAULT';
  // KMS lists the materials of symmetric keys only; an HMAC or asymmetric key holds one, its current.
  const held = symmetric ? heldMaterials(props, key, await listMaterialsOrFail(ctx), sources.length) : [];
  if (!Array.isArray(held)) throw new ImportError(held.refusal);
  if (key.KeyState === 'PendingImport') return 'fresh';

  const last = sources.length - 1;
  // The current material first, then the earlier ones oldest first.
  for (const i of [last, ...Array.from({ length: last }, (_, n) => n)]) {
    const source = sources[i];
    const at = { ...ctx, props: forMaterial(props, source) };
    const position = i === last ? 'its current material (keyMaterial)' : `its material number ${i + 1} (previousKeyMaterials[${i}])`;
    const wanted = i === last ? key.CurrentKeyMaterialId ?? held[i] : held[i];
    const got = await withMaterial(at, (material) => importWithRetries(at, material, undefined, symmetric ? 'EXISTING_KEY_MATERIAL' : undefined))
      .catch((e: unknown) => {
        if (e instanceof ImportError && e.code === 'IncorrectKeyMaterialException') {
          throw new ImportError(ADOPTION.wrongMaterial(arn, materialDescription(source), position), e.code);
        }
        throw e;
      });
    if (wanted !== undefined && got !== undefined && got !== wanted) {
      throw new ImportError(ADOPTION.otherMaterial(arn, materialDescription(source), position, got, wanted));
    }
  }
  return 'held';
}
