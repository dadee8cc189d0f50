/**
 * The expiration a request asks for, and whether the key already holds it. Pure: no API calls.
 */
import type { KeyMetadata } from '@aws-sdk/client-kms';
import type { ImportProperties } from '../../lib/shared/contract';
import { MAX_VALIDITY_DAYS } from '../../lib/shared/limits';
import { ImportError } from '../errors/import-error';

/** NEW_KEY_MATERIAL, EXISTING_KEY_MATERIAL, or undefined to let KMS decide. */
export type ImportType = 'NEW_KEY_MATERIAL' | 'EXISTING_KEY_MATERIAL' | undefined;

/**
 * The expiration asked for: the ValidTo to import (whole seconds; undefined when the material never
 * expires), and the earliest ValidTo that already satisfies the request (a rolling expiration renewed
 * within its interval; the same as validTo otherwise).
 */
export interface Expiration {
  readonly validTo?: Date;
  readonly notBefore?: Date;
}

/**
 * The expiration to import, in whole seconds: a fixed ValidTo, `RollingValidity` seconds from now
 * (satisfied by material renewed within the last `RenewalInterval`, except on a renewal), or none;
 * 'passed' for a fixed ValidTo that is no longer in the future.
 */
export function requestedExpiration(props: ImportProperties, now: Date, renewal: boolean): Expiration | 'passed' {
  const { ValidTo, RollingValidity, RenewalInterval } = props;
  const wholeSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
  let validTo: Date;
  let notBefore: Date;
  if (RollingValidity) {
    validTo = wholeSeconds(now.getTime() + Number(RollingValidity) * 1000);
    notBefore = renewal ? validTo : new Date(validTo.getTime() - Number(RenewalInterval ?? 0) * 1000);
    if (Number.isNaN(validTo.getTime()) || Number.isNaN(notBefore.getTime())) {
      throw new ImportError(`RollingValidity '${RollingValidity}' / RenewalInterval '${RenewalInterval}' are not numbers of seconds. Use KeyMaterialExpiration.rolling(validity).`);
    }
  } else if (ValidTo) {
    const date = new Date(ValidTo);
    if (Number.isNaN(date.getTime())) throw new ImportError(`ValidTo '${ValidTo}' is not an ISO-8601 date. Use KeyMaterialExpiration.at(date).`);
    if (date.getTime() <= now.getTime()) return 'passed';
    validTo = notBefore = wholeSeconds(date.getTime());
  } else {
    return {};
  }
  if (validTo.getTime() - now.getTime() > MAX_VALIDITY_DAYS * 86_400_000) {
    throw new ImportError(`The expiration ${ValidTo ?? validTo.toISOString()} is more than ${MAX_VALIDITY_DAYS} days away, so KMS would refuse the import. Choose an earlier date and deploy again.`);
  }
  return { validTo, notBefore };
}

/** True when KMS reports the key's material with an expiration that satisfies the request (whole seconds). */
export function hasExpiration(key: KeyMetadata, expiration: Expiration): boolean {
  if (!expiration.validTo) return key.ExpirationModel === 'KEY_MATERIAL_DOES_NOT_EXPIRE';
  if (key.ExpirationModel !== 'KEY_MATERIAL_EXPIRES' || key.ValidTo === undefined) return false;
  const seconds = (date: Date) => Math.floor(new Date(date).getTime() / 1000);
  return seconds(key.ValidTo) >= seconds(expiration.notBefore ?? expiration.validTo) && seconds(key.ValidTo) <= seconds(expiration.validTo);
}
