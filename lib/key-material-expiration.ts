import { Duration } from 'aws-cdk-lib';
import { DEFAULT_RENEWAL_INTERVAL_SECONDS } from './shared/limits';

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
    // Checked by the key that uses it (limits, interval against validity), so the error names the key.
    const interval = options.renewalInterval ?? Duration.seconds(DEFAULT_RENEWAL_INTERVAL_SECONDS);
    return new KeyMaterialExpiration(undefined, validity, interval, options.renewalInterval === undefined);
  }

  private constructor(
    /** The expiration time in whole seconds, for a fixed expiration. */
    public readonly validTo?: Date,
    /** How long the material stays valid after each renewal, for a rolling expiration. */
    public readonly validity?: Duration,
    /** How often a rolling expiration is renewed. */
    public readonly renewalInterval?: Duration,
    intervalIsDefault = false,
  ) {
    this._renewalIntervalIsDefault = intervalIsDefault;
  }

  /**
   * Whether `renewalInterval` is the default (errors say so).
   * @internal
   */
  public readonly _renewalIntervalIsDefault: boolean;
}
