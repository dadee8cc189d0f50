/**
 * How the handler waits between retries. The schedules themselves are in lib/shared/limits.ts,
 * where the construct derives the handler's timeout from them.
 */

export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms));
