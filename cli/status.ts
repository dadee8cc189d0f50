/**
 * `status` (offline wrapping, S3 only): what the bucket says about one key: its complete parameter
 * sets and how long the freshest has left, the uploads, the handler's latest result, the refresh
 * requests. It reads no KMS state (operators have no KMS permission); the key's state is in the result.
 */
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

export async function status(options: StatusOptions): Promise<void> {
  const keyArn = await resolveKeyArn(options.key, options.region);
  const s3 = s3Client(options.region ?? regionOfArn(keyArn)!);
  const prefix = offlinePrefix(keyArn);
  try {
    const sets = await completeSets(s3, options.bucket, keyArn);
    const freshest = sets[0] ? (await readSet(s3, options.bucket, keyArn, sets[0])).manifest : undefined;
    const uploads = (await listKeys(s3, options.bucket, `${prefix}${OFFLINE_FOLDER.UPLOADS}`)).sort();
    const requests = (await listKeys(s3, options.bucket, `${prefix}${OFFLINE_FOLDER.REQUESTS}`)).sort();
    // results/<set>.json only: results/answers/ and results/reminders/ hold the sweep's answers and reminder records.
    const resultKeys = (await listKeys(s3, options.bucket, `${prefix}${OFFLINE_FOLDER.RESULTS}`))
      .filter((k) => k.endsWith('.json') && !k.slice(`${prefix}${OFFLINE_FOLDER.RESULTS}`.length).includes('/'));
    const results: ImportResult[] = [];
    for (const key of resultKeys) {
      try {
        results.push(JSON.parse((await getObject(s3, options.bucket, key))?.toString('utf8') ?? 'null') as ImportResult);
      } catch {
        // not a result object: ignored
      }
    }
    const last = results.filter(Boolean).sort((a, b) => String(a.at).localeCompare(String(b.at))).pop();
    const left = freshest ? hoursLeft(freshest) : undefined;
    report(options.json, {
      keyArn, bucket: options.bucket, completeSets: sets.length, freshestSet: sets[0], parametersValidTo: freshest?.parametersValidTo,
      hoursLeft: left === undefined ? undefined : Number(left.toFixed(2)), uploads: uploads.length, latestUpload: uploads.at(-1),
      requests: requests.length, latestRequest: requests.at(-1), lastResult: last,
    }, [
      `Key ${keyArn} in s3://${options.bucket}/${prefix}`,
      freshest ? `  freshest set ${sets[0]} (${sets.length} complete): ${left! > 0 ? `valid until ${freshest.parametersValidTo}, ${left!.toFixed(1)} hours left` : `lapsed at ${freshest.parametersValidTo}`}`
        : '  no complete parameter set',
      `  ${uploads.length} upload(s), ${requests.length} refresh request(s)`,
      last ? `  last result (${last.at}): ${last.outcome}: ${last.sentence}${last.keyMaterialId ? ` (KeyMaterialId ${last.keyMaterialId})` : ''}` : '  no result yet',
    ]);
  } finally {
    s3.destroy();
  }
}
