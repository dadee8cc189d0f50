/**
 * The steps that change a key, each with the retries that eventual consistency calls for, and
 * each failure mapped to a sentence (an ImportError that still carries the AWS error's name).
 */
import type { RotationsListEntry } from '@aws-sdk/client-kms';
import type { ResolvedImportProperties } from '../../lib/shared/contract';
import { toImportError } from '../errors/sentences';
import { IMPORT_RETRY_DELAYS_MS } from '../../lib/shared/limits';
import { Sleep } from './waits';
import { Clients, getParameters, ImportParameters, listMaterials, rotateOnDemand, sendImport } from './calls';
import { Expiration, ImportType } from '../decisions/expiration';

/** What every step of one Create or Update shares. */
export interface ImportContext {
  readonly clients: Clients;
  /** The key's properties, with the source of the material at hand. */
  readonly props: ResolvedImportProperties;
  readonly expiration: Expiration;
  /** The key may have been created moments ago, so KMS may not know it everywhere yet. */
  readonly keyMayBeNew: boolean;
  readonly wait: Sleep;
}

/**
 * The import. A token that expired in between is replaced once with a fresh one (and the material
 * wrapped again under its public key); a KMS host that has not seen the key yet is given a few
 * seconds, and so is a key policy that was just updated. Returns the KeyMaterialId KMS reports.
 */
export async function importWithRetries(ctx: ImportContext, material: Buffer, firstParameters: ImportParameters | undefined,
  importType: ImportType): Promise<string | undefined> {
  const { clients, props } = ctx;
  const step = importType === 'NEW_KEY_MATERIAL' ? 'import-new' : 'import';
  let parameters = firstParameters ?? await freshParameters(ctx);
  let refreshed = false;
  for (let retry = 0; ; ) {
    try {
      return await sendImport(clients, props, material, parameters, ctx.expiration, importType);
    } catch (error) {
      const name = (error as Error | undefined)?.name;
      if (name === 'ExpiredImportTokenException' && !refreshed) {
        refreshed = true;
        parameters = await freshParameters(ctx);
        continue;
      }
      // AccessDenied: the key policy's guardrails follow the configuration, so an update may have
      // just changed the statement that allows this very import.
      const settling = name === 'KMSInvalidStateException' || name === 'AccessDeniedException' || (name === 'NotFoundException' && ctx.keyMayBeNew);
      if (!settling || retry >= IMPORT_RETRY_DELAYS_MS.length) throw toImportError(error, step, props.KeyArn, props.SecretId);
      await ctx.wait(IMPORT_RETRY_DELAYS_MS[retry++]);
    }
  }
}

export async function freshParameters(ctx: ImportContext): Promise<ImportParameters> {
  return getParameters(ctx.clients, ctx.props).catch((e: unknown) => { throw toImportError(e, 'get-parameters', ctx.props.KeyArn, ctx.props.SecretId); });
}

/**
 * RotateKeyOnDemand, right after the new material was imported: a KMS host that has not seen the
 * pending material yet answers KMSInvalidStateException, and a key policy just updated to allow
 * rotation answers AccessDeniedException, for a few seconds.
 */
export async function rotateWithRetries(ctx: ImportContext): Promise<void> {
  for (let retry = 0; ; retry++) {
    try {
      return await rotateOnDemand(ctx.clients, ctx.props.KeyArn);
    } catch (error) {
      const name = (error as Error | undefined)?.name;
      const settling = name === 'KMSInvalidStateException' || name === 'AccessDeniedException';
      if (!settling || retry >= IMPORT_RETRY_DELAYS_MS.length) throw toImportError(error, 'rotate', ctx.props.KeyArn, ctx.props.SecretId);
      await ctx.wait(IMPORT_RETRY_DELAYS_MS[retry]);
    }
  }
}

/** Every material of the key (ListKeyRotations), or a sentence. */
export async function listMaterialsOrFail(ctx: ImportContext): Promise<RotationsListEntry[]> {
  return listMaterials(ctx.clients, ctx.props.KeyArn).catch((e: unknown) => { throw toImportError(e, 'list-materials', ctx.props.KeyArn, ctx.props.SecretId); });
}
