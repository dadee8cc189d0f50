import { Duration } from 'aws-cdk-lib';

/** KMS accepts a ValidTo at most this far ahead of the import. */
export const MAX_VALIDITY_DAYS = 365;

/** Options of a rolling expiration. */
export interface RollingExpirationOptions {
  /**
   * How often the schedule renews the material (re-imports it with a ValidTo `validity` ahead).
   * At least one hour, and at most a third of the validity, so two renewals can fail in a row
   * before the material lapses.
   *
   * @default Duration.days(1)
   */
  readonly renewalInterval?: Duration;
}

/**
 * When the imported key material expires. KMS deletes expired material and the key becomes
 * unusable until the same material is imported again.
 */
export class KeyMaterialExpiration {
  /**
   * The material never expires (KEY_MATERIAL_DOES_NOT_EXPIRE).
   */
  public static never(): KeyMaterialExpiration {
    return new KeyMaterialExpiration();
  }

  /**
   * The material expires at `date` (KEY_MATERIAL_EXPIRES). KMS takes whole seconds, so any
   * milliseconds are dropped. KMS accepts at most 365 days ahead; changing the date re-imports
   * the same material into the same key.
   *
   * @param date when the material expires
   */
  public static at(date: Date): KeyMaterialExpiration {
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
      throw new Error(`KeyMaterialExpiration.at: expected a valid Date, got ${String(date)}.`);
    }
    return new KeyMaterialExpiration(new Date(Math.floor(date.getTime() / 1000) * 1000));
  }

  /**
   * The material always expires `validity` after its last renewal: a schedule in the stack
   * re-imports it every `renewalInterval` with a ValidTo `validity` ahead. If the renewals stop
   * (the schedule is removed, the stack deleted, the secret revoked), the key lapses within
   * `validity`: a dead man's switch that needs no one to remember a date.
   *
   * @param validity how long the material stays valid after each import or renewal
   * @param options how often the schedule renews the material
   */
  public static rolling(validity: Duration, options: RollingExpirationOptions = {}): KeyMaterialExpiration {
    const interval = options.renewalInterval ?? Duration.days(1);
    const [validitySeconds, intervalSeconds] = [validity.toSeconds(), interval.toSeconds()];
    if (validitySeconds > MAX_VALIDITY_DAYS * 86_400) {
      throw new Error(`KeyMaterialExpiration.rolling: validity ${validity.toHumanString()} is longer than ${MAX_VALIDITY_DAYS} days, which KMS refuses.`);
    }
    if (intervalSeconds < 3600) {
      throw new Error(`KeyMaterialExpiration.rolling: renewalInterval ${interval.toHumanString()} is shorter than 1 hour.`);
    }
    if (intervalSeconds * 3 > validitySeconds) {
      throw new Error(`KeyMaterialExpiration.rolling: renewalInterval ${interval.toHumanString()} is more than a third of validity ${validity.toHumanString()}; `
        + 'choose a shorter interval or a longer validity, so that two failed renewals in a row still leave the key usable.');
    }
    return new KeyMaterialExpiration(undefined, validity, interval);
  }

  private constructor(
    /** The expiration time in whole seconds, for a fixed expiration. */
    public readonly validTo?: Date,
    /** How long the material stays valid after each renewal, for a rolling expiration. */
    public readonly validity?: Duration,
    /** How often a rolling expiration is renewed. */
    public readonly renewalInterval?: Duration,
  ) {}
}
