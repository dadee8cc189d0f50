/**
 * Whether crypto-shred may delete a key's material now: only when KMS reports no use of the key
 * within the window the key set (GetKeyLastUsage). Pure: the caller asks KMS and passes the answer.
 */
import type { GetKeyLastUsageResponse } from '@aws-sdk/client-kms';

/** The sentence that refuses the shred, or undefined when the key went unused for `windowSeconds` (0: never refuse). */
export function shredRefusal(keyArn: string, usage: GetKeyLastUsageResponse, windowSeconds: number, now: Date): string | undefined {
  if (windowSeconds <= 0) return undefined;
  const since = now.getTime() - windowSeconds * 1000;
  const window = describeWindow(windowSeconds);
  const proceed = 'If nothing should use the key any more, wait until the window has passed and delete again, or delete the stack with '
    + '--retain-resources naming this import resource (the key is then scheduled for deletion with its material); see README, "Crypto-shred".';
  // KMS documents an empty KeyLastUsage (no Timestamp) as no use since TrackingStartDate.
  const used = usage.KeyLastUsage?.Timestamp;
  if (used && used.getTime() > since) {
    const event = usage.KeyLastUsage?.CloudTrailEventId ? `, CloudTrail event ${usage.KeyLastUsage.CloudTrailEventId}` : '';
    return `Refused to delete the key material of KMS key ${keyArn}: KMS reports it was used (${usage.KeyLastUsage?.Operation ?? 'a cryptographic operation'} `
      + `at ${used.toISOString()}${event}) within the last ${window} (shredIfUnusedFor), so the material stays in place. ${proceed}`;
  }
  // A key older than KMS's usage tracking may have been used in the part of the window before tracking began.
  const tracked = usage.TrackingStartDate;
  if (!used && tracked && tracked.getTime() > since && usage.KeyCreationDate && usage.KeyCreationDate.getTime() < tracked.getTime()) {
    return `Refused to delete the key material of KMS key ${keyArn}: KMS has tracked its use only since ${tracked.toISOString()}, `
      + `less than the ${window} it must have gone unused (shredIfUnusedFor), so the material stays in place. ${proceed}`;
  }
  return undefined;
}

function describeWindow(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? '' : 's'}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  return `${seconds} seconds`;
}
