/**
 * Readiness: CloudFormation hears SUCCESS only once KMS reports the key Enabled with the requested
 * expiration, so the aliases, grants and consumers created next never meet a key that KMS still
 * sees as PendingImport. One agreeing DescribeKey is enough (docs/how-it-works.md, "Readiness").
 */
import type { KeyMetadata } from '@aws-sdk/client-kms';
import type { ResolvedImportProperties } from '../../lib/shared/contract';
import { ImportError } from '../errors/import-error';
import { toImportError } from '../errors/sentences';
import { READY_RETRY_DELAYS_MS } from '../../lib/shared/limits';
import { Sleep } from './waits';
import { Clients, describeKey } from './calls';
import { Expiration, hasExpiration } from '../decisions/expiration';

/** With `materialId`, also waits until that material is the key's current one (after a rotation). */
export async function confirmReady(clients: Clients, props: ResolvedImportProperties, expiration: Expiration, wait: Sleep,
  materialId?: string): Promise<KeyMetadata> {
  for (let retry = 0; ; retry++) {
    const key = await describeKey(clients, props.KeyArn).catch((error: unknown) => { throw toImportError(error, 'describe-key', props.KeyArn, props.SecretId); });
    const current = materialId === undefined || key.CurrentKeyMaterialId === materialId;
    if (key.KeyState === 'Enabled' && hasExpiration(key, expiration) && current) return key;
    if (retry >= READY_RETRY_DELAYS_MS.length) {
      const waited = Math.round(READY_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) / 1000);
      const wanted = (expiration.validTo ? `expiring at ${expiration.validTo.toISOString()}` : 'never expiring')
        + (materialId === undefined ? '' : ` and current material ${materialId} (reported: ${key.CurrentKeyMaterialId ?? 'none'})`);
      throw new ImportError(`KMS accepted the material for key ${props.KeyArn}, but ${waited} s later DescribeKey still reports it ${key.KeyState ?? 'in no state'} `
        + `rather than Enabled with material ${wanted}. KMS is eventually consistent: retry the deployment, which imports only if the key still needs it.`);
    }
    await wait(READY_RETRY_DELAYS_MS[retry]);
  }
}
