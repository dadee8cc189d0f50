/**
 * The handler's waits. Each schedule is bounded; together they fit the handler's timeout with room
 * to spare (the construct test "the handler timeout covers every retry schedule" checks it).
 */

/**
 * Waits between retries of the first round trip when it fails the way eventual consistency makes
 * it fail right after the key or the handler's permissions were created: KMS documents that a new
 * key may answer NotFoundException for a while, and new IAM or key policies take seconds to apply
 * (AccessDeniedException). About 55 s in all.
 */
export const CONSISTENCY_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000, 8000, 16000, 24000];

/**
 * Waits between retries of ImportKeyMaterial when KMS answers NotFoundException or
 * KMSInvalidStateException although DescribeKey just reported an importable key: a KMS host that
 * has not yet seen the new key. About 15 s in all.
 */
export const IMPORT_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000, 8000];

/**
 * Waits between DescribeKey reads after the import, until KMS reports the key Enabled with the
 * requested expiration. The first read is immediate; about 31 s in all.
 */
export const READY_RETRY_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000, 8000, 16000];

/** Time the SDK itself may spend on one call: 5 attempts, each with a 5 s connection timeout, plus backoff. */
export const SDK_CALL_BUDGET_MS = 5 * 5000 + 20000;

export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms));
