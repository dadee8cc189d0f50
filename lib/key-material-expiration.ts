/**
 * When the imported key material expires. KMS deletes expired material and the key becomes
 * unusable until the same material is imported again.
 */
export class KeyMaterialExpiration {
  /**
   * The material never expires (KEY_MATERIAL_DOES_NOT_EXPIRE).
   */
  public static never(): KeyMaterialExpiration {
    return new KeyMaterialExpiration(undefined);
  }

  /**
   * The material expires at `date` (KEY_MATERIAL_EXPIRES). KMS takes whole seconds, so any
   * milliseconds are dropped. KMS accepts at most 365 days ahead; changing the date re-imports
   * the same material into the same key.
   */
  public static at(date: Date): KeyMaterialExpiration {
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
      throw new Error(`KeyMaterialExpiration.at: expected a valid Date, got ${String(date)}.`);
    }
    return new KeyMaterialExpiration(new Date(Math.floor(date.getTime() / 1000) * 1000));
  }

  private constructor(
    /** The expiration time in whole seconds, or undefined when the material never expires. */
    public readonly validTo: Date | undefined,
  ) {}
}
