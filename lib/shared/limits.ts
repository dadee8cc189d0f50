/**
 * Every limit and default that both the construct and the handler rely on, defined once. Pure
 * data: bundled into the handler, so it must not import aws-cdk-lib or constructs.
 */

/** The key spec of a key that names none. */
export const DEFAULT_KEY_SPEC = 'SYMMETRIC_DEFAULT';

/** The RSA wrapping key KMS generates for each import when none is chosen. */
export const DEFAULT_WRAPPING_KEY_SPEC = 'RSA_4096';

/** KMS accepts a ValidTo at most this many days ahead of the import. */
export const MAX_VALIDITY_DAYS = 365;

/** KMS's quota of on-demand rotations per key (older documentation says 10; the API reference says 25). */
export const MAX_ON_DEMAND_ROTATIONS = 25;

/**
 * Crypto-shred refuses to delete the material of a key KMS reports used (GetKeyLastUsage) within this
 * many seconds, unless the key sets another window (0 turns the check off).
 */
export const DEFAULT_SHRED_IF_UNUSED_FOR_SECONDS = 7 * 86_400;

/** KMS's limit on a key policy document, in characters (32 KB). */
export const KMS_KEY_POLICY_MAX_LENGTH = 32_768;

/** A rolling expiration's shortest renewal interval, and the one it gets when none is chosen. */
export const MIN_RENEWAL_INTERVAL_SECONDS = 3600;
export const DEFAULT_RENEWAL_INTERVAL_SECONDS = 86_400;
/** Renewals per validity at least: two can fail in a row before the material lapses. */
export const RENEWALS_PER_VALIDITY = 3;

/**
 * Waits between retries of the first round trip when it fails the way eventual consistency makes
 * it fail right after the key or the handler's permissions were created: KMS documents that a new
 * key may answer NotFoundException for a while, and new IAM or key policies take seconds to apply
 * (AccessDeniedException). About 55 s in all.
 */
export const CONSISTENCY_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000, 8000, 16000, 24000];

/**
 * Waits between retries of ImportKeyMaterial (and RotateKeyOnDemand) when KMS answers
 * NotFoundException or KMSInvalidStateException although DescribeKey just reported an importable
 * key: a KMS host that has not yet seen the new key. About 15 s in all.
 */
export const IMPORT_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000, 8000];

/**
 * Waits between DescribeKey reads after the import, until KMS reports the key Enabled with the
 * requested expiration. The first read is immediate; about 31 s in all.
 */
export const READY_RETRY_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000, 8000, 16000];

/**
 * Re-reads of a multi-Region primary's materials when it still lists the material a replica just
 * imported as PENDING_MULTI_REGION_IMPORT_AND_ROTATION: KMS's view across Regions is eventually
 * consistent, and only the last replica rotates. About 7 s in all.
 */
export const MULTI_REGION_SETTLE_DELAYS_MS: readonly number[] = [1000, 2000, 4000];

/** Time the SDK itself may spend on one call: 5 attempts, each with a 5 s connection timeout, plus backoff. */
export const SDK_MAX_ATTEMPTS = 5;
export const SDK_CONNECTION_TIMEOUT_MS = 5000;
export const SDK_CALL_BUDGET_MS = SDK_MAX_ATTEMPTS * SDK_CONNECTION_TIMEOUT_MS + 20000;

const sum = (delays: readonly number[]) => delays.reduce((a, b) => a + b, 0);

/**
 * The longest single path, a rotation: every schedule waiting out all its delays (the first round
 * trip, the NEW import, RotateKeyOnDemand, readiness, a replica's re-reads of its primary), plus one call per round trip spending the
 * SDK's whole budget, plus a minute to spare.
 */
export const LONGEST_PATH_MS = sum(CONSISTENCY_RETRY_DELAYS_MS) + 2 * sum(IMPORT_RETRY_DELAYS_MS) + sum(READY_RETRY_DELAYS_MS)
  + sum(MULTI_REGION_SETTLE_DELAYS_MS) + 4 * SDK_CALL_BUDGET_MS + 60_000;

/**
 * The handler's timeout: the longest path in whole minutes, and at least 10 minutes (room for
 * keys that re-import several materials). The Provider framework waits up to 15 minutes for it.
 */
export const HANDLER_TIMEOUT_SECONDS = Math.max(600, Math.ceil(LONGEST_PATH_MS / 60_000) * 60);

/** Offline wrapping: the largest upload the handler reads (an RSA_4096 wrap of a 2,500-byte PKCS#8 key is about 3 KB). */
export const MAX_WRAPPED_UPLOAD_BYTES = 16_384;
/** AES key wrap with padding (RFC 5649): an 8-byte integrity block, then the material padded to 8-byte semiblocks. */
export const AES_KWP_IV_BYTES = 8;
export const AES_KWP_SEMIBLOCK_BYTES = 8;

/** Offline wrapping: how long a parameter set lives (KMS: ParametersValidTo is 24 hours after GetParametersForImport). */
export const PARAMETER_SET_LIFETIME_SECONDS = 86_400;
/** Offline wrapping: how often the stack's sweep runs (refresh, requests missed, reminders). */
export const OFFLINE_SWEEP_INTERVAL_MINUTES = 60;
/**
 * Offline wrapping: the sweep publishes a fresh set for a key awaiting its ceremony when the freshest
 * has less than this left (and answers a request with the freshest set when it has at least this left).
 * Between one sweep interval and the set's lifetime minus one interval, or every run would publish.
 */
export const DEFAULT_REFRESH_BEFORE_SECONDS = 6 * 3600;
export const MIN_REFRESH_BEFORE_SECONDS = OFFLINE_SWEEP_INTERVAL_MINUTES * 60;
export const MAX_REFRESH_BEFORE_SECONDS = PARAMETER_SET_LIFETIME_SECONDS - OFFLINE_SWEEP_INTERVAL_MINUTES * 60;
/** Offline wrapping: the reminder runs from this long before the material's ValidTo, one event a day. */
export const DEFAULT_REMIND_BEFORE_SECONDS = 30 * 86_400;
export const MIN_REMIND_BEFORE_SECONDS = 86_400;
export const REMINDER_EVERY_SECONDS = 86_400;
/** Offline wrapping: a refresh request larger than this is refused unread (the CLI writes about 100 bytes). */
export const MAX_REFRESH_REQUEST_BYTES = 4096;
/** Offline wrapping: requests older than this are no longer answered (the sweep lists only newer ones). */
export const REFRESH_REQUEST_MAX_AGE_SECONDS = 7 * 86_400;
