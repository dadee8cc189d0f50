import { Annotations, Duration, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { constructError } from './construct-error';
import type { KeyMaterialExpiration } from '../key-material-expiration';
import { MAX_VALIDITY_DAYS, MIN_RENEWAL_INTERVAL_SECONDS, RENEWALS_PER_VALIDITY } from '../shared/limits';

/**
 * Synth-time checks of a key's expiration, raised by the key that uses it (so each names its
 * construct). A value known only at deploy time (a token) is skipped: the handler checks it then.
 */
export function validateExpiration(scope: IConstruct, expiration: KeyMaterialExpiration, now: Date): void {
  if (expiration.validTo) validateFixed(scope, expiration.validTo, now);
  if (expiration.validity && expiration.renewalInterval) validateRolling(scope, expiration.validity, expiration.renewalInterval, expiration._renewalIntervalIsDefault);
}

function validateFixed(scope: IConstruct, validTo: Date, now: Date): void {
  if (validTo.getTime() <= now.getTime()) {
    // Not an error: the rest of the app must still synthesize, and a deploy of this key fails with a sentence.
    Annotations.of(scope).addWarningV2('imported-kms-key:expiration-passed', `expiration ${validTo.toISOString()} has passed, and KMS refuses to `
      + 'import a ValidTo in the past: a Create of this key fails, and an Update leaves the key with the material and expiration it holds. '
      + `Move the expiration forward (at most ${MAX_VALIDITY_DAYS} days ahead) and deploy, or use KeyMaterialExpiration.rolling().`);
    return;
  }
  const latest = new Date(now.getTime() + MAX_VALIDITY_DAYS * 86_400_000);
  if (validTo.getTime() > latest.getTime()) {
    throw constructError(scope, `expiration ${validTo.toISOString()} is more than ${MAX_VALIDITY_DAYS} days after now `
      + `(latest ${latest.toISOString()}); KMS rejects a later ValidTo. Choose an earlier date and move it forward with later deployments.`);
  }
}

function validateRolling(scope: IConstruct, validity: Duration, interval: Duration, intervalIsDefault: boolean): void {
  const rolling = 'KeyMaterialExpiration.rolling()';
  const intervalName = intervalIsDefault ? `the default renewalInterval ${interval.toHumanString()}` : `renewalInterval ${interval.toHumanString()}`;
  const validitySeconds = secondsOf(validity);
  const intervalSeconds = secondsOf(interval);
  if (validitySeconds !== undefined && validitySeconds > MAX_VALIDITY_DAYS * 86_400) {
    throw constructError(scope, `${rolling}: validity ${validity.toHumanString()} is longer than ${MAX_VALIDITY_DAYS} days, which KMS refuses. `
      + `Choose a validity of at most ${MAX_VALIDITY_DAYS} days.`);
  }
  if (intervalSeconds !== undefined && intervalSeconds < MIN_RENEWAL_INTERVAL_SECONDS) {
    throw constructError(scope, `${rolling}: ${intervalName} is shorter than 1 hour. Renew at most hourly.`);
  }
  if (validitySeconds !== undefined && intervalSeconds !== undefined && intervalSeconds * RENEWALS_PER_VALIDITY > validitySeconds) {
    throw constructError(scope, `${rolling}: ${intervalName} is more than a third of validity ${validity.toHumanString()}; `
      + `choose a ${intervalIsDefault ? 'renewalInterval' : 'shorter interval'} or a longer validity, so that two failed renewals in a row still leave the key usable.`);
  }
}

/** The duration in seconds, or undefined when it is known only at deploy time. */
export function secondsOf(duration: Duration): number | undefined {
  if (duration.isUnresolved()) return undefined;
  return duration.toSeconds();
}

/** The duration in whole seconds as the template carries it: a number, or a token that resolves to one. */
export function secondsProperty(scope: IConstruct, name: string, duration: Duration): string {
  const seconds = secondsOf(duration);
  if (seconds !== undefined) return String(seconds);
  try {
    return Token.asString(duration.toSeconds());
  } catch {
    // A token can be handed on only as it is, so it must already be in seconds.
    throw constructError(scope, `KeyMaterialExpiration.rolling(): a ${name} known only at deploy time must be given in seconds, `
      + `e.g. Duration.seconds(parameter.valueAsNumber); got ${duration.toHumanString()}.`);
  }
}
