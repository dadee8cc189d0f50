/**
 * `status --bucket --key` (offline wrapping, S3 only): what the bucket says about one key: its
 * complete parameter sets and how long the freshest has left, the uploads, the handler's latest
 * result, the refresh requests. It reads no KMS state (operators have no KMS permission); the key's
 * state is in the result. `status --stack|--all` (key-status.ts) adds this to what KMS says.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { OFFLINE_FOLDER, offlinePrefix } from '../lib/shared/contract';
import { report } from './output';
import { completeSets, hoursLeft, readSet } from './parameter-sets';
import { getObject, listKeys, regionOfArn, resolveKeyArn, s3Client } from './s3';
import type { ImportResult } from './upload';

export interface StatusOptions {
  readonly bucket: string;
  readonly key: string;
  readonly region?: string;
  readonly json: boolean;
}

/** What a key's prefix in the bucket holds. */
export interface OfflineSummary {
  readonly completeSets: number;
  readonly freshestSet?: string;
  readonly parametersValidTo?: string;
  /** Hours the freshest set has left (negative once lapsed), two decimals. */
  readonly hoursLeft?: number;
  readonly uploads: number;
  readonly latestUpload?: string;
  readonly requests: number;
  readonly latestRequest?: string;
  /** The handler's latest result (by its `at`). */
  readonly lastResult?: ImportResult;
}

export async function offlineSummary(s3: S3Client, bucket: string, keyArn: string): Promise<OfflineSummary> {
  const prefix = offlinePrefix(keyArn);
  const sets = await completeSets(s3, bucket, keyArn);
  const freshest = sets[0] ? (await readSet(s3, bucket, keyArn, sets[0])).manifest : undefined;
  const uploads = (await listKeys(s3, bucket, `${prefix}${OFFLINE_FOLDER.UPLOADS}`)).sort();
  const requests = (await listKeys(s3, bucket, `${prefix}${OFFLINE_FOLDER.REQUESTS}`)).sort();
  // results/<set>.json only: results/answers/ and results/reminders/ hold the sweep's answers and reminder records.
  const resultKeys = (await listKeys(s3, bucket, `${prefix}${OFFLINE_FOLDER.RESULTS}`))
    .filter((k) => k.endsWith('.json') && !k.slice(`${prefix}${OFFLINE_FOLDER.RESULTS}`.length).includes('/'));
  const results: ImportResult[] = [];
  for (const key of resultKeys) {
    try {
      results.push(JSON.parse((await getObject(s3, bucket, key))?.toString('utf8') ?? 'null') as ImportResult);
    } catch {
      // not a result object: ignored
    }
  }
  const left = freshest ? hoursLeft(freshest) : undefined;
  return {
    completeSets: sets.length, freshestSet: sets[0], parametersValidTo: freshest?.parametersValidTo,
    hoursLeft: left === undefined ? undefined : Number(left.toFixed(2)), uploads: uploads.length, latestUpload: uploads.at(-1),
    requests: requests.length, latestRequest: requests.at(-1),
    lastResult: results.filter(Boolean).sort((a, b) => String(a.at).localeCompare(String(b.at))).pop(),
  };
}

/** The freshest set in one phrase. */
export function freshestPhrase(summary: OfflineSummary): string {
  if (!summary.freshestSet) return 'no complete parameter set';
  return `freshest set ${summary.freshestSet} (${summary.completeSets} complete): ${summary.hoursLeft! > 0
    ? `valid until ${summary.parametersValidTo}, ${summary.hoursLeft!.toFixed(1)} hours left` : `lapsed at ${summary.parametersValidTo}`}`;
}

/** The handler's last result in one phrase. */
export function resultPhrase(last: ImportResult | undefined): string {
  return last ? `last result (${last.at}): ${last.outcome}: ${last.sentence}${last.keyMaterialId ? ` (KeyMaterialId ${last.keyMaterialId})` : ''}` : 'no result yet';
}

export async function status(options: StatusOptions): Promise<void> {
  const keyArn = await resolveKeyArn(options.key, options.region);
  const s3 = s3Client(options.region ?? regionOfArn(keyArn)!);
  try {
    const summary = await offlineSummary(s3, options.bucket, keyArn);
    report(options.json, { keyArn, bucket: options.bucket, ...summary }, [
      `Key ${keyArn} in s3://${options.bucket}/${offlinePrefix(keyArn)}`,
      `  ${freshestPhrase(summary)}`,
      `  ${summary.uploads} upload(s), ${summary.requests} refresh request(s)`,
      `  ${resultPhrase(summary.lastResult)}`,
    ]);
  } finally {
    s3.destroy();
  }
}
